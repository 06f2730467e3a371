"""The quiz contract: what the CLI prints, the graph stores, the UI shows and the database keeps.

Two layers, on purpose:

* **Generation-time** schemas are what a language model is constrained to write (Outlines output
  types). The model never chooses a letter: it writes (or picks) the correct answer and three
  distractors *as text* (:class:`QuestionDraft`), or it picks among numbered candidates
  (:class:`CandidatePick`).
* **Presented** schemas (:class:`MultipleChoiceQuestion`, :class:`Quiz`) are assembled by code:
  code places the correct answer at a balanced, seeded position among A-D and re-validates.

Every string is bounded (small models loop on unbounded strings) and every validator that a
grammar cannot express (distinct options, distinct questions) lives here, so that anything that
passes ``Quiz.model_validate`` is a usable quiz.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from schemas.knowledge import FactId
from schemas.text import first_duplicate, normalise

LETTERS: tuple[str, ...] = ("A", "B", "C", "D")
Letter = Literal["A", "B", "C", "D"]
PROMPT_VERSION = "quiz-v2"  # v2: no model plan pick, form pick or key re-check
DEFAULT_QUESTIONS = 10
MAX_QUESTIONS = 20

QuestionText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=300)]
OptionText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1200)]
TopicText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- generation-time


class QuestionDraft(_Strict):
    """What a model writes when it phrases a question freely (the "free" strategy).

    Code checks it, places ``correct_answer`` among the distractors and builds a
    :class:`MultipleChoiceQuestion`.
    """

    question: Annotated[str, StringConstraints(min_length=8, max_length=160)]
    correct_answer: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    distractors: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        min_length=3, max_length=3
    )
    explanation: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class CandidatePick(_Strict):
    """A constrained choice of one numbered candidate (1-based) from a list shown in the prompt."""

    choice: Literal[1, 2, 3, 4, 5, 6, 7, 8]


# --------------------------------------------------------------------------------- presented


class MultipleChoiceQuestion(_Strict):
    """One presented question: four distinct options, one correct letter, sourced."""

    question: QuestionText
    options: list[OptionText] = Field(min_length=4, max_length=4)
    answer: Letter
    explanation: LongText = ""
    concept: ShortText
    source: Annotated[str, StringConstraints(max_length=300)] | None = None
    fact_id: FactId | None = Field(default=None, description="stable id of the fact the question tests")

    @field_validator("options")
    @classmethod
    def _distinct_options(cls, options: list[str]) -> list[str]:
        if any(not normalise(o) for o in options):
            raise ValueError("an option is empty after removing punctuation")
        dup = first_duplicate(options)
        if dup:
            raise ValueError(f"options {LETTERS[dup[0]]} and {LETTERS[dup[1]]} are the same text")
        return options

    @model_validator(mode="after")
    def _option_is_not_question(self) -> "MultipleChoiceQuestion":
        stem = normalise(self.question)
        for letter, option in zip(LETTERS, self.options):
            if normalise(option) == stem:
                raise ValueError(f"option {letter} repeats the question")
        return self

    @property
    def correct_option(self) -> str:
        return self.options[LETTERS.index(self.answer)]


class QuizMeta(_Strict):
    """Provenance recorded with every quiz (so any quiz can be reproduced)."""

    quiz_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    model: Annotated[str, StringConstraints(max_length=300)]
    adapter: Annotated[str, StringConstraints(max_length=300)] | None = None
    seed: int
    prompt_version: str = PROMPT_VERSION
    strategy: Literal["template", "free", "mixed"] = "template"
    difficulty: Literal["easy", "medium", "hard"] = "medium"
    requested: int = Field(default=DEFAULT_QUESTIONS, ge=1, le=MAX_QUESTIONS)
    seconds: float = Field(default=0.0, ge=0)
    verified: int = Field(default=0, ge=0, description="questions whose key passed verification")
    sources: list[str] = Field(default_factory=list, max_length=60)


class Quiz(_Strict):
    """A quiz: the topic, 1..20 distinct questions (10 by default) and its metadata."""

    topic: TopicText
    questions: list[MultipleChoiceQuestion] = Field(min_length=1, max_length=MAX_QUESTIONS)
    meta: QuizMeta

    @field_validator("questions")
    @classmethod
    def _distinct_questions(cls, questions: list[MultipleChoiceQuestion]) -> list[MultipleChoiceQuestion]:
        dup = first_duplicate([q.question for q in questions])
        if dup:
            raise ValueError(f"questions {dup[0] + 1} and {dup[1] + 1} are the same text")
        return questions


class PlanItem(_Strict):
    """One planned sub-concept: a fact of a card (or a note chunk) that one question will test."""

    source: Annotated[str, StringConstraints(min_length=1, max_length=300)]  # "card:<id>" or "note:<id>#<n>"
    fact: int = Field(ge=0, description="index of the fact in the card (or sentence in the chunk)")
    concept: ShortText
    fact_id: FactId | None = Field(default=None, description="stable id of that fact (schemas.knowledge.Fact.id)")


class QuizPlan(_Strict):
    """The plan of a quiz: N distinct sub-concepts, spares for replacements, balanced key letters."""

    topic: TopicText
    meta: QuizMeta
    items: list[PlanItem] = Field(min_length=1, max_length=MAX_QUESTIONS)
    spares: list[PlanItem] = Field(default_factory=list, max_length=40)
    letters: list[Letter] = Field(min_length=1, max_length=MAX_QUESTIONS)
    widened_to: list[ShortText] = Field(
        default_factory=list, max_length=MAX_QUESTIONS,
        description="concepts beyond the best-matching card that the quiz uses (for the quiz intro)",
    )
    broad: bool = Field(default=False, description="the topic matched several cards about equally")

    @model_validator(mode="after")
    def _one_letter_per_item(self) -> "QuizPlan":
        if len(self.letters) != len(self.items):
            raise ValueError("one answer letter per planned question is needed")
        return self


# ---------------------------------------------------------------------------- answers/grades


class StudentAnswer(_Strict):
    """A student's answer to one question of one quiz (``quiz_id`` guards against stale clicks)."""

    quiz_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    index: int = Field(ge=0, lt=MAX_QUESTIONS)
    letter: Letter


class GradedAnswer(_Strict):
    """The grade for one answer: a deterministic letter comparison plus feedback text."""

    index: int = Field(ge=0, lt=MAX_QUESTIONS)
    question: QuestionText
    chosen: Letter
    correct: Letter
    is_correct: bool
    correct_option: OptionText
    chosen_option: OptionText
    explanation: LongText = ""
    concept: ShortText
    source: Annotated[str, StringConstraints(max_length=300)] | None = None
    fact_id: FactId | None = None
    feedback: LongText = ""


class QuizResult(_Strict):
    """The end of a quiz: score and per-question review, plus what to study next."""

    quiz_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    topic: TopicText
    score: int = Field(ge=0)
    total: int = Field(ge=1)
    graded: list[GradedAnswer]
    missed_concepts: list[ShortText] = Field(default_factory=list)
    study_next: list[ShortText] = Field(default_factory=list)

    @property
    def percent(self) -> float:
        return 100.0 * self.score / self.total


class Explanation(_Strict):
    """A free-text explanation and the knowledge it was grounded in."""

    topic: TopicText
    text: Annotated[str, StringConstraints(max_length=8000)]
    sources: list[str] = Field(default_factory=list)
