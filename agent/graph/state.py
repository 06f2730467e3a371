"""What the tutor graph remembers per chat thread, and what a student turn looks like.

Everything stored is plain JSON-able data: Pydantic payloads enter the state as ``model_dump()``
dicts (so the SQLite checkpointer stores them without pickling and a restarted server reads them
back unchanged). The active quiz lives under one key, ``quiz``, which ``plan_quiz`` and
``prepare_retry`` replace as a whole: a new quiz never inherits an earlier quiz's answers.

    quiz = {
        "quiz_id": "3f2a...", "topic": "overfitting", "total": 10,
        "plan": QuizPlan.model_dump() | None,        # None for a retry of missed questions
        "meta": QuizMeta.model_dump(),
        "questions": [MultipleChoiceQuestion.model_dump(), ...],   # written so far
        "answers": [GradedAnswer.model_dump(), ...],               # graded so far, in order
        "retry": False, "origin": "<button id>" | None, "started": 1732550000.0,
    }
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from schemas import DEFAULT_QUESTIONS, MAX_QUESTIONS, Letter

MAX_MESSAGE_CHARS = 2000

Intent = Literal["explain", "quiz", "new_quiz", "retry", "answer", "help", "other"]
Difficulty = Literal["easy", "medium", "hard"]


class Event(BaseModel):
    """One student turn: typed text, an answer button, or another button.

    ``kind="text"``: ``text`` is what was typed (slash commands included).
    ``kind="answer"``: ``quiz_id``/``index``/``letter`` come from an answer button.
    ``kind="action"``: ``action`` names a button ("quiz_on", "new_quiz", "retry"), ``text`` its topic,
    ``quiz_id`` the quiz a "retry" button belongs to, ``origin`` the button's identity (a second
    click on the same button finds its quiz already running instead of starting another).
    ``questions``/``difficulty`` are the chat settings at the time of the turn.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["text", "answer", "action"]
    text: Annotated[str, StringConstraints(max_length=MAX_MESSAGE_CHARS)] = ""
    action: Literal["quiz_on", "new_quiz", "retry"] | None = None
    quiz_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    index: int | None = Field(default=None, ge=0, lt=MAX_QUESTIONS)
    letter: Letter | None = None
    origin: Annotated[str, StringConstraints(max_length=64)] | None = None
    questions: int = Field(default=DEFAULT_QUESTIONS, ge=1, le=MAX_QUESTIONS)
    difficulty: Difficulty = "medium"


class TutorState(TypedDict, total=False):
    """The graph's channels (all JSON-able)."""

    event: dict[str, Any]  # the turn being handled (Event.model_dump())
    intent: Intent  # what ``understand`` made of it
    argument: str  # the topic / question text / letter that goes with the intent
    quiz: dict[str, Any] | None  # the active quiz (see module docstring), None when none
    last: dict[str, Any] | None  # the last finished quiz: {"quiz": Quiz dump, "result": QuizResult dump}
    explained: str | None  # title of the concept explained last (for "Quiz me on this")
    quizzes: int  # quizzes started in this thread (seeds differ from quiz to quiz)


# ----------------------------------------------------------------------------- quiz queries


def active_quiz(state: TutorState) -> dict[str, Any] | None:
    """The quiz in progress, or None (no quiz, or every question answered)."""
    quiz = state.get("quiz")
    if not quiz or len(quiz["answers"]) >= quiz["total"]:
        return None
    return quiz


def pending_index(state: TutorState) -> int | None:
    """Index of the question the student is (or will next be) asked, or None without a quiz."""
    quiz = active_quiz(state)
    return None if quiz is None else len(quiz["answers"])


def next_is_written(state: TutorState) -> bool:
    """Whether the question to ask next has been written already."""
    quiz = active_quiz(state)
    return quiz is not None and len(quiz["questions"]) > len(quiz["answers"])


def question_payload(quiz: dict[str, Any]) -> dict[str, Any]:
    """What ``present_question`` shows (and the app renders): one question with its position."""
    index = len(quiz["answers"])
    return {
        "kind": "question",
        "quiz_id": quiz["quiz_id"],
        "index": index,
        "total": quiz["total"],
        "topic": quiz["topic"],
        "retry": quiz.get("retry", False),
        "score": sum(1 for a in quiz["answers"] if a["is_correct"]),
        "question": quiz["questions"][index],
    }
