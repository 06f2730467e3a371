"""Student accounts: names and Argon2id password hashes in the chat database (SQLite or PostgreSQL).

    accounts = Accounts(settings.chat_database)
    await accounts.add("ada", "a long password")     # AccountError if the name is taken or invalid
    await accounts.verify("ada", "a long password")   # True
    await accounts.names(); await accounts.remove("ada")

Passwords are hashed with ``argon2-cffi`` (Argon2id, the library's default parameters); only the hash
is stored. ``tutor users add|list|remove`` (:mod:`agent.app.users_cli`) manages them; the web app
asks for a login as soon as one account exists (:mod:`agent.app.auth`).
"""

from __future__ import annotations

import asyncio
import functools
import re
import threading
from pathlib import Path


from agent.app.chat_schema import POSTGRES_EXTRA, SCHEMA, utc_now
from common.database import Database

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
# Verifying an unknown name still costs one hash, so a login's timing does not tell which names exist.


@functools.cache
def _hasher():
    """argon2's hasher, imported on first use so ``tutor --help`` and the GPU training image need no argon2."""
    from argon2 import PasswordHasher

    return PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    return _hasher().hash("not a password of anyone")


class AccountError(ValueError):
    """A name or password that cannot be used (one line, for the CLI)."""


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise AccountError(
            f"invalid name {name!r}: 1-64 characters, letters, digits and . _ @ - (starting with a letter or digit)"
        )
    return name


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise AccountError(f"the password must have {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return password


class Accounts:
    """The ``accounts`` table of one chat database."""

    def __init__(self, target: str | Path):
        self.db = Database.open(target)

    async def _database(self) -> Database:
        return await self.db.ready(SCHEMA, POSTGRES_EXTRA)

    async def add(self, name: str, password: str) -> None:
        check_name(name)
        digest = await asyncio.to_thread(_hasher().hash, check_password(password))
        db = await self._database()
        async with db.transaction() as tx:
            if await tx.rows('SELECT 1 FROM accounts WHERE "identifier" = ?', (name,)):
                raise AccountError(f"user {name!r} already exists (remove it first to change the password)")
            await tx.execute(
                'INSERT INTO accounts ("identifier", "passwordHash", "createdAt") VALUES (?, ?, ?)',
                (name, digest, utc_now()),
            )

    async def remove(self, name: str) -> bool:
        """Delete the account (its chat threads stay in the history); False if there was none."""
        db = await self._database()
        async with db.transaction() as tx:
            found = await tx.rows('SELECT 1 FROM accounts WHERE "identifier" = ?', (name,))
            await tx.execute('DELETE FROM accounts WHERE "identifier" = ?', (name,))
        return bool(found)

    async def names(self) -> list[str]:
        rows = await (await self._database()).rows('SELECT "identifier" FROM accounts ORDER BY "identifier"')
        return [row["identifier"] for row in rows]

    async def verify(self, name: str, password: str) -> bool:
        rows = await (await self._database()).rows(
            'SELECT "passwordHash" FROM accounts WHERE "identifier" = ?', (name,)
        )
        digest = rows[0]["passwordHash"] if rows else _dummy_hash()
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            ok = await asyncio.to_thread(_hasher().verify, digest, password)
        except (VerificationError, InvalidHashError):
            return False
        return bool(ok and rows)

    async def close(self) -> None:
        await self.db.close()


def run_sync(coro_factory):
    """Run ``coro_factory()`` to completion from sync code, even inside a running event loop (own thread)."""
    result: dict = {}

    def target() -> None:
        try:
            result["value"] = asyncio.run(coro_factory())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            result["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def account_names(target: str | Path) -> list[str]:
    """The account names, from sync code (the launcher and the app's import decide the login mode)."""

    async def names() -> list[str]:
        accounts = Accounts(target)
        try:
            return await accounts.names()
        finally:
            await accounts.close()

    return run_sync(names)
