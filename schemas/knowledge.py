"""The knowledge contract: concept cards (curated, in ``knowledge/cards/*.yaml``) and note chunks.

A card teaches one concept. Each :class:`Fact` is atomic and carries everything a quiz question
needs, so that a small model never has to invent the key:

* ``id`` - a stable id, ``<card-id>.<slug>``, written once into the YAML and never changed: stored
  answers and review schedules refer to it (see ``knowledge/data/fact_ids.txt``). Facts drawn from
  a student's notes get ``note-<hash of the chunk text>.s<sentence>`` (:func:`note_fact_id`).
* ``kind`` and ``difficulty`` - what the item asks of a student (recall ... scenario) and how hard it is.
* ``statement`` - the fact as a full sentence (quoted in feedback; the source of truth).
* ``answer`` - the short correct option for the fact's question forms.
* ``questions`` - question forms written by a person whose answer is ``answer``.
* ``distractors`` - plausible wrong answers of the same kind as ``answer`` (most embody one of
  the card's misconceptions).

``references`` name the published sources a card's facts were checked against (required of
cards with ten or more facts by ``tests/unit/test_cards.py``).

``misconceptions`` are false claims students commonly hold, with the correction. They give
"which statement is true?" questions (the fact's statement against false claims) and
feedback on wrong answers.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from schemas.text import first_duplicate, normalise

CardId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=60)]
Sentence = Annotated[str, StringConstraints(strip_whitespace=True, min_length=12, max_length=400)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Stem = Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=240)]
FACT_ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*\.[a-z0-9]+(-[a-z0-9]+)*$"
FactId = Annotated[str, StringConstraints(pattern=FACT_ID_PATTERN, max_length=110)]
ItemKind = Literal["recall", "understanding", "application", "computation", "scenario"]
Difficulty = Literal["easy", "medium", "hard"]
NOTE_FACT_PREFIX = "note-"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Fact(_Strict):
    """One atomic, quiz-able fact."""

    id: FactId
    kind: ItemKind | None = None
    difficulty: Difficulty | None = None
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
    facts: list[Fact] = Field(min_length=3, max_length=16)
    misconceptions: list[Misconception] = Field(min_length=2, max_length=3)
    related: list[CardId] = Field(default_factory=list, max_length=8)
    references: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=200)]] = Field(
        default_factory=list, max_length=8, description="published sources the facts were checked against"
    )

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

    @model_validator(mode="after")
    def _fact_ids_belong_to_card(self) -> "ConceptCard":
        # The card prefix makes ids unique across cards once card ids are unique.
        if self.id.startswith(NOTE_FACT_PREFIX):
            raise ValueError(f"card id {self.id} starts with '{NOTE_FACT_PREFIX}', reserved for facts from notes")
        for fact in self.facts:
            if not fact.id.startswith(f"{self.id}."):
                raise ValueError(f"fact id {fact.id} does not start with its card id '{self.id}.'")
        ids = [f.id for f in self.facts]
        if len(set(ids)) != len(ids):
            raise ValueError(f"card {self.id} repeats a fact id")
        return self


def note_fact_id(chunk_text: str, sentence: int) -> str:
    """The stable id of sentence ``sentence`` of a note chunk: same text, same id, wherever the file lives."""
    digest = hashlib.sha256(chunk_text.encode("utf-8")).hexdigest()[:12]
    return f"{NOTE_FACT_PREFIX}{digest}.s{sentence}"


class NoteChunk(_Strict):
    """A chunk of a student's own notes, indexed beside the cards."""

    note_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    path: Annotated[str, StringConstraints(max_length=1000)]
    chunk: int = Field(ge=0)
    text: Annotated[str, StringConstraints(min_length=1, max_length=4000)]

    @property
    def source(self) -> str:
        return f"note:{self.note_id}#{self.chunk}"

    def fact_id(self, sentence: int) -> str:
        """The stable fact id of sentence ``sentence`` of this chunk (see :func:`note_fact_id`)."""
        return note_fact_id(self.text, sentence)
