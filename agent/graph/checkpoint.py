"""How the graph state is stored: SQLite or PostgreSQL checkpoints that rebuild the state's own classes only.

:func:`open_saver` opens LangGraph's SQLite saver on a file (:mod:`.sqlite_saver`: one thread hand-off a
call), or ``AsyncPostgresSaver`` on a ``postgresql://`` URL (a psycopg 3 pool), where several app instances
share the checkpoints.

LangGraph's serializer stores a Pydantic value as its ``model_dump()`` plus its class name; on load
:class:`StateSerializer` rebuilds only the classes in :data:`agent.graph.state.CHECKPOINTED` (a
checkpoint cannot make it import anything else). Checkpoints written before the state was typed
(plain dicts under ``quiz``/``last``, an untyped ``event``) are upgraded as they are read, so a
quiz in progress survives the upgrade; one that does not validate is dropped with a log line
rather than breaking the thread.

A state record is validated once per distinct stored form: :class:`StateSerializer` keeps the last
records it rebuilt (frozen models, keyed by their stored bytes), so a record that did not change
since the last read (the running quiz between answers, the finished quiz under ``last``; a state
read such as :meth:`agent.graph.runner.Tutor.pending_question` beside a run) is not validated again.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.serde.jsonplus import EXT_PYDANTIC_V2, JsonPlusSerializer
from pydantic import BaseModel, ValidationError

from agent.graph.events import QuestionShown
from common.database import SQLITE_SYNCHRONOUS, Database, is_postgres
from agent.graph.state import CHECKPOINTED, ActiveQuiz, LastQuiz

log = logging.getLogger(__name__)
# Rebuilt records kept (a few KB each): several per thread, for a class of 50 students and more.
MEMO_RECORDS = 1024
_RECORDS: dict[str, type[BaseModel]] = {"quiz": ActiveQuiz, "last": LastQuiz}


def upgrade(values: dict[str, Any]) -> dict[str, Any]:
    """Channel values of an older checkpoint, typed in place (dict records validated, old events dropped)."""
    for key, record in _RECORDS.items():
        if isinstance(values.get(key), dict):
            try:
                values[key] = record.model_validate(values[key])
            except ValidationError:
                log.warning("dropping an unreadable %r record from an older checkpoint", key)
                values[key] = None
    if isinstance(values.get("event"), dict):  # replaced by the next turn's event before any node reads it
        del values["event"]
    return values


def shown_question(value: Any) -> QuestionShown:
    """An interrupt's value: typed, or (older checkpoints) the question payload as a dict."""
    return value if isinstance(value, QuestionShown) else QuestionShown.model_validate(value)


class RecordMemo:
    """A msgpack ext hook that rebuilds each stored state record once: the last ``size`` rebuilt ones, by their bytes.

    Only instances of the (frozen) :data:`CHECKPOINTED` classes are kept, so every reader gets the same
    immutable value; anything else (a blocked class's plain dict) is rebuilt on every read.
    """

    def __init__(self, hook: Callable[[int, bytes], Any], size: int = MEMO_RECORDS):
        self.hook, self.size = hook, size
        self._kept: OrderedDict[bytes, Any] = OrderedDict()
        self._lock = threading.Lock()  # a sync saver may read from worker threads

    def __call__(self, code: int, data: bytes) -> Any:
        if code != EXT_PYDANTIC_V2:
            return self.hook(code, data)
        key = bytes(data)
        with self._lock:
            value = self._kept.get(key)
            if value is not None:
                self._kept.move_to_end(key)
                return value
        value = self.hook(code, data)
        if type(value) in CHECKPOINTED:
            with self._lock:
                self._kept[key] = value
                while len(self._kept) > self.size:
                    self._kept.popitem(last=False)
        return value


class StateSerializer(JsonPlusSerializer):
    """JSON-plus serializer that rebuilds only the state's classes (each stored form once, :class:`RecordMemo`)
    and upgrades older checkpoints."""

    def __init__(self) -> None:
        super().__init__(allowed_msgpack_modules=CHECKPOINTED)
        # Why: validating the quiz record (its questions' validators) twice per answer turn was ~15 % of the
        # app's event loop under load (py-spy); see RecordMemo and bench/answer_cpu.py for the measured cut.
        self._unpack_ext_hook = RecordMemo(self._unpack_ext_hook)

    def with_msgpack_allowlist(self, extra_allowlist) -> "StateSerializer":
        """LangGraph's strict mode widens the allowlist with a fresh hook: keep it memoised."""
        clone = super().with_msgpack_allowlist(extra_allowlist)
        if clone is not self and not isinstance(clone._unpack_ext_hook, RecordMemo):
            clone._unpack_ext_hook = RecordMemo(clone._unpack_ext_hook)
        return clone

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        value = super().loads_typed(data)
        if isinstance(value, dict) and isinstance(value.get("channel_values"), dict):
            upgrade(value["channel_values"])
        return value


@asynccontextmanager
async def open_saver(target: str | Path) -> AsyncIterator[Any]:
    """A saver with :class:`StateSerializer` on ``target``: a PostgreSQL URL, else a SQLite file."""
    if is_postgres(target):
        async with _postgres_saver(str(target)) as saver:
            yield saver
        return
    async with _sqlite_saver(Path(target)) as saver:
        yield saver


@asynccontextmanager
async def _postgres_saver(url: str) -> AsyncIterator[Any]:
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from psycopg.rows import dict_row
    from psycopg_pool import AsyncConnectionPool

    # The settings langgraph-checkpoint-postgres documents for a pool: autocommit, dict rows, and no
    # prepared statements (they break behind a transaction-mode pooler such as PgBouncer).
    kwargs = {"autocommit": True, "prepare_threshold": None, "row_factory": dict_row}
    async with AsyncConnectionPool(url, min_size=1, max_size=8, kwargs=kwargs, open=False) as pool:
        await pool.wait(timeout=30)
        saver = AsyncPostgresSaver(pool, serde=StateSerializer())
        async with Database.open(url).advisory_lock("ml-tutor checkpoint setup"):  # two instances starting
            await saver.setup()
        yield saver


@asynccontextmanager
async def _sqlite_saver(db_path: Path) -> AsyncIterator[Any]:
    from agent.graph.sqlite_saver import ThreadedSqliteSaver, sqlite_connection

    with sqlite_connection(Path(db_path), SQLITE_SYNCHRONOUS) as conn:
        saver = ThreadedSqliteSaver(conn, serde=StateSerializer())
        await asyncio.to_thread(saver.setup)
        yield saver
