"""What the tutor graph remembers per chat thread: typed records, checkpointed by SQLite.

The active quiz is one :class:`ActiveQuiz` under the key ``quiz``, which ``plan_quiz`` and
``prepare_retry`` replace as a whole (a new quiz never inherits an earlier quiz's answers); nodes
update it with ``model_copy``. The checkpointer stores Pydantic values as their ``model_dump()``
plus the class name and rebuilds them on load (only the classes in :data:`CHECKPOINTED`; see
:mod:`agent.graph.checkpoint`), so a restarted server reads the same typed state back.

Per turn: ``event`` is the UI event (validated once, when the app built it), ``turn`` what it asks
for (:class:`schemas.turn.TurnRequest`), ``message`` the student's words that go with it (the
question an explanation answers) and ``note`` a line to show with the reply (an unknown command).
"""

from __future__ import annotations

import time
from typing import Annotated, TypedDict

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from agent.graph.events import ActionClick, AnswerClick, QuestionShown, TextTurn, Turn
from schemas import GradedAnswer, MultipleChoiceQuestion, Quiz, QuizMeta, QuizPlan, QuizResult
from schemas.turn import TurnRequest


class Provenance(BaseModel):
    """How one question of a quiz was made (for the quiz metadata)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    strategy: str
    verified_by: str = ""  # "lexical", "model", "retry" or "" (not verified)
    attempts: int = Field(default=0, ge=0)


class ActiveQuiz(BaseModel):
    """The quiz in progress: its plan, the questions written so far and the answers graded so far."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    quiz_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    topic: str
    total: int = Field(ge=0)  # may shrink when a question cannot be written
    plan: QuizPlan | None  # None for a retry of missed questions (its questions are all written)
    meta: QuizMeta
    questions: list[MultipleChoiceQuestion] = Field(default_factory=list)
    provenance: list[Provenance] = Field(default_factory=list)  # one per written question
    answers: list[GradedAnswer] = Field(default_factory=list)  # in question order
    retry: bool = False
    origin: str | None = None  # the button that started it (a second click starts nothing)
    started: float = Field(default_factory=time.time)

    @property
    def pending(self) -> int:
        """Index of the question asked next."""
        return len(self.answers)

    @property
    def finished(self) -> bool:
        return len(self.answers) >= self.total

    @property
    def score(self) -> int:
        return sum(1 for a in self.answers if a.is_correct)

    def written_ahead(self) -> bool:
        """Whether the question to ask next has been written already."""
        return not self.finished and len(self.questions) > len(self.answers)


class LastQuiz(BaseModel):
    """The last finished quiz and its result (what "retry" and "new quiz on the same topic" use)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    quiz: Quiz
    result: QuizResult


class TutorState(TypedDict, total=False):
    """The graph's channels."""

    event: Turn  # the UI event being handled
    turn: TurnRequest  # what ``understand`` made of it
    message: str  # the student's words that go with the turn ("" for buttons)
    note: str | None  # a line to show with the reply (e.g. an unknown command), else None
    quiz: ActiveQuiz | None  # the active quiz, None when none
    last: LastQuiz | None  # the last finished quiz
    explained: str | None  # title of the concept explained last (for "Quiz me on this")
    quizzes: int  # quizzes started in this thread (seeds differ from quiz to quiz)


# Classes the checkpointer may rebuild from a checkpoint (anything else stays a plain dict).
CHECKPOINTED: tuple[type[BaseModel], ...] = (
    TextTurn, AnswerClick, ActionClick, TurnRequest, ActiveQuiz, LastQuiz, QuestionShown,
)


# ----------------------------------------------------------------------------- quiz queries


def active_quiz(state: TutorState) -> ActiveQuiz | None:
    """The quiz in progress, or None (no quiz, or every question answered)."""
    quiz = state.get("quiz")
    return None if quiz is None or quiz.finished else quiz


def waiting_question(state: TutorState) -> QuestionShown | None:
    """The question the student is asked now (written, not yet answered), or None."""
    quiz = active_quiz(state)
    return question_shown(quiz) if quiz is not None and quiz.written_ahead() else None


def question_shown(quiz: ActiveQuiz) -> QuestionShown:
    """What ``present_question`` shows (and the app renders): the pending question with its position."""
    return QuestionShown(
        quiz_id=quiz.quiz_id, index=quiz.pending, total=quiz.total, topic=quiz.topic, retry=quiz.retry,
        score=quiz.score, question=quiz.questions[quiz.pending],
    )

