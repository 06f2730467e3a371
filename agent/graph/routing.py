"""A student's turn -> :class:`TurnRequest`, and the routers that pick the next node (pure; no I/O).

Buttons, slash commands and a lone letter A-D map to a request deterministically; other free text
goes to the turn reader (interface A) with the waiting question's options, if one waits.

    /quiz TOPIC      a quiz on TOPIC (length and difficulty: the chat settings)
    /explain TEXT    a grounded explanation of TEXT
    /new [TOPIC]     a fresh quiz on TOPIC, or on the last quiz's topic (same_topic)
    /retry           the questions missed in the last quiz, options reshuffled
    /review          a quiz of the facts due for review now (agent.study)
    /progress        mastery per concept, due counts, answers over time (text + picture)
    /export [WHAT] [FORMAT]   the student's history (or quizzes, due) as anki (default), markdown or json
    /help            what the tutor can do
    /anything-else   help, opening with "I don't know the command ..."
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal, NamedTuple

from agent.graph.context import TurnReader
from agent.graph.events import ActionClick, AnswerClick, TextTurn, Turn
from agent.graph.state import TutorState, active_quiz
from schemas import LETTERS
from schemas.turn import MAX_TOPIC_CHARS, TurnRequest

log = logging.getLogger(__name__)
COMMANDS = ("quiz", "explain", "new", "retry", "review", "progress", "export", "help")
ExportFormat = Literal["anki", "markdown", "json"]
ExportWhat = Literal["history", "quizzes", "due"]
_FORMAT_WORDS: dict[str, ExportFormat] = {"anki": "anki", "apkg": "anki", "deck": "anki", "markdown": "markdown",
                                          "md": "markdown", "print": "markdown", "json": "json"}
_WHAT_WORDS: dict[str, ExportWhat] = {"history": "history", "answers": "history", "quizzes": "quizzes",
                                      "quiz": "quizzes", "due": "due"}


class Understood(NamedTuple):
    """What a turn asks for, the words that go with it (an explanation's question) and a note to show."""

    turn: TurnRequest
    message: str = ""
    note: str | None = None


def topic_of(text: str) -> str | None:
    """A command's or button's topic: whitespace-normalised, clipped to what a request holds, or None."""
    return " ".join(text.split())[:MAX_TOPIC_CHARS].strip() or None


def parse_command(text: str) -> Understood | None:
    """The request of a slash command (``"/quiz overfitting"``); None for text that is not one.

    An unknown command is help with a note, so the student learns the commands instead of getting
    an explanation of "/qiuz".
    """
    stripped = text.strip()
    if not stripped.startswith("/"):
        return None
    parts = stripped[1:].split(maxsplit=1)
    name = "".join(ch for ch in (parts[0].casefold() if parts else "") if ch.isalnum() or ch in "-_")
    argument = " ".join(parts[1].split()) if len(parts) > 1 else ""
    if name == "quiz":
        return Understood(TurnRequest(intent="quiz", topic=topic_of(argument)), argument)
    if name == "new":
        topic = topic_of(argument)
        return Understood(TurnRequest(intent="quiz", topic=topic, same_topic=topic is None), argument)
    if name == "explain":  # the reader is not asked: the whole argument is the question
        return Understood(TurnRequest(intent="explain"), argument)
    if name in ("retry", "help", "review", "progress"):
        return Understood(TurnRequest(intent=name))
    if name == "export":  # the argument ("markdown", "due json") stays in the message
        return Understood(TurnRequest(intent="export"), argument)
    return Understood(TurnRequest(intent="help"), note=f"I don't know the command `/{name[:40]}`.")


def single_letter(text: str) -> str | None:
    """``"B"`` for "b", " B. " or "(c)"; None for anything longer than one option letter."""
    core = text.strip().strip(".)(:!").strip().upper()
    return core if core in LETTERS else None


def from_click(event: AnswerClick | ActionClick) -> Understood:
    """The request of a button click (its details stay on the event: quiz id, index, origin)."""
    if isinstance(event, AnswerClick):
        return Understood(TurnRequest(intent="answer", letter=event.letter))
    if event.action in ("retry", "review"):
        return Understood(TurnRequest(intent=event.action))
    topic = topic_of(event.topic)
    return Understood(TurnRequest(intent="quiz", topic=topic, same_topic=event.action == "new_quiz" and not topic))


def understand_directly(event: Turn) -> Understood | None:
    """What a turn asks for when no reader is needed (buttons, commands, a lone letter, empty text), else None."""
    if not isinstance(event, TextTurn):
        return from_click(event)
    text = " ".join(event.text.split())
    if not text:
        return Understood(TurnRequest(intent="help"), note="Please type a question or a command.")
    command = parse_command(text)
    if command is not None:
        return command
    letter = single_letter(text)
    if letter:  # a lone A-D is an answer, no reader needed (``grade`` says so if no question waits)
        return Understood(TurnRequest(intent="answer", letter=letter), text)
    return None


def understand_turn(event: Turn, read_turn: TurnReader, options: Sequence[str] | None) -> Understood:
    """What one turn asks for; only free text reaches ``read_turn`` (a model call, so it blocks)."""
    direct = understand_directly(event)
    if direct is not None:
        return direct
    text = " ".join(event.text.split())
    try:
        turn = read_turn(text, options)
    except Exception:  # the reader promises not to raise; a bug there must not lose the turn
        log.exception("the turn reader failed")
        turn = TurnRequest(intent="explain")
    return Understood(turn, text)


def export_request(message: str) -> tuple[ExportWhat, ExportFormat]:
    """What to export and in which format, from the words of ``/export ...`` or a free-text request
    ("export my answers as markdown"); the history as an Anki deck unless a word says otherwise."""
    words = [w.strip(".,!?:;'\"()").casefold() for w in message.split()]
    fmt = next((_FORMAT_WORDS[w] for w in words if w in _FORMAT_WORDS), "anki")
    what = next((_WHAT_WORDS[w] for w in words if w in _WHAT_WORDS), "history")
    return what, fmt


# ----------------------------------------------------------------------------------- routers

Handler = Literal[
    "explain", "plan_quiz", "prepare_retry", "grade", "show_help", "reply", "plan_review", "show_progress",
    "export_history",
]
HANDLERS: dict[str, Handler] = {
    "explain": "explain",
    "quiz": "plan_quiz",
    "retry": "prepare_retry",
    "answer": "grade",
    "help": "show_help",
    "smalltalk": "reply",
    "review": "plan_review",
    "progress": "show_progress",
    "export": "export_history",
}


def route_intent(state: TutorState) -> Handler:
    """After ``understand``: the node that handles the request's intent."""
    turn = state.get("turn")
    return HANDLERS[turn.intent] if turn is not None else "show_help"


def route_next(state: TutorState) -> Literal["write_question", "present_question", "summarise", "__end__"]:
    """After any handler: continue the quiz if one is active, summarise a finished one, else stop."""
    quiz = state.get("quiz")
    if quiz is not None and quiz.total and quiz.finished:
        return "summarise"
    if active_quiz(state) is None:
        return "__end__"
    return "present_question" if quiz.written_ahead() else "write_question"
