"""Drive the tutor graph one student turn at a time, per chat thread, with SQLite or PostgreSQL checkpoints.

    async with Tutor.open(settings.checkpoint_database, service, read_turn=build_reader(service)) as tutor:
        async for shown in tutor.turn("thread-1", TextTurn(text="/quiz overfitting"), user="ada"):
            print(shown.kind)             # quiz_started, question, ... (agent.graph.events)
        pending = await tutor.pending_question("thread-1")   # after a restart too

Every turn starts a new run with its event: a run that asks a question stops in ``present_question``'s
interrupt (which is how the question reaches the app, and how :meth:`Tutor.pending_question` finds it after a
restart), and the next turn's run starts from ``understand``, which LangGraph begins by discarding the
interrupted task. The state, not the interrupt, says which question waits (``grade`` reads the quiz), so a
resume (``Command(resume=...)``) would do the same work after one more checkpoint read to find the interrupt.
Turns of one thread run one at a time (a double click waits for the
first click, then finds its question answered), across processes too on PostgreSQL: a turn holds an
advisory lock on its thread id, so two app instances sharing the database never grade one question twice. After a turn that leaves a question waiting, the
remaining questions of the quiz are written in the background (:mod:`agent.graph.cache`).

With a study companion (``study=StudyCompanion.open(...)``) every graded answer and finished quiz
of a turn's ``user`` is recorded, and review, progress and export work; a thread belongs to one user.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.graph.cache import QuestionCache
from agent.graph.checkpoint import open_saver, shown_question
from agent.graph.context import Service, TurnReader, TutorContext
from agent.graph.events import Output, QuestionShown, Turn
from agent.graph.graph import build_graph
from agent.graph.state import TutorState, waiting_question
from agent.graph.study_nodes import settle
from agent.quiz.writing import Written
from common.database import Database, is_postgres

if TYPE_CHECKING:
    from agent.study.companion import StudyCompanion

log = logging.getLogger(__name__)


class Tutor:
    """The graph, its checkpointer and the per-process helpers (locks, write-ahead cache)."""

    def __init__(self, service: Service, checkpointer, *, read_turn: TurnReader, seed: int | None = None,
                 write_ahead: bool = True, database: Database | None = None,
                 study: StudyCompanion | None = None):
        self.service = service
        self.graph = build_graph(checkpointer)
        self.cache = QuestionCache()
        self.read_turn = read_turn
        self.seed = seed
        self.write_ahead = write_ahead
        self.study = study
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._database = database  # for the cross-process lock of a turn (PostgreSQL); None: this process only

    @classmethod
    @asynccontextmanager
    async def open(cls, target: str | Path, service: Service, **kwargs) -> AsyncIterator["Tutor"]:
        """A tutor whose graph state lives in ``target``: a SQLite file or a PostgreSQL URL (see :mod:`.checkpoint`)."""
        async with open_saver(target) as saver:
            tutor = cls(service, saver, database=Database.open(target) if is_postgres(target) else None, **kwargs)
            try:
                yield tutor
            finally:
                for thread_id in list(tutor._locks):
                    tutor.cache.cancel(thread_id)

    @staticmethod
    def config(thread_id: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": thread_id}}

    def service_for(self, user: str) -> Service:
        """The service on the cards plus ``user``'s own notes (a service without per-user notes serves everyone)."""
        scoped = getattr(self.service, "for_user", None)
        return scoped(user) if scoped is not None else self.service

    def context(self, thread_id: str, user: str = "") -> TutorContext:
        service = self.service_for(user)
        study = self.study.on(service.kb) if self.study is not None and service is not self.service else self.study
        return TutorContext(
            service=service, read_turn=self.read_turn, thread_id=thread_id, cache=self.cache, seed=self.seed,
            study=study, user=user,
        )

    # ----------------------------------------------------------------------------- queries

    async def state(self, thread_id: str) -> TutorState:
        """The thread's current state values (empty for a new thread)."""
        snapshot = await self.graph.aget_state(self.config(thread_id))
        return TutorState(**(snapshot.values or {}))

    async def pending_question(self, thread_id: str) -> QuestionShown | None:
        """The question the thread waits on (the interrupt payload), or None.

        After a turn that failed half-way there is no interrupt, but the quiz state still says
        which question is next; that question is returned (and the next answer resumes the quiz).
        """
        snapshot = await self.graph.aget_state(self.config(thread_id))
        for pending in snapshot.interrupts:
            return shown_question(pending.value)
        return waiting_question(snapshot.values or {})

    # ------------------------------------------------------------------------------- turns

    async def turn(self, thread_id: str, event: Turn, user: str = "") -> AsyncIterator[Output]:
        """Run one student turn of ``user`` ("" records nothing); yields what to show (the nodes' events
        and the waiting question)."""
        waiting: QuestionShown | None = None
        async with self._locks[thread_id], self._thread_lock(thread_id):
            config = self.config(thread_id)
            # A new run, not a resume (module docstring): no aget_state first. That read was a second checkpoint
            # load and validation per answer turn (~6 thread hand-offs on SQLite); with it gone and each record
            # validated once (agent.graph.checkpoint), the graph's CPU per answer turn went from a median 13.3 to
            # 9.6 ms (bench/results/answer_cpu/graph_*.json: --graph, 20 sessions, back to back, load average ~4).
            payload: Any = {"event": event}
            # One checkpoint when the run stops (at the next question's interrupt, at the end or on an error), not one
            # per node: every session's checkpoint reads and writes share one SQLite connection, and with 20 students
            # answering at once they queued behind each other's ~10 writes a turn (bench/load_sessions.py).
            context = self.context(thread_id, user)
            stream = self.graph.astream(
                payload, config, context=context, stream_mode=["custom", "updates"], durability="exit",
            )
            try:
                async for mode, chunk in stream:
                    if mode == "custom":
                        yield chunk
                    elif isinstance(chunk, dict) and "__interrupt__" in chunk:
                        for pending in chunk["__interrupt__"]:
                            waiting = shown_question(pending.value)
                            yield waiting
            finally:  # the study writes of this turn, still under the thread's locks (agent.graph.study_nodes)
                await settle(context)
        # After an answer the quiz's questions are already being written (or written): no state read for that.
        if waiting is None or not self.cache.wrote_ahead(thread_id, waiting.quiz_id):
            await self.start_write_ahead(thread_id, user)

    def _thread_lock(self, thread_id: str):
        if self._database is None:
            return nullcontext()
        return self._database.advisory_lock(f"ml-tutor thread {thread_id}")

    async def start_write_ahead(self, thread_id: str, user: str = "") -> None:
        """Write the active quiz's remaining questions in the background (no-op if done or running)."""
        if not self.write_ahead:
            return
        quiz = (await self.state(thread_id)).get("quiz")
        if quiz is None or quiz.plan is None or len(quiz.questions) >= quiz.total:
            return
        if self.cache.prefetching(thread_id, quiz.quiz_id):
            return
        plan, service = quiz.plan, self.service_for(user)

        def write(index: int, taken: list[Any]):
            questions = [t.question if isinstance(t, Written) else t for t in taken]  # cached values are Written
            return service.write_question(plan, index, questions)

        self.cache.prefetch(thread_id, quiz.quiz_id, range(len(quiz.questions), quiz.total), write, quiz.questions)
