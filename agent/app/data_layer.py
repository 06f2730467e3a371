"""Chainlit chat history in the tutor's database: a SQLite file by default, PostgreSQL when configured.

Chainlit's own SQL data layers expect Postgres (``ChainlitDataLayer``) or SQLAlchemy with a
schema the user creates (documented with Postgres types). This layer implements
:class:`chainlit.data.base.BaseDataLayer` directly on :class:`common.database.Database`, with
:data:`SCHEMA` created on first use. Table and column names are those of
``chainlit.data.sql_alchemy.SQLAlchemyDataLayer`` (Chainlit 2.12).

Each student sees only their own threads: :meth:`ChatDataLayer.list_threads` filters by user, and a
thread's owner is set once (:meth:`ChatDataLayer.update_thread` refuses to hand it to another user).

Files are not stored (uploads are switched off in the tutor's Chainlit config); element rows keep
their metadata only.

    layer = ChatDataLayer(settings.chat_database)      # a SQLite path or a postgresql:// URL
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

from chainlit.data.base import BaseDataLayer
from chainlit.data.utils import queue_until_user_message
from chainlit.types import Feedback, PageInfo, PaginatedResponse, Pagination, ThreadDict, ThreadFilter
from chainlit.user import PersistedUser, User

from agent.app.chat_schema import (
    BOOL_STEP_COLUMNS,
    ELEMENT_COLUMNS,
    JSON_STEP_COLUMNS,
    POSTGRES_EXTRA,
    SCHEMA,
    STEP_COLUMNS,
    columns_sql,
    element_from_row,
    json_or,
    step_from_row,
    utc_now,
)
from common.database import Database


class ThreadOwnerError(PermissionError):
    """A user tried to take over another user's thread."""


def _new_thread(thread_id: str) -> tuple[str, tuple]:
    """The statement that creates thread ``thread_id`` unless it exists."""
    return ('INSERT INTO threads ("id", "createdAt", "metadata") VALUES (?, ?, ?) ON CONFLICT ("id") DO NOTHING',
            (thread_id, utc_now(), "{}"))


class ChatDataLayer(BaseDataLayer):
    """Users, threads, steps, elements and feedback in one database (SQLite file or PostgreSQL URL)."""

    def __init__(self, target: str | Path):
        self.db = Database.open(target)
        # Chainlit looks the user up on every HTTP call (each answer click); a user row changes only through
        # create_user. Without this, a click waited for the chat-history writes queued before it on the one
        # SQLite connection (20 students: clicks 0.8 s slower than typed letters, bench/load_sessions.py).
        self._users: dict[str, dict[str, Any]] = {}

    async def _database(self) -> Database:
        return await self.db.ready(SCHEMA, POSTGRES_EXTRA)

    async def _rows(self, sql: str, params: tuple | dict = ()) -> list[dict[str, Any]]:
        return await (await self._database()).rows(sql, params)

    async def _write(self, *statements: tuple[str, tuple | dict]) -> None:
        """Run statements in one transaction."""
        await (await self._database()).write(*statements)

    # -------------------------------------------------------------------------------- users

    async def get_user(self, identifier: str) -> PersistedUser | None:
        row = self._users.get(identifier)
        if row is None:
            rows = await self._rows('SELECT * FROM users WHERE "identifier" = ?', (identifier,))
            if not rows:
                return None
            row = self._users[identifier] = rows[0]
        metadata = json_or(row["metadata"], {})
        return PersistedUser(id=row["id"], identifier=row["identifier"], createdAt=row["createdAt"], metadata=metadata)

    async def create_user(self, user: User) -> PersistedUser | None:
        metadata = json.dumps(user.metadata or {})
        await self._write(
            (
                'INSERT INTO users ("id", "identifier", "metadata", "createdAt") VALUES (?, ?, ?, ?) '
                'ON CONFLICT ("identifier") DO UPDATE SET "metadata" = excluded."metadata"',
                (str(uuid.uuid4()), user.identifier, metadata, utc_now()),
            )
        )
        self._users.pop(user.identifier, None)
        return await self.get_user(user.identifier)

    # ------------------------------------------------------------------------------ threads

    async def get_thread_author(self, thread_id: str) -> str:
        rows = await self._rows('SELECT "userIdentifier" FROM threads WHERE "id" = ?', (thread_id,))
        return (rows[0]["userIdentifier"] or "") if rows else ""

    async def update_thread(
        self,
        thread_id: str,
        name: str | None = None,
        user_id: str | None = None,
        metadata: dict | None = None,
        tags: list[str] | None = None,
    ):
        """Create the thread if needed, then apply the given fields (metadata is merged; None deletes a key)."""
        db = await self._database()
        lock = " FOR UPDATE" if db.postgres else ""  # SQLite: the database's one connection serialises
        async with db.transaction() as tx:  # concurrent first steps of a new thread must not race
            await tx.execute(*_new_thread(thread_id))
            row = (await tx.rows(f'SELECT "userId", "metadata" FROM threads WHERE "id" = ?{lock}', (thread_id,)))[0]
            changed: dict[str, Any] = {}
            if metadata is not None:
                merged = json_or(row["metadata"], {})
                for key, value in metadata.items():
                    if value is None:
                        merged.pop(key, None)
                    else:
                        merged[key] = value
                changed["metadata"] = json.dumps(merged)
                if name is None:
                    name = metadata.get("name")
            if name is not None:
                changed["name"] = name
            if user_id is not None:
                if row["userId"] not in (None, user_id):
                    raise ThreadOwnerError(f"thread {thread_id} belongs to another user")
                users = await tx.rows('SELECT "identifier" FROM users WHERE "id" = ?', (user_id,))
                changed["userId"] = user_id
                if users:
                    changed["userIdentifier"] = users[0]["identifier"]
            if tags is not None:
                changed["tags"] = json.dumps(tags)
            if changed:
                assignments = ", ".join(f'"{k}" = ?' for k in changed)
                await tx.execute(f'UPDATE threads SET {assignments} WHERE "id" = ?', (*changed.values(), thread_id))

    async def delete_thread(self, thread_id: str):
        await self._write(
            ('DELETE FROM feedbacks WHERE "forId" IN (SELECT "id" FROM steps WHERE "threadId" = ?)', (thread_id,)),
            ('DELETE FROM feedbacks WHERE "threadId" = ?', (thread_id,)),
            ('DELETE FROM elements WHERE "threadId" = ?', (thread_id,)),
            ('DELETE FROM steps WHERE "threadId" = ?', (thread_id,)),
            ('DELETE FROM threads WHERE "id" = ?', (thread_id,)),
        )

    async def list_threads(self, pagination: Pagination, filters: ThreadFilter) -> PaginatedResponse[ThreadDict]:
        if not filters.userId:
            raise ValueError("userId is required")
        conditions, params = ['t."userId" = ?'], [filters.userId]
        if filters.search:
            conditions.append(
                'EXISTS (SELECT 1 FROM steps s WHERE s."threadId" = t."id" AND '
                '(lower(s."output") LIKE ? OR lower(coalesce(t."name", \'\')) LIKE ?))'
            )
            pattern = "%" + filters.search.lower().replace("%", "").replace("_", "") + "%"
            params += [pattern, pattern]
        if filters.feedback is not None:
            conditions.append(
                'EXISTS (SELECT 1 FROM steps s JOIN feedbacks f ON f."forId" = s."id" '
                'WHERE s."threadId" = t."id" AND f."value" = ?)'
            )
            params.append(int(filters.feedback))
        rows = await self._rows(
            f"""SELECT t."id", coalesce(MAX(s."createdAt"), t."createdAt") AS "updatedAt"
                FROM threads t LEFT JOIN steps s ON s."threadId" = t."id"
                WHERE {' AND '.join(conditions)}
                GROUP BY t."id" ORDER BY "updatedAt" DESC, t."id" """,
            tuple(params),
        )
        ids = [r["id"] for r in rows]
        start = ids.index(pagination.cursor) + 1 if pagination.cursor in ids else 0
        page = ids[start : start + pagination.first]
        threads = [t for t in [await self.get_thread(i) for i in page] if t is not None]
        return PaginatedResponse(
            pageInfo=PageInfo(
                hasNextPage=len(ids) > start + pagination.first,
                startCursor=page[0] if page else None,
                endCursor=page[-1] if page else None,
            ),
            data=threads,
        )

    async def get_thread(self, thread_id: str) -> ThreadDict | None:
        rows = await self._rows('SELECT * FROM threads WHERE "id" = ?', (thread_id,))
        if not rows:
            return None
        thread = rows[0]
        steps = await self._rows(
            'SELECT s.*, f."id" AS "feedbackId", f."value" AS "feedbackValue", f."comment" AS "feedbackComment" '
            'FROM steps s LEFT JOIN feedbacks f ON f."forId" = s."id" '
            f'WHERE s."threadId" = ? ORDER BY s."createdAt", s.{self.db.row_order}',
            (thread_id,),
        )
        elements = await self._rows('SELECT * FROM elements WHERE "threadId" = ?', (thread_id,))
        return ThreadDict(
            id=thread["id"],
            createdAt=thread["createdAt"],
            name=thread["name"],
            userId=thread["userId"],
            userIdentifier=thread["userIdentifier"],
            tags=json_or(thread["tags"], None),
            metadata=json_or(thread["metadata"], {}),
            steps=[step_from_row(row) for row in steps],
            elements=[element_from_row(row) for row in elements],
        )

    # -------------------------------------------------------------------------------- steps

    @queue_until_user_message()
    async def create_step(self, step_dict: dict):
        values: dict[str, Any] = {}
        for key in STEP_COLUMNS:
            if key not in step_dict or step_dict[key] is None:
                continue
            value = step_dict[key]
            if key in JSON_STEP_COLUMNS:
                value = json.dumps(value)
            elif key in BOOL_STEP_COLUMNS:
                value = int(bool(value))
            elif key == "showInput":
                value = str(value).lower()
            values[key] = value
        values.setdefault("metadata", "{}")
        updates = ", ".join(f'"{k}" = excluded."{k}"' for k in values if k != "id")
        sql = (
            f"INSERT INTO steps ({columns_sql(values)}) VALUES ({', '.join('?' for _ in values)}) "
            f'ON CONFLICT ("id") DO UPDATE SET {updates}'
        )
        # The thread row and the step in one transaction (each message of every session comes here: with 20
        # students at once, a second transaction per message queued them behind each other, bench/load_sessions.py).
        await self._write(_new_thread(step_dict["threadId"]), (sql, tuple(values.values())))

    @queue_until_user_message()
    async def update_step(self, step_dict: dict):
        await self.create_step(step_dict)

    @queue_until_user_message()
    async def delete_step(self, step_id: str):
        await self._write(
            ('DELETE FROM feedbacks WHERE "forId" = ?', (step_id,)),
            ('DELETE FROM elements WHERE "forId" = ?', (step_id,)),
            ('DELETE FROM steps WHERE "id" = ?', (step_id,)),
        )

    async def get_favorite_steps(self, user_id: str) -> list[dict]:
        rows = await self._rows(
            'SELECT s.*, NULL AS "feedbackValue" FROM steps s JOIN threads t ON t."id" = s."threadId" '
            'WHERE t."userId" = ? ORDER BY s."createdAt" DESC',
            (user_id,),
        )
        steps = [step_from_row(row) for row in rows]
        return [s for s in steps if (s.get("metadata") or {}).get("favorite")]

    # ----------------------------------------------------------------------------- feedback

    async def upsert_feedback(self, feedback: Feedback) -> str:
        feedback.id = feedback.id or str(uuid.uuid4())
        row = asdict(feedback)
        values = {k: row.get(k) for k in ("id", "forId", "threadId", "value", "comment")}
        await self._write(
            (
                'INSERT INTO feedbacks ("id", "forId", "threadId", "value", "comment") VALUES (?, ?, ?, ?, ?) '
                'ON CONFLICT ("id") DO UPDATE SET "value" = excluded."value", "comment" = excluded."comment"',
                tuple(values.values()),
            )
        )
        return feedback.id

    async def delete_feedback(self, feedback_id: str) -> bool:
        await self._write(('DELETE FROM feedbacks WHERE "id" = ?', (feedback_id,)))
        return True

    # ----------------------------------------------------------------------------- elements

    @queue_until_user_message()
    async def create_element(self, element):
        data = element.to_dict()
        if not data.get("threadId"):
            return
        await self.update_thread(data["threadId"])
        values = {k: data.get(k) for k in ELEMENT_COLUMNS}
        values["props"] = json.dumps(values.get("props") or {})
        values["name"] = values.get("name") or ""
        updates = ", ".join(f'"{k}" = excluded."{k}"' for k in values if k != "id")
        sql = (
            f"INSERT INTO elements ({columns_sql(values)}) VALUES ({', '.join('?' for _ in values)}) "
            f'ON CONFLICT ("id") DO UPDATE SET {updates}'
        )
        await self._write((sql, tuple(values.values())))

    async def get_element(self, thread_id: str, element_id: str) -> dict | None:
        rows = await self._rows('SELECT * FROM elements WHERE "threadId" = ? AND "id" = ?', (thread_id, element_id))
        return element_from_row(rows[0]) if rows else None

    @queue_until_user_message()
    async def delete_element(self, element_id: str, thread_id: str | None = None):
        await self._write(('DELETE FROM elements WHERE "id" = ?', (element_id,)))

    # ------------------------------------------------------------------------------- other

    async def build_debug_url(self) -> str:
        return ""

    async def close(self) -> None:
        await self.db.close()


SQLiteDataLayer = ChatDataLayer  # the name before PostgreSQL support
