"""Questions written ahead of time, so question 2..N is ready when the student answers question 1.

While the graph waits for an answer (``interrupt()`` in ``present_question``), a background task
writes the quiz's remaining questions, one at a time, into this cache keyed by
``(thread_id, quiz_id, index)``; the ``write_question`` node takes its question from here.

Each key is written at most once (single flight): if the node asks for a question the
background task is writing right now, it awaits that write instead of starting another one.
Writes run in a worker thread (model calls block) and one after another per quiz; the model
batches concurrent generations itself (``llm.batching``). The cache is an accelerator only:
after a server restart it is empty and the node writes the question itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Key = tuple[str, str, int]


class QuestionCache:
    """Single-flight, per-process cache of written questions."""

    def __init__(self) -> None:
        self._tasks: dict[Key, asyncio.Task] = {}
        self._prefetch: dict[str, tuple[str, asyncio.Task]] = {}  # thread_id -> (quiz_id, task writing ahead)

    async def get_or_write(self, key: Key, write: Callable[[], Any]) -> Any:
        """The value for ``key``; ``write`` (blocking) runs in a thread only if no one has written it."""
        task = self._tasks.get(key)
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            task = asyncio.ensure_future(asyncio.to_thread(write))
            self._tasks[key] = task
        # shield: a cancelled caller (e.g. a superseded prefetch) must not cancel a write another awaits
        return await asyncio.shield(task)

    def peek(self, key: Key) -> bool:
        """Whether ``key`` has been written successfully (for tests and logs)."""
        task = self._tasks.get(key)
        return bool(task and task.done() and not task.cancelled() and task.exception() is None)

    def forget(self, thread_id: str, keep_quiz: str | None = None) -> None:
        """Drop the thread's entries except those of ``keep_quiz`` (call when a quiz ends or is replaced)."""
        for key in [k for k in self._tasks if k[0] == thread_id and k[1] != keep_quiz]:
            self._tasks.pop(key)

    def prefetch(
        self, thread_id: str, quiz_id: str, indices: range, write: Callable[[int, list[Any]], Any], done: list[Any]
    ) -> asyncio.Task:
        """Start writing ``indices`` in order in the background (replacing the thread's earlier prefetch).

        ``write(index, taken)`` writes question ``index`` given the questions before it; ``done`` holds
        the questions already in the graph state (``done[i]`` is question ``i``).
        """
        self.cancel(thread_id)
        task = asyncio.ensure_future(self._write_ahead(thread_id, quiz_id, indices, write, list(done)))
        self._prefetch[thread_id] = (quiz_id, task)
        return task

    def prefetching(self, thread_id: str, quiz_id: str) -> bool:
        """Whether a background task is still writing ahead for this quiz."""
        current = self._prefetch.get(thread_id)
        return bool(current and current[0] == quiz_id and not current[1].done())

    def wrote_ahead(self, thread_id: str, quiz_id: str) -> bool:
        """Whether writing ahead for this quiz has started here (still running or finished)."""
        current = self._prefetch.get(thread_id)
        return bool(current and current[0] == quiz_id and not current[1].cancelled())

    def cancel(self, thread_id: str) -> None:
        current = self._prefetch.pop(thread_id, None)
        if current is not None and not current[1].done():
            current[1].cancel()

    async def _write_ahead(self, thread_id, quiz_id, indices: range, write, taken: list[Any]) -> None:
        for index in indices:
            try:
                question = await self.get_or_write(
                    (thread_id, quiz_id, index), lambda i=index, t=list(taken[:index]): write(i, t)
                )
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the node will meet the same error and tell the student
                log.info("writing question %d ahead failed: %s", index + 1, exc)
                return
            if len(taken) <= index:
                taken.append(question)
