"""The study memory in SQLite: every graded answer, each fact's FSRS card, every quiz taken, per student.

The tables live in the chat-history database (``<TUTOR_DATA_DIR>/chat.sqlite``, beside Chainlit's
own tables), keyed by the student's identifier. Each answer is one transaction (``BEGIN IMMEDIATE``:
the answer row and the fact's new schedule commit together or not at all), in WAL mode with
``synchronous=NORMAL`` (:data:`common.database.SQLITE_SYNCHRONOUS`: no fsync per commit), so a process
killed at any point loses no committed answer and leaves no answer without its schedule
(tests/integration/test_study_durability.py kills a writer with SIGKILL); only an OS crash or power
loss can roll back the newest answers.

An answer is identified by (student, quiz, question index): recording it twice (a graph node re-run
after a restart, a double click) changes nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from fsrs import Card

from agent.study import memory
from common.database import SQLITE_SYNCHRONOUS
from schemas import MultipleChoiceQuestion
from schemas.study import AnswerRecord, FactRef, QuizRecord

CHAT_DB = "chat.sqlite"  # the same file as agent.settings.Settings.chat_db

SCHEMA = """
CREATE TABLE IF NOT EXISTS study_answers (
    "user" TEXT NOT NULL, quiz_id TEXT NOT NULL, question_index INTEGER NOT NULL,
    fact_id TEXT NOT NULL, answered_at REAL NOT NULL, is_correct INTEGER NOT NULL, rating TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY ("user", quiz_id, question_index)
);
CREATE INDEX IF NOT EXISTS study_answers_time ON study_answers ("user", answered_at);
CREATE TABLE IF NOT EXISTS study_facts (
    "user" TEXT NOT NULL, fact_id TEXT NOT NULL, ref TEXT NOT NULL, due_at REAL NOT NULL,
    reviews INTEGER NOT NULL, lapses INTEGER NOT NULL, card TEXT NOT NULL, question TEXT NOT NULL,
    PRIMARY KEY ("user", fact_id)
);
CREATE INDEX IF NOT EXISTS study_facts_due ON study_facts ("user", due_at);
CREATE TABLE IF NOT EXISTS study_quizzes (
    "user" TEXT NOT NULL, quiz_id TEXT NOT NULL, taken_at REAL NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY ("user", quiz_id)
);
"""


@dataclass(frozen=True)
class FactMemory:
    """What the tutor remembers of one student and one fact."""

    ref: FactRef
    card: Card
    question: MultipleChoiceQuestion  # the question last asked about it
    reviews: int
    lapses: int

    @property
    def due(self) -> datetime:
        return self.card.due


class StudyStore:
    """Study tables in one SQLite file; a short-lived connection per call (safe from any thread)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    @classmethod
    def in_data_dir(cls, data_dir: str | Path) -> "StudyStore":
        return cls(Path(data_dir) / CHAT_DB)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
        try:
            db.execute(f"PRAGMA synchronous={SQLITE_SYNCHRONOUS}")
            db.execute("PRAGMA busy_timeout=10000")
            yield db
        finally:
            db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # --------------------------------------------------------------------------------- writes

    def record_answer(self, record: AnswerRecord) -> bool:
        """Store the answer and reschedule its fact in one transaction; False if it was stored before."""
        when = record.answered_at.astimezone(timezone.utc)
        with self._transaction() as db:
            inserted = db.execute(
                'INSERT OR IGNORE INTO study_answers ("user", quiz_id, question_index, fact_id, answered_at, '
                "is_correct, rating, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (record.user, record.quiz_id, record.graded.index, record.fact.fact_id, when.timestamp(),
                 int(record.graded.is_correct), record.rating, record.model_dump_json()),
            ).rowcount
            if not inserted:
                return False
            row = db.execute(
                'SELECT card, reviews, lapses FROM study_facts WHERE "user" = ? AND fact_id = ?',
                (record.user, record.fact.fact_id),
            ).fetchone()
            card = memory.reviewed(memory.loads(row[0]) if row else None, record.rating, when)
            reviews, lapses = (row[1], row[2]) if row else (0, 0)
            db.execute(
                'INSERT OR REPLACE INTO study_facts ("user", fact_id, ref, due_at, reviews, lapses, card, question) '
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (record.user, record.fact.fact_id, record.fact.model_dump_json(), card.due.timestamp(), reviews + 1,
                 lapses + (record.rating == "again"), memory.dumps(card), record.question.model_dump_json()),
            )
        return True

    def record_quiz(self, record: QuizRecord) -> bool:
        """Store a quiz taken (once per quiz id); False if it was stored before."""
        with self._transaction() as db:
            return bool(db.execute(
                'INSERT OR IGNORE INTO study_quizzes ("user", quiz_id, taken_at, record) VALUES (?, ?, ?, ?)',
                (record.user, record.quiz.meta.quiz_id, record.taken_at.timestamp(), record.model_dump_json()),
            ).rowcount)

    # ---------------------------------------------------------------------------------- reads

    def answers(self, user: str) -> list[AnswerRecord]:
        """Every graded answer of ``user``, oldest first."""
        rows = self._select('SELECT record FROM study_answers WHERE "user" = ? ORDER BY answered_at, rowid', (user,))
        return [AnswerRecord.model_validate_json(r[0]) for r in rows]

    def quizzes(self, user: str) -> list[QuizRecord]:
        rows = self._select('SELECT record FROM study_quizzes WHERE "user" = ? ORDER BY taken_at, rowid', (user,))
        return [QuizRecord.model_validate_json(r[0]) for r in rows]

    def memories(self, user: str, due_by: datetime | None = None) -> list[FactMemory]:
        """Every fact ``user`` has answered (only those due by ``due_by`` if given), earliest due first."""
        sql = 'SELECT ref, card, question, reviews, lapses FROM study_facts WHERE "user" = ?'
        params: tuple = (user,)
        if due_by is not None:
            sql += " AND due_at <= ?"
            params += (due_by.timestamp(),)
        rows = self._select(sql + " ORDER BY due_at, fact_id", params)
        return [
            FactMemory(FactRef.model_validate_json(r[0]), memory.loads(r[1]),
                       MultipleChoiceQuestion.model_validate_json(r[2]), r[3], r[4])
            for r in rows
        ]

    def users(self) -> list[str]:
        return [r[0] for r in self._select('SELECT DISTINCT "user" FROM study_answers ORDER BY "user"')]

    def _select(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._connect() as db:
            return db.execute(sql, params).fetchall()
