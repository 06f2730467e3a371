"""The study loop in the graph: record answers and quizzes, review plans, progress, export (agent.study).

The study companion (``TutorContext.study``) keeps each student's memory of facts in the chat database; its
calls are short synchronous transactions, so they run in a worker thread (``asyncio.to_thread``).
Recording never costs the student a turn: a failure is logged and the quiz goes on. Nor does it hold up the
next question: :func:`record` and :func:`record_asked` start their write and return; every read of the history
first waits for the writes of its run (:func:`settle`), and :class:`agent.graph.runner.Tutor` waits for them
before the turn ends, so the thread's next turn sees them. Why: with 50 students answering at once
(bench/load_sessions.py) these two writes took a median 50 and 23 ms and up to 0.5 s under the load, before
the next question could be shown.

    await asked(runtime)                         # plan_quiz: the facts this student was asked (a new quiz avoids them)
    await record_asked(runtime, quiz, question)  # write_question: the question goes to the student (in background)
    await record(runtime, quiz, question, graded)  # grade: after every graded answer (in background)
    await settle(runtime.context)                # the writes of this run are done (logged if they failed)
    await finish(runtime, final, result)         # summarise: the review note and the quiz's Anki deck
    await review_plan(state, runtime, count, seed)   # plan_review: a QuizPlan of the facts due now, or a line
    show_progress, export_history                # nodes: ProgressReport, FileOffer
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from langgraph.runtime import Runtime

from agent.graph.context import TutorContext
from agent.graph.events import FileOffer, Help, Notice, ProgressReport
from agent.graph.routing import export_request
from agent.graph.state import ActiveQuiz, TutorState
from agent.study.companion import REVIEW_TOPIC
from agent.study.export import export_bytes, export_name, quiz_export
from schemas import GradedAnswer, MultipleChoiceQuestion, Quiz, QuizPlan, QuizResult

log = logging.getLogger(__name__)
Update = dict[str, Any]
MIME = {"anki": "application/apkg", "markdown": "text/markdown", "json": "application/json"}
NO_PROGRESS = "No answers recorded yet: take a quiz (e.g. `/quiz overfitting`) and your progress shows here."
NOT_STUDYING = "Your study history is not kept in this session, so there is nothing to {what}."


def is_review(topic: str) -> bool:
    return topic == REVIEW_TOPIC


def _start(ctx: TutorContext, what: str, write, *args, **kwargs) -> None:
    """Run ``write`` in a worker thread from now on; :func:`settle` waits for it (a failure is logged there)."""
    task = asyncio.ensure_future(asyncio.to_thread(write, *args, **kwargs))
    ctx.recording.append(_logged(task, what))


async def _logged(task: asyncio.Future, what: str) -> None:
    try:
        await task
    except Exception:  # the answer is graded and shown; the memory misses one review, the student nothing
        log.exception("recording %s failed", what)


async def settle(ctx: TutorContext) -> None:
    """Wait for the study writes started in this run (reads of the history come after them)."""
    while ctx.recording:  # in place: a run's tasks may hold copies of the context that share this list
        pending = list(ctx.recording)
        ctx.recording.clear()
        await asyncio.gather(*pending)


async def asked(runtime: Runtime[TutorContext]) -> dict[str, float]:
    """When the student was last asked each fact (fact id -> unix time); {} when nothing is kept or on failure."""
    ctx = runtime.context
    if not ctx.studying:
        return {}
    await settle(ctx)
    try:
        return await asyncio.to_thread(ctx.study.asked, ctx.user)
    except Exception:  # a quiz that may repeat a fact beats no quiz
        log.exception("reading the facts asked of %s failed", ctx.user)
        return {}


async def record_asked(runtime: Runtime[TutorContext], quiz: ActiveQuiz, question: MultipleChoiceQuestion) -> None:
    """Note that ``question``'s fact was put to the student (every quiz, review and retry too); never raises."""
    ctx = runtime.context
    if not ctx.studying:
        return
    _start(ctx, f"a question asked in quiz {quiz.quiz_id}", ctx.study.record_asked, ctx.user, quiz.quiz_id, question)


async def record(runtime: Runtime[TutorContext], quiz: ActiveQuiz, question: MultipleChoiceQuestion,
                 graded: GradedAnswer) -> None:
    """Store one graded answer (a retry quiz's right answer counts as Hard); never raises."""
    ctx = runtime.context
    if not ctx.studying:
        return
    _start(ctx, f"answer {graded.index + 1} of quiz {quiz.quiz_id}", ctx.study.record_answer, ctx.user, quiz.quiz_id,
           question, graded, retry=quiz.retry)


async def finish(runtime: Runtime[TutorContext], final: Quiz, result: QuizResult) -> tuple[str, FileOffer | None]:
    """Record the finished quiz; return the review note for its summary and its Anki deck to download."""
    ctx = runtime.context
    if not ctx.studying:
        return "", None
    await settle(ctx)  # the quiz's last answer, recorded by grade in this run

    def work() -> tuple[str, FileOffer]:
        ctx.study.record_quiz(ctx.user, final, result)
        deck = export_bytes(quiz_export(final, ctx.study.clock.now()), "anki")
        offer = FileOffer(label=f"Anki deck of this quiz ({len(final.questions)} cards)",
                          filename=export_name("quiz", "anki"), mime=MIME["anki"], data=deck)
        return ctx.study.review_note(ctx.user), offer

    try:
        return await asyncio.to_thread(work)
    except Exception:
        log.exception("recording quiz %s failed", final.meta.quiz_id)
        return "", None


async def review_plan(runtime: Runtime[TutorContext], count: int, seed: int) -> QuizPlan | str:
    """A quiz plan of the facts due now, or the line to say instead (nothing due, no history)."""
    ctx = runtime.context
    if not ctx.studying:
        return NOT_STUDYING.format(what="review")
    await settle(ctx)
    lm = getattr(ctx.service, "lm", None)
    label = getattr(lm, "label", "") if lm is not None else ""
    plan = await asyncio.to_thread(ctx.study.review_plan, ctx.user, count, seed, label)
    return plan if plan is not None else await asyncio.to_thread(ctx.study.nothing_due_message, ctx.user)


async def show_progress(state: TutorState, runtime: Runtime[TutorContext]) -> Update:
    """The progress report: mastery per area and concept, due counts, answers over time (text + PNG)."""
    ctx = runtime.context
    if not ctx.studying:
        runtime.stream_writer(Help(text=NOT_STUDYING.format(what="report")))
        return {}
    await settle(ctx)

    def work() -> ProgressReport | Help:
        from agent.study.chart import progress_png
        from agent.study.progress import progress_text

        progress = ctx.study.progress(ctx.user)
        if not progress.seen:
            return Help(text=NO_PROGRESS)
        return ProgressReport(text=progress_text(progress), png=progress_png(progress))

    runtime.stream_writer(await asyncio.to_thread(work))
    return {}


async def export_history(state: TutorState, runtime: Runtime[TutorContext]) -> Update:
    """The student's history (or quizzes, or due facts) as a file: Anki deck, Markdown or JSON."""
    ctx = runtime.context
    if not ctx.studying:
        runtime.stream_writer(Help(text=NOT_STUDYING.format(what="export")))
        return {}
    await settle(ctx)
    what, fmt = export_request(state.get("message", ""))

    def work() -> FileOffer | None:
        items = ctx.study.collect(ctx.user, what)
        if not items.questions:
            return None
        return FileOffer(label=f"Your {what} ({len(items.questions)} questions, {fmt})",
                         filename=export_name(what, fmt), mime=MIME[fmt], data=export_bytes(items, fmt))

    offer = await asyncio.to_thread(work)
    if offer is None:
        empty = {"history": "no answers yet. Take a quiz first", "quizzes": "no finished quizzes yet",
                 "due": "nothing is due now. `/progress` shows when facts come due"}[what]
        runtime.stream_writer(Notice(text=f"Nothing to export: {empty}."))
    else:
        runtime.stream_writer(offer)
    return {}
