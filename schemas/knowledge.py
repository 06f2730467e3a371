"""The knowledge contract: concept cards (curated, in ``knowledge/cards/*.yaml``) and note chunks.

A card teaches one concept. Each :class:`Fact` is atomic and carries everything a quiz question
needs, so that a small model never has to invent the key:

* ``statement`` - the fact as a full sentence (quoted in feedback; the source of truth).
* ``answer`` - the short correct option for the fact's question forms.
* ``questions`` - question forms written by a person whose answer is ``answer``.
* ``distractors`` - plausible wrong answers of the same kind as ``answer`` (most embody one of
  the card's misconceptions).

``misconceptions`` are false claims students commonly hold, with the correction. They give
"which statement is true?" questions (the fact's statement against false claims) and
feedback on wrong answers.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from schemas.text import first_duplicate, normalise

CardId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=60)]
Sentence = Annotated[str, StringConstraints(strip_whitespace=True, min_length=12, max_length=400)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Stem = Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=240)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Fact(_Strict):
    """One atomic, quiz-able fact."""

    statement: Sentence
    answer: Short
    questions: list[Stem] = Field(min_length=1, max_length=4)
    distractors: list[Short] = Field(min_length=3, max_length=6)

    @model_validator(mode="after")
    def _consistent(self) -> "Fact":
        dup = first_duplicate([self.answer, *self.distractors])
        if dup:
            raise ValueError(f"answer/distractors repeat each other: {dup}")
        if first_duplicate(self.questions):
            raise ValueError("duplicated question form")
        for q in self.questions:
            if normalise(self.answer) == normalise(q):
                raise ValueError("a question form equals the answer")
        return self


class Misconception(_Strict):
    """A false belief students hold, and why it is false."""

    claim: Sentence
    correction: Sentence


class ConceptCard(_Strict):
    """One concept of the syllabus, written by a person in their own words."""

    id: CardId
    title: Short
    area: Short = Field(description="syllabus area, e.g. 'evaluation metrics'")
    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=40, max_length=900)]
    keywords: list[Short] = Field(default_factory=list, max_length=12)
    facts: list[Fact] = Field(min_length=3, max_length=6)
    misconceptions: list[Misconception] = Field(min_length=2, max_length=3)
    related: list[CardId] = Field(default_factory=list, max_length=8)

    @field_validator("facts")
    @classmethod
    def _distinct_facts(cls, facts: list[Fact]) -> list[Fact]:
        if first_duplicate([f.statement for f in facts]):
            raise ValueError("duplicated fact statement")
        return facts

    @model_validator(mode="after")
    def _not_self_related(self) -> "ConceptCard":
        if self.id in self.related:
            raise ValueError(f"card {self.id} lists itself as related")
        return self


class NoteChunk(_Strict):
    """A chunk of a student's own notes, indexed beside the cards."""

    note_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    path: Annotated[str, StringConstraints(max_length=1000)]
    chunk: int = Field(ge=0)
    text: Annotated[str, StringConstraints(min_length=1, max_length=4000)]

    @property
    def source(self) -> str:
        return f"note:{self.note_id}#{self.chunk}"
