"""The small database interface (common/database.py): one setup however many first calls arrive together.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_database.py -q
"""

from __future__ import annotations

import asyncio

from common.database import SQLiteDatabase, ddl_statements

SCHEMA = 'CREATE TABLE IF NOT EXISTS "t" ("id" TEXT PRIMARY KEY);\nCREATE INDEX IF NOT EXISTS t_id ON "t" ("id");\n'


class _CountingDatabase(SQLiteDatabase):
    setups = 0

    async def setup(self, schema: str, postgres_extra: str = "") -> None:
        self.setups += 1
        await asyncio.sleep(0.01)  # let the other first callers arrive while this one sets up
        await super().setup(schema, postgres_extra)


async def test_first_calls_arriving_together_set_up_once(tmp_path):
    db = _CountingDatabase(tmp_path / "x.sqlite")
    await asyncio.gather(*(db.ready(SCHEMA) for _ in range(5)))
    await db.write(('INSERT INTO "t" ("id") VALUES (?)', ("a",)))
    assert db.setups == 1 and await db.rows('SELECT "id" FROM "t"') == [{"id": "a"}]
    await db.close()
    await db.ready(SCHEMA)  # closed: set up again on the next use
    assert db.setups == 2
    await db.close()


def test_ddl_statements_split_a_script_into_its_statements():
    assert ddl_statements(SCHEMA) == ['CREATE TABLE IF NOT EXISTS "t" ("id" TEXT PRIMARY KEY)',
                                      '\nCREATE INDEX IF NOT EXISTS t_id ON "t" ("id")']
