"""The tutor graph's nodes (verbs). Each reads the state, does one thing, returns a state update.

What the student should see is written to LangGraph's custom stream (``runtime.stream_writer``)
as typed events (:mod:`agent.graph.events`); the question itself is the value of the
``interrupt()`` in :func:`present_question`. Model calls block, so they run in a worker thread
(``asyncio.to_thread``) and the server stays responsive.

Only ``present_question`` waits, and it generates nothing: the run stops in its interrupt and the
next turn starts a new run (:mod:`agent.graph.runner`), so all writing happens in ``write_question`` before it.
Nodes and routers are coroutines: LangGraph runs a plain function in the thread pool.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from agent.grading import StaleAnswerError
from agent.grading import grade as grade_answer
from agent.grading import summarise as summarise_quiz
from agent.graph import replies, study_nodes
from agent.graph.context import TutorContext
from agent.graph.events import (
    ActionClick, AnswerClick, ExplanationEnd, ExplanationPiece, ExplanationStart, Feedback, Help, Notice,
    QuizStarted, Summary,
)
from agent.graph.quizzes import finished_quiz, new_seed, retry_quiz, start_quiz
from agent.graph.routing import understand_directly, understand_turn
from agent.graph.state import (
    ActiveQuiz, LastQuiz, Provenance, TutorState, active_quiz, question_shown, waiting_question,
)
from agent.quiz.planning import QuizUnavailable, intro_note
from schemas import Quiz, StudentAnswer

log = logging.getLogger(__name__)
Update = dict[str, Any]


def _say(runtime: Runtime[TutorContext], text: str, level: str = "info") -> None:
    runtime.stream_writer(Notice(level=level, text=text))


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


async def understand(state: TutorState, runtime: Runtime[TutorContext]) -> Update:
    """Read the turn into a TurnRequest (buttons and commands directly, free text via the reader)."""
    understood = understand_directly(state["event"])
    if understood is None:  # free text: the reader may call the model, so it runs in a worker thread
        waiting = waiting_question(state)
        options = list(waiting.question.options) if waiting is not None else None
        understood = await asyncio.to_thread(understand_turn, state["event"], runtime.context.read_turn, options)
    return {"turn": understood.turn, "message": understood.message, "note": understood.note}


# ---------------------------------------------------------------------------------- explain


async def explain(state: TutorState, runtime: Runtime[TutorContext]) -> Update:
    """Stream a grounded explanation piece by piece; remember its concept for "Quiz me on this"."""
    service, question = runtime.context.service, state.get("message", "").strip()
    if not question:
        _say(runtime, "What should I explain? For example: `/explain dropout`.")
        return {}
    stream = await asyncio.to_thread(service.explain, question, state["turn"].topic)
    titles = [_source_title(service, s) for s in stream.sources]
    topic = next((_source_title(service, s) for s in stream.sources if s in service.kb.cards), None)
    runtime.stream_writer(ExplanationStart(question=question))
    pieces = iter(stream.pieces)
    try:
        while (piece := await asyncio.to_thread(next, pieces, None)) is not None:
            runtime.stream_writer(ExplanationPiece(text=piece))
    except Exception:  # the model failed mid-way: keep what was shown, say so, keep the state
        log.exception("explanation failed")
        runtime.stream_writer(ExplanationPiece(text="\n\n(The explanation stopped early.)"))
    runtime.stream_writer(
        ExplanationEnd(sources=titles, key_facts=list(stream.key_facts), topic=topic, origin=uuid.uuid4().hex)
    )
    return {"explained": topic}


# ------------------------------------------------------------------------------ quiz set-up


def _announce(runtime: Runtime[TutorContext], quiz: ActiveQuiz, replaced: ActiveQuiz | None) -> None:
    if replaced is not None:
        _say(runtime, f"Your quiz on \"{replaced.topic}\" was left unfinished; starting a new one.")
    note = intro_note(quiz.plan) if quiz.plan is not None else None  # shorter than asked, or beyond the concept
    runtime.stream_writer(QuizStarted(quiz_id=quiz.quiz_id, topic=quiz.topic, total=quiz.total,
                                      difficulty=quiz.meta.difficulty, retry=quiz.retry, note=note))


def _begin(state: TutorState, runtime: Runtime[TutorContext], quiz: ActiveQuiz) -> Update:
    """Make ``quiz`` the running one: drop questions written ahead for the old one, announce it, count it."""
    runtime.context.cache.forget(runtime.context.thread_id)
    _announce(runtime, quiz, active_quiz(state))
    return {"quiz": quiz, "quizzes": state.get("quizzes", 0) + 1}


def _origin(state: TutorState) -> str | None:
    event = state["event"]
    return event.origin if isinstance(event, ActionClick) else None


def _already_started(state: TutorState, runtime: Runtime[TutorContext]) -> bool:
    """A second click on the button that started the running quiz: say so, start nothing."""
    quiz, origin = active_quiz(state), _origin(state)
    if quiz is None or origin is None or quiz.origin != origin:
        return False
    _say(runtime, f"That quiz is already running: question {quiz.pending + 1} of {quiz.total} is waiting.")
    return True


def _seed(state: TutorState, runtime: Runtime[TutorContext]) -> int:
    started = state.get("quizzes", 0)
    base = runtime.context.seed
    return base * 1000 + started if base is not None else new_seed(started)


def quiz_topic(state: TutorState) -> str | None:
    """The topic a quiz request is on: the one it names; for "the same topic" the last quiz's topic
    (else the concept explained last); with no topic at all, the concept explained since the last
    quiz started, else the last quiz's topic."""
    turn = state["turn"]
    current = state.get("quiz") or (state.get("last").quiz if state.get("last") else None)
    previous = current.topic if current is not None else None
    if turn.same_topic:
        return previous or turn.topic or state.get("explained")
    return turn.topic or state.get("explained") or previous


async def plan_quiz(state: TutorState, runtime: Runtime[TutorContext]) -> Update:
    """Plan a new quiz (it replaces any quiz in progress); a count or difficulty in the message wins
    over the chat settings; unknown topics get a helpful message."""
    if _already_started(state, runtime):
        return {}
    turn, event = state["turn"], state["event"]
    notes = turn.source == "notes"  # "quiz me on my notes": the turn's own topic, or all of the notes
    topic = turn.topic if notes else quiz_topic(state)
    if not topic and not notes:
        _say(runtime, "Which topic should the quiz be on? For example: `/quiz overfitting`.")
        return {}
    count, difficulty = turn.questions or event.questions, turn.difficulty or event.difficulty
    seed, service = _seed(state, runtime), runtime.context.service
    try:
        asked = await study_nodes.asked(runtime)  # a repeat quiz avoids facts already asked (not review or retry)
        plan = await asyncio.to_thread(service.plan, topic, count, seed, difficulty, asked, source=turn.source)
    except QuizUnavailable as exc:
        _say(runtime, str(exc), "warning")
        return {}
    except Exception:  # e.g. the model's plan did not validate: nothing changes, the student may retry
        log.exception("planning failed")
        _say(runtime, f"I could not plan a quiz on \"{topic[:80]}\" this time; please try again.", "warning")
        return {}
    return {**_begin(state, runtime, start_quiz(plan, _origin(state))), "explained": None}


async def plan_review(state: TutorState, runtime: Runtime[TutorContext]) -> Update:
    """A quiz of the facts due for review now, most overdue first (it replaces any quiz in progress)."""
    if _already_started(state, runtime):
        return {}
    turn, event = state["turn"], state["event"]
    try:
        plan = await study_nodes.review_plan(runtime, turn.questions or event.questions, _seed(state, runtime))
    except Exception:
        log.exception("review planning failed")
        _say(runtime, "I could not plan a review this time; please try again.", "warning")
        return {}
    if isinstance(plan, str):
        runtime.stream_writer(Help(text=plan + replies.waiting_line(active_quiz(state))))
        return {}
    return {**_begin(state, runtime, start_quiz(plan, _origin(state))), "explained": None}


async def prepare_retry(state: TutorState, runtime: Runtime[TutorContext]) -> Update:
    """A quiz of the questions missed in the last finished quiz, options reshuffled."""
    if _already_started(state, runtime):
        return {}
    last = state.get("last")
    if last is None:
        _say(runtime, "There is no finished quiz to retry yet. Start one with `/quiz TOPIC`.")
        return {}
    event = state["event"]
    wanted = event.quiz_id if isinstance(event, ActionClick) else None
    if wanted and wanted != last.quiz.meta.quiz_id:
        _say(runtime, "That button belongs to an older quiz; `/retry` retries the questions missed in your last one.")
        return {}
    quiz = retry_quiz(last, _seed(state, runtime), _origin(state))
    if quiz is None:
        _say(runtime, "You answered every question of your last quiz correctly: nothing to retry. "
                      "Try `/new` for fresh questions.")
        return {}
    return _begin(state, runtime, quiz)


# ------------------------------------------------------------------------------- questions


async def write_question(state: TutorState, runtime: Runtime[TutorContext]) -> Update:
    """Write the next question (taking it from the write-ahead cache when it is there)."""
    service, cache, quiz = runtime.context.service, runtime.context.cache, state["quiz"]
    index = len(quiz.questions)
    key = (runtime.context.thread_id, quiz.quiz_id, index)
    try:
        written = await cache.get_or_write(key, lambda: service.write_question(quiz.plan, index, quiz.questions))
    except Exception as exc:  # QuizUnavailable, or a model failure: end the quiz with what is written
        if not isinstance(exc, QuizUnavailable):
            log.exception("writing question %d failed", index + 1)
        total = len(quiz.questions)
        reason = str(exc) if isinstance(exc, QuizUnavailable) else f"I could not write question {index + 1}."
        _say(runtime, reason + (f" The quiz ends after {total} questions." if total else ""), "warning")
        return {"quiz": quiz.model_copy(update={"total": total}) if total else None}
    made = Provenance(strategy=written.strategy, verified_by=written.verified_by, attempts=written.attempts)
    await study_nodes.record_asked(runtime, quiz, written.question)
    return {"quiz": quiz.model_copy(update={"questions": [*quiz.questions, written.question],
                                            "provenance": [*quiz.provenance, made]})}


async def present_question(state: TutorState) -> Update:
    """Show the pending question and wait for the student's next turn (no generation here).

    Async so that LangGraph runs it on the event loop: a plain function goes through the thread pool."""
    return {"event": interrupt(question_shown(state["quiz"]))}


# ---------------------------------------------------------------------------- grade, review


def _answer(state: TutorState, quiz: ActiveQuiz) -> StudentAnswer | str:
    """The student's answer to check, or a message saying why the turn is not one."""
    event, pending = state["event"], quiz.pending
    if not isinstance(event, AnswerClick):
        letter = state["turn"].letter
        if letter is None:
            return "To answer, click one of the buttons A-D, type the letter, or write the option's words."
        return StudentAnswer(quiz_id=quiz.quiz_id, index=pending, letter=letter)
    if event.quiz_id != quiz.quiz_id:
        return f"That button belongs to an earlier quiz. Question {pending + 1} of the current quiz is waiting."
    if event.index < pending:
        return f"You already answered question {event.index + 1}; question {pending + 1} is waiting."
    if event.index > pending:
        return f"Question {event.index + 1} is not open yet; please answer question {pending + 1} first."
    return StudentAnswer(quiz_id=event.quiz_id, index=event.index, letter=event.letter)


async def grade(state: TutorState, runtime: Runtime[TutorContext]) -> Update:
    """Grade the answer by letter comparison (agent.grading) and give immediate feedback."""
    quiz = active_quiz(state)
    if quiz is None:
        _say(runtime, "There is no question waiting for an answer. Start a quiz with `/quiz TOPIC` "
                      "or ask for one, e.g. \"quiz me on overfitting\".")
        return {}
    answer = _answer(state, quiz) if quiz.written_ahead() else f"Question {quiz.pending + 1} is not ready yet."
    if isinstance(answer, str):
        _say(runtime, answer, "warning")
        return {}
    try:
        graded = grade_answer(Quiz(topic=quiz.topic, questions=quiz.questions, meta=quiz.meta), answer)
    except StaleAnswerError as exc:
        _say(runtime, str(exc), "warning")
        return {}
    question = quiz.questions[graded.index]
    quiz = quiz.model_copy(update={"answers": [*quiz.answers, graded]})
    await study_nodes.record(runtime, quiz, question, graded)
    runtime.stream_writer(Feedback(quiz_id=quiz.quiz_id, graded=graded, total=quiz.total, score=quiz.score,
                                   source_title=_source_title(runtime.context.service, graded.source)))
    return {"quiz": quiz}


async def summarise(state: TutorState, runtime: Runtime[TutorContext]) -> Update:
    """Score, per-question review, missed concepts and what to study next; the quiz ends here."""
    quiz = state["quiz"]
    final = finished_quiz(quiz)
    result = summarise_quiz(final, quiz.answers[: len(final.questions)])
    runtime.context.cache.forget(runtime.context.thread_id)
    note, deck = await study_nodes.finish(runtime, final, result)
    runtime.stream_writer(Summary(result=result, retry=quiz.retry, review=study_nodes.is_review(quiz.topic),
                                  review_note=note))
    if deck is not None:
        runtime.stream_writer(deck)
    return {"quiz": None, "last": LastQuiz(quiz=final, result=result)}


# ------------------------------------------------------------------------------ help, reply


async def show_help(state: TutorState, runtime: Runtime[TutorContext]) -> Update:
    """Help text (opening with the turn's note, e.g. an unknown command)."""
    note = state.get("note")
    opening = f"{note}\n\n" if note else ""
    runtime.stream_writer(Help(text=opening + replies.HELP + replies.waiting_line(active_quiz(state))))
    return {}


async def reply(state: TutorState, runtime: Runtime[TutorContext]) -> Update:
    """One short line for small talk, then what the tutor can do."""
    text = replies.small_talk(state.get("message", ""))
    runtime.stream_writer(Help(text=text + replies.waiting_line(active_quiz(state))))
    return {}


show_progress = study_nodes.show_progress
export_history = study_nodes.export_history
