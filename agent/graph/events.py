"""What crosses the boundary between the chat UI and the tutor graph: typed events, both ways.

In (one per student turn, built and validated once by :mod:`agent.app.inputs`):

    TextTurn      typed text (slash commands included)
    AnswerClick   an A-D button of a shown question
    ActionClick   "Quiz me on this", "New quiz", "Retry missed questions" or "Review due facts"

Out (what a turn shows, in order; the app renders each by its type, :mod:`agent.app.render`):

    Notice, ExplanationStart, ExplanationPiece, ExplanationEnd, QuizStarted, QuestionShown,
    Feedback, Summary, Help, ProgressReport (text + PNG), FileOffer (a download: Anki, Markdown, JSON)

Both unions are discriminated by ``kind`` (``Field(discriminator="kind")``), so a dict from the
browser or a checkpoint validates straight into the right class.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

from schemas import DEFAULT_QUESTIONS, MAX_QUESTIONS, GradedAnswer, Letter, MultipleChoiceQuestion, QuizResult
from schemas.turn import MAX_TOPIC_CHARS, Difficulty

MAX_MESSAGE_CHARS = 2000
Id = Annotated[str, StringConstraints(max_length=64)]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------------------- in


class _Turn(_Event):
    """A student turn; ``questions``/``difficulty`` are the chat settings at the time of the turn."""

    questions: int = Field(default=DEFAULT_QUESTIONS, ge=1, le=MAX_QUESTIONS)
    difficulty: Difficulty = "medium"


class TextTurn(_Turn):
    kind: Literal["text"] = "text"
    text: Annotated[str, StringConstraints(max_length=MAX_MESSAGE_CHARS)]


class AnswerClick(_Turn):
    kind: Literal["answer"] = "answer"
    quiz_id: Id
    index: int = Field(ge=0, lt=MAX_QUESTIONS)
    letter: Letter


class ActionClick(_Turn):
    """A button that starts something; ``origin`` is the button's identity (a second click on it finds
    its quiz already running), ``quiz_id`` the quiz a "retry" button belongs to."""

    kind: Literal["action"] = "action"
    action: Literal["quiz_on", "new_quiz", "retry", "review"]
    topic: Annotated[str, StringConstraints(max_length=MAX_TOPIC_CHARS)] = ""
    quiz_id: Id | None = None
    origin: Id | None = None


Turn = Annotated[TextTurn | AnswerClick | ActionClick, Field(discriminator="kind")]
TURN = TypeAdapter(Turn)


# -------------------------------------------------------------------------------------- out


class Notice(_Event):
    kind: Literal["notice"] = "notice"
    level: Literal["info", "warning", "error"] = "info"
    text: str


class ExplanationStart(_Event):
    kind: Literal["explanation_start"] = "explanation_start"
    question: str


class ExplanationPiece(_Event):
    kind: Literal["explanation_piece"] = "explanation_piece"
    text: str


class ExplanationEnd(_Event):
    """Key facts and sources; ``topic`` (a card title) and ``origin`` feed the "Quiz me on this" button."""

    kind: Literal["explanation_end"] = "explanation_end"
    sources: list[str] = Field(default_factory=list)
    key_facts: list[str] = Field(default_factory=list)
    topic: str | None = None
    origin: Id | None = None


class QuizStarted(_Event):
    kind: Literal["quiz_started"] = "quiz_started"
    quiz_id: Id
    topic: str
    total: int
    difficulty: Difficulty
    retry: bool = False
    note: str | None = None  # the plan went beyond the concept asked (a broad topic, or its facts ran out)


class QuestionShown(_Event):
    """One question with its position (also the value the graph waits on in ``present_question``)."""

    kind: Literal["question"] = "question"
    quiz_id: Id
    index: int
    total: int
    topic: str
    retry: bool = False
    score: int = 0
    question: MultipleChoiceQuestion


class Feedback(_Event):
    kind: Literal["feedback"] = "feedback"
    quiz_id: Id
    graded: GradedAnswer
    total: int
    score: int
    source_title: str = ""


class Summary(_Event):
    """A finished quiz; ``review_note`` names the weakest concepts and when each is next due ("" if
    nothing is recorded), ``review`` says it was a review of due facts (its button reviews again)."""

    kind: Literal["summary"] = "summary"
    result: QuizResult
    retry: bool = False
    review: bool = False
    review_note: str = ""


class Help(_Event):
    """Text written by the tutor itself (markdown on purpose): help, small talk, nothing due."""

    kind: Literal["help"] = "help"
    text: str


class ProgressReport(_Event):
    """The student's progress: the report as plain text (numbers) and the picture (PNG bytes)."""

    kind: Literal["progress"] = "progress"
    text: str
    png: bytes = Field(repr=False)


class FileOffer(_Event):
    """A file for the student to download (an export); ``label`` says what it is."""

    kind: Literal["file"] = "file"
    label: str
    filename: Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=r"^[\w.-]+$")]
    mime: str
    data: bytes = Field(repr=False)


Output = Annotated[
    Notice | ExplanationStart | ExplanationPiece | ExplanationEnd | QuizStarted | QuestionShown | Feedback | Summary
    | Help | ProgressReport | FileOffer,
    Field(discriminator="kind"),
]
OUTPUT = TypeAdapter(Output)
