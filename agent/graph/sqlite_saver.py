"""LangGraph's SQLite checkpointer for an async graph, one worker-thread hand-off per call.

LangGraph's ``AsyncSqliteSaver`` runs each cursor step on aiosqlite's thread (cursor, execute, fetch,
execute, fetch, close: six hand-offs for one checkpoint read, three or four for a write) under one asyncio
lock. Under load every hand-off waits for the GIL behind the busy event loop while the lock is held, so the
checkpoint reads and writes of all sessions queued behind each other: with 50 students (bench/load_sessions.py,
timed in the app's turn handler) an answer turn took a median 2.0 s from its start to its end, and the
student's next answer waited for that end; with this saver, 0.65 s. :class:`ThreadedSqliteSaver` is
LangGraph's synchronous ``SqliteSaver`` (same tables, same SQL, same commits) whose async methods run the
whole call in one worker thread.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.sqlite import SqliteSaver


class ThreadedSqliteSaver(SqliteSaver):
    """``SqliteSaver`` with each async method as one ``asyncio.to_thread`` call of its synchronous twin."""

    async def aget_tuple(self, config):
        return await asyncio.to_thread(self.get_tuple, config)

    async def alist(self, config, *, filter=None, before=None, limit=None) -> AsyncIterator[Any]:
        found = await asyncio.to_thread(lambda: list(self.list(config, filter=filter, before=before, limit=limit)))
        for item in found:
            yield item

    async def aput(self, config, checkpoint, metadata, new_versions):
        return await asyncio.to_thread(self.put, config, checkpoint, metadata, new_versions)

    async def aput_writes(self, config, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = "") -> None:
        await asyncio.to_thread(self.put_writes, config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        await asyncio.to_thread(self.delete_thread, thread_id)

    async def aget_delta_channel_history(self, *, config, channels):
        return await asyncio.to_thread(lambda: self.get_delta_channel_history(config=config, channels=channels))


@contextmanager
def sqlite_connection(path: Path, synchronous: str):
    """A connection the saver's worker threads share (it serialises them with its own lock), in WAL mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(str(path), check_same_thread=False)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        yield conn
