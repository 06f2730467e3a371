"""What a student's chat turn asks for: the one typed channel from a turn to the tutor graph.

One intent vocabulary for the whole project (reader, graph, evaluation, training rows):

    explain    explain a concept or answer a question about one
    quiz       start a quiz (``same_topic``: "another one on the same topic")
    answer     answer the waiting question (``letter``, or the option's words in the text)
    retry      re-ask the questions missed in the last quiz
    review     a quiz of the facts due for review
    progress   show what the student has mastered
    export     export quizzes or history (Anki, Markdown, JSON)
    help       what the tutor can do / how to use it
    smalltalk  greetings, thanks, chit-chat

``topic`` is always a span of the student's own message (the reader cuts it from word positions;
it cannot invent one), or None.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from schemas.quiz import MAX_QUESTIONS, Letter

Intent = Literal["explain", "quiz", "answer", "retry", "review", "progress", "export", "help", "smalltalk"]
INTENTS: tuple[str, ...] = Intent.__args__  # type: ignore[attr-defined]
Difficulty = Literal["easy", "medium", "hard"]
Source = Literal["cards", "notes", "any"]
MAX_TOPIC_CHARS = 200


class TurnRequest(BaseModel):
    """One student turn, read: what it asks for and the details it gives (None: not said)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    intent: Intent
    topic: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TOPIC_CHARS)] | None = (
        None
    )
    same_topic: bool = False
    source: Source = "any"
    questions: int | None = Field(default=None, ge=1, le=MAX_QUESTIONS)
    difficulty: Difficulty | None = None
    letter: Letter | None = None
