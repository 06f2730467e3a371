"""The tutor graph's nodes (verbs). Each reads the state, does one thing, returns a state update.

What the student should see is written to LangGraph's custom stream (``runtime.stream_writer``)
as small dicts with a ``kind`` (see :mod:`agent.app.render`); the question itself is the value of
the ``interrupt()`` in :func:`present_question`. Model calls block, so they run in a worker
thread (``asyncio.to_thread``) and the server stays responsive.

Only ``present_question`` waits, and it generates nothing: on resume LangGraph re-runs a node
from its top, so all writing happens in ``write_question`` before it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import interrupt
from pydantic import ValidationError

from agent.grading import StaleAnswerError
from agent.grading import grade as grade_answer
from agent.grading import summarise as summarise_quiz
from agent.graph.context import TutorContext
from agent.graph.quizzes import finished_quiz, graded_answers, new_seed, retry_quiz, start_quiz
from agent.graph.routing import UNKNOWN_COMMAND, understand_event
from agent.graph.state import Event, TutorState, active_quiz, question_payload
from agent.quiz.planning import QuizUnavailable
from schemas import MultipleChoiceQuestion, Quiz, QuizPlan, StudentAnswer

log = logging.getLogger(__name__)
HELP = (
    "I can **explain** machine-learning concepts and **quiz** you on them.\n\n"
    "- `/explain TEXT` - an explanation grounded in my notes (or just ask a question)\n"
    "- `/quiz TOPIC` - a multiple-choice quiz; answer with the A-D buttons or by typing the letter\n"
    "- `/new [TOPIC]` - a fresh quiz (on the last topic if you name none)\n"
    "- `/retry` - the questions you missed in your last quiz\n"
    "- `/help` - this message\n\n"
    "The settings button next to the message box sets the number of questions and the difficulty."
)


def _say(runtime: Runtime[TutorContext], text: str, level: str = "info") -> None:
    runtime.stream_writer({"kind": "notice", "level": level, "text": text})


def _source_title(service, key: str | None) -> str:
    """A card title for ``card:<id>`` / ``<id>``, the note's path for ``note:...``, else the key."""
    if not key:
        return ""
    card = service.kb.cards.get(key.removeprefix("card:"))
    if card is not None:
        return card.title
    chunk = getattr(service.kb, "chunks", {}).get(key)
    return f"your notes: {chunk.path}" if chunk is not None else key


# ------------------------------------------------------------------------------- understand


async def understand(state: TutorState, runtime: Runtime[TutorContext]) -> dict[str, Any]:
    """Decide what the turn asks for (commands and buttons directly, free text via the classifier)."""
    try:
        event = Event.model_validate(state.get("event") or {})
    except ValidationError:
        return {"intent": "other", "argument": ""}
    intent, argument = await asyncio.to_thread(understand_event, event, runtime.context.classify)
    return {"intent": intent, "argument": argument}


# ---------------------------------------------------------------------------------- explain


async def explain(state: TutorState, runtime: Runtime[TutorContext]) -> dict[str, Any]:
    """Stream a grounded explanation piece by piece; remember its concept for "Quiz me on this"."""
    service = runtime.context.service
    text = state.get("argument", "").strip()
    if not text:
        _say(runtime, "What should I explain? For example: `/explain dropout`.")
        return {}
    stream = await asyncio.to_thread(service.explain, text)
    titles = [_source_title(service, s) for s in stream.sources]
    topic = next((_source_title(service, s) for s in stream.sources if s in service.kb.cards), None)
    runtime.stream_writer({"kind": "explanation_start", "question": text})
    pieces = iter(stream.pieces)
    try:
        while (piece := await asyncio.to_thread(next, pieces, None)) is not None:
            runtime.stream_writer({"kind": "explanation_piece", "text": piece})
    except Exception:  # the model failed mid-way: keep what was shown, say so, keep the state
        log.exception("explanation failed")
        runtime.stream_writer({"kind": "explanation_piece", "text": "\n\n(The explanation stopped early.)"})
    runtime.stream_writer(
        {"kind": "explanation_end", "sources": titles, "key_facts": list(stream.key_facts), "topic": topic,
         "origin": uuid.uuid4().hex}
    )
    return {"explained": topic}


# ------------------------------------------------------------------------------ quiz set-up


def _announce(runtime: Runtime[TutorContext], quiz: dict[str, Any], replaced: dict[str, Any] | None) -> None:
    if replaced is not None:
        _say(runtime, f"Your quiz on \"{replaced['topic']}\" was left unfinished; starting a new one.")
    runtime.stream_writer(
        {
            "kind": "quiz_started",
            "quiz_id": quiz["quiz_id"],
            "topic": quiz["topic"],
            "total": quiz["total"],
            "difficulty": quiz["meta"]["difficulty"],
            "retry": quiz["retry"],
        }
    )


def _origin(state: TutorState) -> str | None:
    return Event.model_validate(state["event"]).origin


def _already_started(state: TutorState, runtime: Runtime[TutorContext]) -> bool:
    """A second click on the button that started the running quiz: say so, start nothing."""
    quiz, origin = active_quiz(state), _origin(state)
    if quiz is None or origin is None or quiz.get("origin") != origin:
        return False
    _say(runtime, f"That quiz is already running: question {len(quiz['answers']) + 1} of {quiz['total']} is waiting.")
    return True


def _seed(state: TutorState, runtime: Runtime[TutorContext]) -> int:
    started = state.get("quizzes", 0)
    base = runtime.context.seed
    return base * 1000 + started if base is not None else new_seed(started)


async def plan_quiz(state: TutorState, runtime: Runtime[TutorContext]) -> dict[str, Any]:
    """Plan a new quiz (it replaces any quiz in progress); unknown topics get a helpful message."""
    if _already_started(state, runtime):
        return {}
    topic = state.get("argument", "").strip()
    if not topic and state.get("intent") == "new_quiz":
        previous = state.get("quiz") or (state.get("last") or {}).get("quiz")
        topic = previous["topic"] if previous else ""
    if not topic:
        topic = state.get("explained") or ""
    if not topic:
        _say(runtime, "Which topic should the quiz be on? For example: `/quiz overfitting`.")
        return {}
    event = Event.model_validate(state["event"])
    try:
        plan = await asyncio.to_thread(
            runtime.context.service.plan, topic, event.questions, _seed(state, runtime), event.difficulty
        )
    except QuizUnavailable as exc:
        _say(runtime, str(exc), "warning")
        return {}
    except Exception:  # e.g. the model's plan did not validate: nothing changes, the student may retry
        log.exception("planning failed")
        _say(runtime, f"I could not plan a quiz on \"{topic[:80]}\" this time; please try again.", "warning")
        return {}
    quiz = start_quiz(plan, _origin(state))
    runtime.context.cache.forget(runtime.context.thread_id)
    _announce(runtime, quiz, active_quiz(state))
    return {"quiz": quiz, "quizzes": state.get("quizzes", 0) + 1}


async def prepare_retry(state: TutorState, runtime: Runtime[TutorContext]) -> dict[str, Any]:
    """A quiz of the questions missed in the last finished quiz, options reshuffled."""
    if _already_started(state, runtime):
        return {}
    last = state.get("last")
    if not last:
        _say(runtime, "There is no finished quiz to retry yet. Start one with `/quiz TOPIC`.")
        return {}
    wanted = state.get("argument", "")
    if wanted and wanted != last["quiz"]["meta"]["quiz_id"]:
        _say(runtime, "That button belongs to an older quiz; `/retry` retries the questions missed in your last one.")
        return {}
    quiz = retry_quiz(last, _seed(state, runtime), _origin(state))
    if quiz is None:
        _say(runtime, "You answered every question of your last quiz correctly: nothing to retry. "
                      "Try `/new` for fresh questions.")
        return {}
    runtime.context.cache.forget(runtime.context.thread_id)
    _announce(runtime, quiz, active_quiz(state))
    return {"quiz": quiz, "quizzes": state.get("quizzes", 0) + 1}


# ------------------------------------------------------------------------------- questions


async def write_question(state: TutorState, runtime: Runtime[TutorContext]) -> dict[str, Any]:
    """Write the next question (taking it from the write-ahead cache when it is there)."""
    service, cache = runtime.context.service, runtime.context.cache
    quiz = dict(state["quiz"])
    index = len(quiz["questions"])
    plan = QuizPlan.model_validate(quiz["plan"])
    taken = [MultipleChoiceQuestion.model_validate(q) for q in quiz["questions"]]
    key = (runtime.context.thread_id, quiz["quiz_id"], index)
    try:
        written = await cache.get_or_write(key, lambda: service.write_question(plan, index, taken))
    except Exception as exc:  # QuizUnavailable, or a model failure: end the quiz with what is written
        if not isinstance(exc, QuizUnavailable):
            log.exception("writing question %d failed", index + 1)
        quiz["total"] = len(quiz["questions"])
        reason = str(exc) if isinstance(exc, QuizUnavailable) else f"I could not write question {index + 1}."
        ending = f" The quiz ends after {quiz['total']} questions." if quiz["total"] else ""
        _say(runtime, reason + ending, "warning")
        return {"quiz": quiz if quiz["total"] else None}
    provenance = {"strategy": written.strategy, "verified_by": written.verified_by, "attempts": written.attempts}
    quiz["questions"] = quiz["questions"] + [written.question.model_dump()]
    quiz["provenance"] = quiz.get("provenance", []) + [provenance]
    return {"quiz": quiz}


def present_question(state: TutorState) -> dict[str, Any]:
    """Show the pending question and wait for the student's next turn (no generation here)."""
    event = interrupt(question_payload(state["quiz"]))
    return {"event": event}


# ---------------------------------------------------------------------------- grade, review


def _answer(state: TutorState, quiz: dict[str, Any]) -> StudentAnswer | str:
    """The student's answer to check, or a message saying why the turn is not one."""
    event = Event.model_validate(state["event"])
    pending = len(quiz["answers"])
    if event.kind != "answer":
        letter = state.get("argument", "")
        if not letter:
            return "To answer, click one of the buttons A-D or type just the letter."
        return StudentAnswer(quiz_id=quiz["quiz_id"], index=pending, letter=letter)
    if event.quiz_id is None or event.index is None or event.letter is None:
        return "That button is not valid any more."
    if event.quiz_id != quiz["quiz_id"]:
        return f"That button belongs to an earlier quiz. Question {pending + 1} of the current quiz is waiting."
    if event.index < pending:
        return f"You already answered question {event.index + 1}; question {pending + 1} is waiting."
    if event.index > pending:
        return f"Question {event.index + 1} is not open yet; please answer question {pending + 1} first."
    return StudentAnswer(quiz_id=event.quiz_id, index=event.index, letter=event.letter)


async def grade(state: TutorState, runtime: Runtime[TutorContext]) -> dict[str, Any]:
    """Grade the answer by letter comparison (agent.grading) and give immediate feedback."""
    quiz = active_quiz(state)
    if quiz is None:
        _say(runtime, "There is no question waiting for an answer. Start a quiz with `/quiz TOPIC`.")
        return {}
    answer = _answer(state, quiz)
    if isinstance(answer, str):
        _say(runtime, answer, "warning")
        return {}
    written = Quiz.model_validate({"topic": quiz["topic"], "questions": quiz["questions"], "meta": quiz["meta"]})
    try:
        graded = grade_answer(written, answer)
    except StaleAnswerError as exc:
        _say(runtime, str(exc), "warning")
        return {}
    quiz = dict(quiz)
    quiz["answers"] = quiz["answers"] + [graded.model_dump()]
    runtime.stream_writer(
        {
            "kind": "feedback",
            "quiz_id": quiz["quiz_id"],
            "graded": graded.model_dump(),
            "total": quiz["total"],
            "score": sum(1 for a in quiz["answers"] if a["is_correct"]),
            "source_title": _source_title(runtime.context.service, graded.source),
        }
    )
    return {"quiz": quiz}


async def summarise(state: TutorState, runtime: Runtime[TutorContext]) -> dict[str, Any]:
    """Score, per-question review, missed concepts and what to study next; the quiz ends here."""
    quiz = state["quiz"]
    final = finished_quiz(quiz)
    result = summarise_quiz(final, graded_answers(quiz)[: len(final.questions)])
    runtime.context.cache.forget(runtime.context.thread_id)
    runtime.stream_writer({"kind": "summary", "result": result.model_dump(), "retry": quiz.get("retry", False)})
    return {"quiz": None, "last": {"quiz": final.model_dump(), "result": result.model_dump()}}


async def show_help(state: TutorState, runtime: Runtime[TutorContext]) -> dict[str, Any]:
    """Help text (also the reply to chit-chat and unknown commands)."""
    argument = state.get("argument", "")
    opening = ""
    if argument.startswith(UNKNOWN_COMMAND):
        opening = f"I don't know the command `{argument.removeprefix(UNKNOWN_COMMAND)}`.\n\n"
    elif state.get("intent") == "other":
        opening = "I'm your machine-learning tutor.\n\n" if argument else "Please type a question or a command.\n\n"
    quiz = active_quiz(state)
    waiting = f"\n\nQuestion {len(quiz['answers']) + 1} of {quiz['total']} is waiting for your answer." if quiz else ""
    runtime.stream_writer({"kind": "help", "text": opening + HELP + waiting})
    return {}
