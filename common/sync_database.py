"""The synchronous twin of :mod:`common.database`: the same two targets and SQL, for worker threads.

    db = SyncDatabase.open(settings.chat_database)           # a SQLite path or a postgresql:// URL
    db.setup(SCHEMA, POSTGRES_EXTRA)                         # CREATE ... IF NOT EXISTS
    with db.transaction() as tx:                             # one transaction, rolled back on error
        tx.lock(f"fact {user} {fact_id}")                   # serialise a read-modify-write (PostgreSQL)
        changed = tx.execute("INSERT ... ON CONFLICT DO NOTHING", (...))
    rows = db.rows('SELECT * FROM study_facts WHERE "user" = ?', (user,))   # dicts

Used by the study store (:mod:`agent.study.store`), whose calls are short synchronous transactions
made from worker threads and from the terminal, where an event loop would be in the way.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from common.database import SCHEMA_LOCK, SQLITE_SYNCHRONOUS, ddl_statements, is_postgres, lock_key, pg_sql

_SQLITE_WRITERS: dict[str, threading.Lock] = {}
_SQLITE_WRITERS_GUARD = threading.Lock()


def sqlite_write_lock(path: Path) -> threading.Lock:
    """The lock this process's synchronous writers of the SQLite file ``path`` (the study store
    through :class:`SyncSQLiteDatabase`) take before ``BEGIN IMMEDIATE``: they queue here, not in SQLite's busy handler,
    which retries after sleeps of up to 100 ms in no order. With 50 students answering at once
    (bench/load_sessions.py) that handler made recording one asked question take a median 56 ms and up to 3.7 s."""
    key = str(Path(path).resolve())
    with _SQLITE_WRITERS_GUARD:
        return _SQLITE_WRITERS.setdefault(key, threading.Lock())


class SyncTx(Protocol):
    def execute(self, sql: str, params: tuple = ()) -> int: ...  # the number of rows changed
    def rows(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]: ...
    def lock(self, name: str) -> None: ...  # held until the transaction ends (SQLite: the write lock already is)


class SyncDatabase:
    """The same two targets for synchronous callers in worker threads (the study store, the terminal).

    SQLite: a short-lived connection per call, WAL, ``synchronous`` as :data:`common.database.SQLITE_SYNCHRONOUS`, each transaction
    ``BEGIN IMMEDIATE`` (one writer at a time, so a read-modify-write needs no other lock).
    PostgreSQL: a psycopg 3 connection pool; :meth:`SyncTx.lock` takes a transaction-scoped advisory lock.
    """

    postgres = False
    row_order = "rowid"

    @staticmethod
    def open(target: str | Path) -> "SyncDatabase":
        return SyncPostgresDatabase(str(target)) if is_postgres(target) else SyncSQLiteDatabase(Path(target))

    def setup(self, schema: str, postgres_extra: str = "") -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def transaction(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def rows(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        with self.transaction() as tx:
            return tx.rows(sql, params)

    def close(self) -> None:
        pass


class _SyncSQLiteTx:
    def __init__(self, conn):
        self.conn = conn

    def execute(self, sql: str, params: tuple = ()) -> int:
        return self.conn.execute(sql, params).rowcount

    def rows(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        return [dict(row) for row in self.conn.execute(sql, params).fetchall()]

    def lock(self, name: str) -> None:
        pass


class SyncSQLiteDatabase(SyncDatabase):
    def __init__(self, path: Path):
        self.path = path

    def setup(self, schema: str, postgres_extra: str = "") -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(schema)

    @contextmanager
    def _connect(self) -> Iterator[Any]:
        import sqlite3

        conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
            conn.execute("PRAGMA busy_timeout=10000")
            yield conn
        finally:
            conn.close()

    @contextmanager
    def transaction(self) -> Iterator[SyncTx]:
        with sqlite_write_lock(self.path), self._connect() as conn:  # the process's writers queue there
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield _SyncSQLiteTx(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def rows(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        with self._connect() as conn:  # a read needs no write lock
            return _SyncSQLiteTx(conn).rows(sql, params)


class _SyncPostgresTx:
    def __init__(self, conn):
        self.conn = conn

    def execute(self, sql: str, params: tuple = ()) -> int:
        return self.conn.execute(pg_sql(sql), params or None).rowcount

    def rows(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:
        return list(self.conn.execute(pg_sql(sql), params or None).fetchall())

    def lock(self, name: str) -> None:
        self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(name),))


class SyncPostgresDatabase(SyncDatabase):
    """A psycopg 3 (synchronous) connection pool, opened on first use; safe from any thread."""

    postgres = True
    row_order = '"seq"'

    def __init__(self, url: str, max_size: int = 4):
        self.url, self.max_size = url, max_size
        self._pool = None
        self._pool_lock = threading.Lock()

    def _get_pool(self):
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        with self._pool_lock:
            if self._pool is None:
                self._pool = ConnectionPool(self.url, min_size=1, max_size=self.max_size, open=False,
                                            kwargs={"row_factory": dict_row})
                self._pool.open(wait=True, timeout=30)
        return self._pool

    def setup(self, schema: str, postgres_extra: str = "") -> None:
        """Create the tables under a session lock, one statement a transaction (see :func:`ddl_statements`)."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (lock_key(SCHEMA_LOCK),))
            try:
                for statement in ddl_statements(schema + postgres_extra):
                    conn.execute(statement)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key(SCHEMA_LOCK),))

    @contextmanager
    def transaction(self) -> Iterator[SyncTx]:
        with self._get_pool().connection() as conn:
            with conn.transaction():
                yield _SyncPostgresTx(conn)

    def close(self) -> None:
        with self._pool_lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None
