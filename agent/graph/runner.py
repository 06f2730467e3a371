"""Drive the tutor graph one student turn at a time, per chat thread, with SQLite checkpoints.

    async with Tutor.open(settings.checkpoint_db, TutorService(KnowledgeBase.load())) as tutor:
        async for shown in tutor.turn("thread-1", Event(kind="text", text="/quiz overfitting")):
            print(shown["kind"])          # quiz_started, question, ...
        pending = await tutor.pending_question("thread-1")   # after a restart too

A turn resumes the graph (``Command(resume=...)``) when it waits in ``present_question``, and
starts a new run otherwise. Turns of one thread run one at a time (a double click waits for the
first click, then finds its question answered). After a turn that leaves a question waiting, the
remaining questions of the quiz are written in the background (:mod:`agent.graph.cache`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from langgraph.types import Command

from agent.graph.cache import QuestionCache
from agent.graph.context import TutorContext
from agent.graph.graph import build_graph
from agent.graph.routing import Classifier
from agent.graph.state import Event, active_quiz, next_is_written, question_payload
from agent.quiz.writing import Written
from schemas import MultipleChoiceQuestion, QuizPlan

log = logging.getLogger(__name__)


class Tutor:
    """The graph, its checkpointer and the per-process helpers (locks, write-ahead cache)."""

    def __init__(self, service, checkpointer, *, classify: Classifier | None = None, seed: int | None = None,
                 write_ahead: bool = True):
        self.service = service
        self.graph = build_graph(checkpointer)
        self.cache = QuestionCache()
        self.classify = classify
        self.seed = seed
        self.write_ahead = write_ahead
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    @classmethod
    @asynccontextmanager
    async def open(cls, db_path: str | Path, service, **kwargs) -> AsyncIterator["Tutor"]:
        """A tutor whose graph state lives in the SQLite file ``db_path`` (created if missing)."""
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        async with AsyncSqliteSaver.from_conn_string(str(db_path)) as saver:
            await saver.setup()
            tutor = cls(service, saver, **kwargs)
            try:
                yield tutor
            finally:
                for thread_id in list(tutor._locks):
                    tutor.cache.cancel(thread_id)

    @staticmethod
    def config(thread_id: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": thread_id}}

    def context(self, thread_id: str) -> TutorContext:
        return TutorContext(
            service=self.service, thread_id=thread_id, cache=self.cache, classify=self.classify, seed=self.seed
        )

    # ----------------------------------------------------------------------------- queries

    async def state(self, thread_id: str) -> dict[str, Any]:
        """The thread's current state values (empty for a new thread)."""
        snapshot = await self.graph.aget_state(self.config(thread_id))
        return dict(snapshot.values or {})

    async def pending_question(self, thread_id: str) -> dict[str, Any] | None:
        """The question the thread waits on (the interrupt payload), or None.

        After a turn that failed half-way there is no interrupt, but the quiz state still says
        which question is next; that question is returned (and the next answer resumes the quiz).
        """
        snapshot = await self.graph.aget_state(self.config(thread_id))
        for pending in snapshot.interrupts:
            return dict(pending.value)
        values = snapshot.values or {}
        if next_is_written(values):
            return question_payload(active_quiz(values))
        return None

    # ------------------------------------------------------------------------------- turns

    async def turn(self, thread_id: str, event: Event) -> AsyncIterator[dict[str, Any]]:
        """Run one student turn; yields what to show (custom-stream dicts and the waiting question)."""
        async with self._locks[thread_id]:
            config = self.config(thread_id)
            snapshot = await self.graph.aget_state(config)
            payload: Any = (
                Command(resume=event.model_dump()) if snapshot.interrupts else {"event": event.model_dump()}
            )
            stream = self.graph.astream(
                payload, config, context=self.context(thread_id), stream_mode=["custom", "updates"]
            )
            async for mode, chunk in stream:
                if mode == "custom":
                    yield chunk
                elif isinstance(chunk, dict) and "__interrupt__" in chunk:
                    for pending in chunk["__interrupt__"]:
                        yield dict(pending.value)
        await self.start_write_ahead(thread_id)

    async def start_write_ahead(self, thread_id: str) -> None:
        """Write the active quiz's remaining questions in the background (no-op if done or running)."""
        if not self.write_ahead:
            return
        quiz = (await self.state(thread_id)).get("quiz")
        if not quiz or not quiz.get("plan") or len(quiz["questions"]) >= quiz["total"]:
            return
        if self.cache.prefetching(thread_id, quiz["quiz_id"]):
            return
        plan = QuizPlan.model_validate(quiz["plan"])
        done = [MultipleChoiceQuestion.model_validate(q) for q in quiz["questions"]]

        def write(index: int, taken: list[Any]):
            questions = [t.question if isinstance(t, Written) else t for t in taken]  # cached values are Written
            return self.service.write_question(plan, index, questions)

        self.cache.prefetch(thread_id, quiz["quiz_id"], range(len(done), quiz["total"]), write, done)
