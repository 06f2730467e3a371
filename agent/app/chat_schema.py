"""The schema of the chat database and row <-> Chainlit dict conversion (pure; no I/O).

Table and column names follow ``chainlit.data.sql_alchemy.SQLAlchemyDataLayer`` (Chainlit 2.12);
the types are ones SQLite and PostgreSQL both read (JSON as TEXT, booleans as INTEGER 0/1, timestamps
as ISO-8601 TEXT), so one schema serves both. ``accounts`` holds the students' password hashes
(:mod:`agent.app.accounts`).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    "id" TEXT PRIMARY KEY,
    "identifier" TEXT NOT NULL UNIQUE,
    "metadata" TEXT NOT NULL DEFAULT '{}',
    "createdAt" TEXT
);
CREATE TABLE IF NOT EXISTS threads (
    "id" TEXT PRIMARY KEY,
    "createdAt" TEXT,
    "name" TEXT,
    "userId" TEXT REFERENCES users("id") ON DELETE CASCADE,
    "userIdentifier" TEXT,
    "tags" TEXT,
    "metadata" TEXT
);
CREATE TABLE IF NOT EXISTS steps (
    "id" TEXT PRIMARY KEY,
    "name" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "threadId" TEXT NOT NULL REFERENCES threads("id") ON DELETE CASCADE,
    "parentId" TEXT,
    "streaming" INTEGER NOT NULL DEFAULT 0,
    "waitForAnswer" INTEGER,
    "isError" INTEGER,
    "metadata" TEXT,
    "tags" TEXT,
    "input" TEXT,
    "output" TEXT,
    "createdAt" TEXT,
    "command" TEXT,
    "start" TEXT,
    "end" TEXT,
    "generation" TEXT,
    "showInput" TEXT,
    "language" TEXT,
    "indent" INTEGER,
    "defaultOpen" INTEGER,
    "autoCollapse" INTEGER
);
CREATE TABLE IF NOT EXISTS elements (
    "id" TEXT PRIMARY KEY,
    "threadId" TEXT REFERENCES threads("id") ON DELETE CASCADE,
    "type" TEXT,
    "url" TEXT,
    "chainlitKey" TEXT,
    "name" TEXT NOT NULL,
    "display" TEXT,
    "objectKey" TEXT,
    "size" TEXT,
    "page" INTEGER,
    "language" TEXT,
    "forId" TEXT,
    "mime" TEXT,
    "props" TEXT
);
CREATE TABLE IF NOT EXISTS feedbacks (
    "id" TEXT PRIMARY KEY,
    "forId" TEXT NOT NULL,
    "threadId" TEXT REFERENCES threads("id") ON DELETE CASCADE,
    "value" INTEGER NOT NULL,
    "comment" TEXT
);
CREATE TABLE IF NOT EXISTS accounts (
    "identifier" TEXT PRIMARY KEY,
    "passwordHash" TEXT NOT NULL,
    "createdAt" TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS steps_by_thread ON steps ("threadId", "createdAt");
CREATE INDEX IF NOT EXISTS threads_by_user ON threads ("userId");
CREATE INDEX IF NOT EXISTS feedbacks_by_step ON feedbacks ("forId");
"""

# PostgreSQL has no rowid: steps with the same timestamp keep their insertion order by "seq".
POSTGRES_EXTRA = """
ALTER TABLE steps ADD COLUMN IF NOT EXISTS "seq" BIGSERIAL;
"""

STEP_COLUMNS = (
    "id", "name", "type", "threadId", "parentId", "streaming", "waitForAnswer", "isError", "metadata", "tags",
    "input", "output", "createdAt", "command", "start", "end", "generation", "showInput", "language",
    "defaultOpen", "autoCollapse",
)
JSON_STEP_COLUMNS = ("metadata", "tags", "generation")
BOOL_STEP_COLUMNS = ("streaming", "waitForAnswer", "isError", "defaultOpen", "autoCollapse")
ELEMENT_COLUMNS = (
    "id", "threadId", "type", "url", "chainlitKey", "name", "display", "objectKey", "size", "page", "language",
    "forId", "mime", "props",
)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def json_or(value: Any, default: Any) -> Any:
    if value is None or value == "":
        return default
    if isinstance(value, (dict, list)):
        return value
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return default


def columns_sql(names) -> str:
    return ", ".join(f'"{n}"' for n in names)


def step_from_row(row: dict[str, Any]) -> dict[str, Any]:
    step: dict[str, Any] = {k: row.get(k) for k in STEP_COLUMNS}
    for key in JSON_STEP_COLUMNS:
        step[key] = json_or(step[key], {} if key == "metadata" else None)
    for key in BOOL_STEP_COLUMNS:
        step[key] = None if step[key] is None else bool(step[key])
    step["streaming"] = bool(step["streaming"])
    if step["showInput"] in (None, "false"):
        step["input"] = ""
    step["feedback"] = (
        {"id": row["feedbackId"], "forId": row["id"], "value": row["feedbackValue"],
         "comment": row["feedbackComment"]}
        if row.get("feedbackValue") is not None
        else None
    )
    return step


def element_from_row(row: dict[str, Any]) -> dict[str, Any]:
    element = {k: row.get(k) for k in ELEMENT_COLUMNS}
    element["props"] = json_or(element["props"], {})
    return element
