"""Check what the browser sends before it reaches the graph (pure; no Chainlit import).

Messages: control characters are removed, empty and huge messages are refused with a message.
Button payloads come back from the browser, so they are untrusted: anything that does not
validate becomes a one-line refusal, never an exception or a state change. What passes is a typed
turn (:data:`agent.graph.events.Turn`), validated here once and not again in the graph.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from agent.graph.events import MAX_MESSAGE_CHARS, TURN, ActionClick, AnswerClick, TextTurn
from schemas import DEFAULT_QUESTIONS, MAX_QUESTIONS
from schemas.text import strip_control

DIFFICULTIES = ("easy", "medium", "hard")
ACTIONS = ("answer", "quiz_on", "new_quiz", "retry")
INVALID_BUTTON = "That button is not valid any more. Use the buttons of the current question, or type /help."


def preferences(chat_settings: dict[str, Any] | None) -> dict[str, Any]:
    """Quiz length and difficulty from Chainlit's chat settings, clamped to what the tutor accepts."""
    chat_settings = chat_settings or {}
    try:
        questions = int(float(chat_settings.get("questions", DEFAULT_QUESTIONS)))
    except (TypeError, ValueError):
        questions = DEFAULT_QUESTIONS
    difficulty = chat_settings.get("difficulty")
    return {
        "questions": min(MAX_QUESTIONS, max(1, questions)),
        "difficulty": difficulty if difficulty in DIFFICULTIES else "medium",
    }


def event_from_message(text: str | None, command: str | None, chat_settings: dict | None) -> TextTurn | str:
    """The turn for a typed message (a command picked in Chainlit's menu arrives apart), or why not."""
    cleaned = strip_control(text or "")
    if command:
        name = strip_control(command).strip().lstrip("/")[:40]
        cleaned = f"/{name} {cleaned}".strip()
    if len(cleaned) > MAX_MESSAGE_CHARS:
        return (
            f"That message is {len(cleaned):,} characters long; please keep it under {MAX_MESSAGE_CHARS:,} "
            "characters (ask about one concept at a time)."
        )
    if not cleaned.strip():
        return "Please type a question, or a command such as `/quiz overfitting` or `/help`."
    return TextTurn(text=cleaned, **preferences(chat_settings))


def event_from_action(name: str, payload: Any, chat_settings: dict | None) -> AnswerClick | ActionClick | str:
    """The turn for a button click, or a refusal for a tampered or malformed payload."""
    if name not in ACTIONS or not isinstance(payload, dict):
        return INVALID_BUTTON
    if name == "answer":
        fields = {"kind": "answer", **{k: payload.get(k) for k in ("quiz_id", "index", "letter")}}
    else:
        topic = payload.get("topic", "")
        if not isinstance(topic, str):
            return INVALID_BUTTON
        fields = {"kind": "action", "action": name, "topic": " ".join(strip_control(topic).split())[:200],
                  "origin": payload.get("origin"), "quiz_id": payload.get("quiz_id")}
    try:  # unknown payload keys are dropped above; strict: "1" is not an index, 0.5 is not either
        return TURN.validate_python({**fields, **preferences(chat_settings)}, strict=True)
    except ValidationError:
        return INVALID_BUTTON
