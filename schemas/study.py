"""The study contract: what the tutor remembers per student and fact, and what progress looks like.

* :class:`AnswerRecord` - one graded answer, as stored and as exported (``--what history``).
* :class:`QuizRecord` - one quiz taken, with its result (``--what quizzes``).
* :class:`DueFact` - a fact whose review is due (``--what due``; the review quiz is built from these).
* :class:`Progress` - mastery per area and concept, due counts and answers per day (``tutor progress``).

Facts are named by their stable id (``schemas.knowledge.Fact.id``, carried by
``MultipleChoiceQuestion.fact_id``); a concept is a card.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from schemas.quiz import GradedAnswer, MultipleChoiceQuestion, Quiz, QuizResult

Rating = Literal["again", "hard", "good"]
UserName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Key = Annotated[str, StringConstraints(min_length=1, max_length=300)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FactRef(_Strict):
    """Which fact a question tests and where it belongs in the syllabus."""

    fact_id: Key
    card_id: Key | None = None  # the concept's card (None for a fact no card names)
    concept: Key
    area: Key
    source: Key | None = None  # "card:<id>" or "note:<id>#<n>"


class AnswerRecord(_Strict):
    """One graded answer of one student, with the rating it gave the fact's schedule."""

    user: UserName
    quiz_id: Key
    fact: FactRef
    answered_at: datetime
    rating: Rating
    retry: bool = False
    question: MultipleChoiceQuestion
    graded: GradedAnswer


class QuizRecord(_Strict):
    """One quiz a student took (answered at least in part)."""

    user: UserName
    taken_at: datetime
    quiz: Quiz
    result: QuizResult


class DueFact(_Strict):
    """A fact whose review is due now, with the question last asked about it."""

    fact: FactRef
    due: datetime
    overdue_days: float = Field(ge=0)
    recall: float = Field(ge=0, le=1, description="predicted probability of recalling it now (FSRS)")
    question: MultipleChoiceQuestion


class ConceptProgress(_Strict):
    card_id: Key | None
    concept: Key
    mastery: float | None = Field(ge=0, le=1, description="mean recall probability of the seen facts")
    seen: int = Field(ge=0)
    unseen: int = Field(ge=0, description="facts of the concept's card never asked")
    due: int = Field(ge=0)
    next_due: datetime | None = None


class AreaProgress(_Strict):
    area: Key
    mastery: float | None = Field(ge=0, le=1)
    seen: int = Field(ge=0)
    unseen: int = Field(ge=0, description="facts of every card in the area never asked")
    due: int = Field(ge=0)
    concepts: list[ConceptProgress]


class DayCount(_Strict):
    day: date
    answers: int = Field(ge=0)
    correct: int = Field(ge=0)


class Progress(_Strict):
    """A student's progress at ``now`` (what ``tutor progress --format json`` prints)."""

    user: UserName
    now: datetime
    answers: int = Field(ge=0)
    seen: int = Field(ge=0)
    due: int = Field(ge=0)
    mastery: float | None = Field(ge=0, le=1)
    areas: list[AreaProgress]
    days: list[DayCount]


class Export(_Strict):
    """The JSON export: one kind of item, in the schemas above."""

    what: Literal["quizzes", "history", "due", "quiz"]
    user: UserName | None = None
    exported_at: datetime
    quizzes: list[QuizRecord] = Field(default_factory=list)
    history: list[AnswerRecord] = Field(default_factory=list)
    due: list[DueFact] = Field(default_factory=list)
    quiz: Quiz | None = None
