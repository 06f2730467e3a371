"""The web app's long-lived objects: the tutor service (model + knowledge), the study companion
(every student's memory of facts, :mod:`agent.study`, in the chat-history database) and the graph runner.

The model loads in a worker thread when the server starts, so the page is up at once; the first
turn that needs the tutor waits for it. The graph's checkpoints live in
``Settings.checkpoint_database`` (a SQLite file under ``TUTOR_DATA_DIR``, or ``TUTOR_DATABASE_URL``),
keyed by user and Chainlit thread id (:func:`agent.app.auth.graph_thread_id`).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from contextlib import AsyncExitStack

from agent.turns import build_reader
from agent.settings import Settings

log = logging.getLogger(__name__)
# Objects allocated between two young collections (CPython's default: 700); see settle_heap.
GC_YOUNG_THRESHOLD = 20_000


def settle_heap() -> None:
    """Once the model and knowledge are loaded: keep the collector off them, and collect the young less often.

    Why: with the model loaded the heap holds ~660,000 tracked objects and a full collection took 375 ms on
    this 2-core machine, stopping every session's turn; py-spy on the answer rounds of bench/answer_cpu.py
    (20 students) found the collector in 14 % of the server's GIL time. ``gc.freeze`` moves what exists now
    (model, cards, modules: alive for the server's life) out of every later collection; a higher young
    threshold lets more of a turn's short-lived objects die by reference count before a collection visits them.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


class Resources:
    """Lazily built, shared by every session of the server process."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._service: asyncio.Future | None = None
        self._tutor = None
        self._stack = AsyncExitStack()
        self._lock = asyncio.Lock()
        self._built_reader: tuple[object, object] | None = None  # (service, its reader)
        self._reader_lock = threading.Lock()  # warm-up (worker thread) and first turn may race

    def start(self) -> None:
        """Begin loading the model and knowledge in the background (idempotent)."""
        if self._service is None:
            loop = asyncio.get_running_loop()
            self._service = loop.run_in_executor(None, self._load_service)
            self._service.add_done_callback(lambda done: self._warm_up(loop, done))

    def _load_service(self):
        from agent.quiz.service import TutorService

        from knowledge.library import NoteLibrary

        llm = self.settings.llm
        # No notes in the shared knowledge base: each student's turns run on the cards plus their own notes.
        service = TutorService.create(llm.model, llm.adapter, notes=NoteLibrary(self.settings.knowledge.notes_dir))
        lm = service.lm
        log.info("tutor ready: %s", f"{lm.label}, weights {lm.weights}" if lm is not None else "no model")
        settle_heap()
        return service

    def _warm_up(self, loop, done: asyncio.Future) -> None:
        """Build the turn reader (and its grammar, if it uses the model) off the critical path."""
        if done.cancelled() or done.exception() is not None:
            return

        def warm() -> None:
            try:
                self._reader(done.result())("What is overfitting?")
            except Exception:  # the first real turn will meet (and report) the same problem
                log.warning("turn reader warm-up failed", exc_info=True)

        loop.run_in_executor(None, warm)

    def _reader(self, service):
        """One turn reader per service (the model reader builds its Outlines generator once)."""
        with self._reader_lock:
            if self._built_reader is None or self._built_reader[0] is not service:
                self._built_reader = (service, build_reader(service, self.settings.turn_reader))
            return self._built_reader[1]

    async def tutor(self):
        """The :class:`agent.graph.runner.Tutor` (waits for the model on first use)."""
        from agent.graph.runner import Tutor

        async with self._lock:
            if self._tutor is None:
                self.start()
                try:
                    service = await self._service
                except Exception:
                    self._service = None  # let the next turn try again (and report again)
                    raise
                study = await asyncio.to_thread(self._open_study, service)
                self._tutor = await self._stack.enter_async_context(
                    Tutor.open(self.settings.checkpoint_database, service, read_turn=self._reader(service), study=study)
                )
            return self._tutor

    def _open_study(self, service):
        """One study companion per server, on the service's knowledge base (facts from notes too)."""
        from agent.study.companion import StudyCompanion

        return StudyCompanion.open(self.settings.chat_database, service.kb)

    async def close(self) -> None:
        await self._stack.aclose()
