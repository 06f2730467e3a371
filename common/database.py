"""One SQL database behind one small async interface: a SQLite file (default) or PostgreSQL (a URL).

    db = Database.open(Path("chat.sqlite"))                  # or "postgresql://tutor@db:5432/tutor"
    await db.setup(SCHEMA)                                  # CREATE ... IF NOT EXISTS, once per process
    rows = await db.rows('SELECT * FROM users WHERE "identifier" = ?', ("ada",))
    async with db.transaction() as tx:                      # one transaction, rolled back on error
        await tx.execute("INSERT ...", (...))
    async with db.advisory_lock("thread-1"):                # held across processes (PostgreSQL only)
        ...

SQL is written once with ``?`` placeholders and double-quoted names, which both dialects read;
for PostgreSQL ``?`` becomes ``%s``. Each caller writes the few statements whose syntax differs
(e.g. :attr:`Database.row_order`). Used by the chat history (:mod:`agent.app.data_layer`) and the
student accounts (:mod:`agent.app.accounts`); the graph's checkpoints use LangGraph's own savers
(:mod:`agent.graph.checkpoint`) on the same target. :class:`common.sync_database.SyncDatabase` is the synchronous twin
(same targets, same SQL) for code that runs in worker threads: the study store (:mod:`agent.study.store`).
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
# SQLite in WAL mode: NORMAL syncs at checkpoints, not at every commit. It stays durable across a killed process
# (only an OS crash or power loss can roll back the newest commits) and never corrupts the file. With FULL (the
# default), every commit waited for an fsync (7 ms here) under one write lock: 20 students answering at once
# queued behind each other's checkpoint and chat-history commits (bench/load_sessions.py).
SQLITE_SYNCHRONOUS = "NORMAL"


def is_postgres(target: str | Path) -> bool:
    """Whether ``target`` is a PostgreSQL URL (else it is a SQLite file path)."""
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


SCHEMA_LOCK = "ml-tutor schema"


def ddl_statements(script: str) -> list[str]:
    """The statements of a schema script, each run in its own transaction on PostgreSQL.

    One transaction for the whole script held a share lock on every indexed table until the end; a writer of
    two of those tables (a chat step and its new thread) then waited for the setup while the setup waited for
    it: "deadlock detected" (CI, tests/integration/test_store_postgres.py). A statement at a time holds one
    table's lock at a time, which cannot close a cycle."""
    return [statement for statement in script.split(";") if statement.strip()]


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock`` (the same in every process)."""
    return zlib.crc32(name.encode()) - 2**31


class Tx(Protocol):
    async def execute(self, sql: str, params: tuple | dict = ()) -> None: ...
    async def rows(self, sql: str, params: tuple | dict = ()) -> list[dict[str, Any]]: ...


class Database:
    """Base: :meth:`rows` and :meth:`write` through :meth:`transaction` (see the subclasses)."""

    postgres = False
    row_order = "rowid"  # a column that orders rows of a table by insertion

    @staticmethod
    def open(target: str | Path) -> "Database":
        return PostgresDatabase(str(target)) if is_postgres(target) else SQLiteDatabase(Path(target))

    def transaction(self):  # pragma: no cover - abstract
        raise NotImplementedError

    async def setup(self, schema: str, postgres_extra: str = "") -> None:
        raise NotImplementedError

    _ready = False  # setup() ran since the last close()
    _ready_lock: asyncio.Lock | None = None

    async def ready(self, schema: str, postgres_extra: str = "") -> "Database":
        """This database with its tables created: :meth:`setup` on first use (again after :meth:`close`).

        Single-flight: the first steps of a new chat arrive together, and a second setup running beside the
        first one's writes deadlocked on PostgreSQL (CI, test_concurrent_first_steps_of_a_new_thread)."""
        if self._ready:
            return self
        if self._ready_lock is None:
            self._ready_lock = asyncio.Lock()
        async with self._ready_lock:
            if not self._ready:
                await self.setup(schema, postgres_extra)
                self._ready = True
        return self

    async def rows(self, sql: str, params: tuple | dict = ()) -> list[dict[str, Any]]:
        async with self.transaction() as tx:
            return await tx.rows(sql, params)

    async def write(self, *statements: tuple[str, tuple | dict]) -> None:
        """Run statements in one transaction."""
        async with self.transaction() as tx:
            for sql, params in statements:
                await tx.execute(sql, params)

    @asynccontextmanager
    async def advisory_lock(self, name: str) -> AsyncIterator[None]:
        """A lock on ``name`` shared by every process on this database (SQLite: none; one process)."""
        yield

    async def close(self) -> None:
        raise NotImplementedError


class _SQLiteTx:
    def __init__(self, db):
        self.db = db

    async def execute(self, sql: str, params: tuple | dict = ()) -> None:
        await self.db.execute(sql, params)

    async def rows(self, sql: str, params: tuple | dict = ()) -> list[dict[str, Any]]:
        async with self.db.execute(sql, params) as cursor:
            return [dict(row) for row in await cursor.fetchall()]


class SQLiteDatabase(Database):
    """One aiosqlite connection, one statement group at a time (an asyncio lock), WAL journal."""

    def __init__(self, path: Path):
        self.path = path
        self._db = None
        self._schema = ""
        self._lock = asyncio.Lock()

    async def setup(self, schema: str, postgres_extra: str = "") -> None:
        self._schema = schema
        async with self.transaction():
            pass

    async def _conn(self):
        import aiosqlite

        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = await aiosqlite.connect(self.path)
            db.row_factory = aiosqlite.Row
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
            await db.execute("PRAGMA foreign_keys=ON")
            await db.execute("PRAGMA busy_timeout=5000")
            if self._schema:
                await db.executescript(self._schema)
            await db.commit()
            self._db = db
        return self._db

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self._lock:
            db = await self._conn()
            try:
                yield _SQLiteTx(db)
                await db.commit()
            except BaseException:
                await db.rollback()
                raise

    async def close(self) -> None:
        self._ready = False
        if self._db is not None:
            await self._db.close()
            self._db = None


def pg_sql(sql: str) -> str:
    """``?`` placeholders as psycopg's ``%s`` (a literal ``%`` doubled)."""
    return sql.replace("%", "%%").replace("?", "%s")


class _PostgresTx:
    def __init__(self, conn):
        self.conn = conn

    async def execute(self, sql: str, params: tuple | dict = ()) -> None:
        await self.conn.execute(pg_sql(sql), params or None)

    async def rows(self, sql: str, params: tuple | dict = ()) -> list[dict[str, Any]]:
        cursor = await self.conn.execute(pg_sql(sql), params or None)
        return list(await cursor.fetchall())


class PostgresDatabase(Database):
    """A psycopg 3 connection pool; each transaction takes a connection, so instances share one database."""

    postgres = True
    row_order = '"seq"'

    def __init__(self, url: str, max_size: int = 8):
        self.url = url
        self.max_size = max_size
        self._pool = None
        self._pool_lock = asyncio.Lock()

    async def _get_pool(self):
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool

        async with self._pool_lock:
            if self._pool is None:
                pool = AsyncConnectionPool(
                    self.url, min_size=1, max_size=self.max_size, open=False, kwargs={"row_factory": dict_row}
                )
                await pool.open(wait=True, timeout=30)
                self._pool = pool
        return self._pool

    async def setup(self, schema: str, postgres_extra: str = "") -> None:
        """Create the tables under a lock (two instances starting together must not race), one statement a
        transaction: ``CREATE INDEX IF NOT EXISTS`` locks its table even when the index exists, and a setup that
        held those locks to the end deadlocked with another instance's writes (:func:`ddl_statements`)."""
        async with self.advisory_lock(SCHEMA_LOCK):
            for statement in ddl_statements(schema + postgres_extra):
                async with self.transaction() as tx:
                    await tx.execute(statement)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        pool = await self._get_pool()
        async with pool.connection() as conn:
            async with conn.transaction():
                yield _PostgresTx(conn)

    @asynccontextmanager
    async def advisory_lock(self, name: str) -> AsyncIterator[None]:
        """A session lock on its own connection (not the pool's: a long turn must not starve the pool)."""
        import psycopg

        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            await conn.execute("SELECT pg_advisory_lock(%s)", (lock_key(name),))
            try:
                yield
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key(name),))

    async def close(self) -> None:
        self._ready = False
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

