"""The study memory: every graded answer, each fact's FSRS card, every quiz taken, what was asked, per student.

The tables live in the chat database (:attr:`agent.settings.Settings.chat_database`): the PostgreSQL
database of ``TUTOR_DATABASE_URL`` when set (shared by every app instance, beside the checkpoints and
the chat history), else ``<TUTOR_DATA_DIR>/chat.sqlite`` beside Chainlit's own tables; keyed by the
student's identifier. Both go through :class:`common.sync_database.SyncDatabase` (the calls are short
synchronous transactions made from worker threads and the terminal).

Each answer is one transaction (the answer row and the fact's new schedule commit together or not at
all). On SQLite: WAL mode, ``synchronous=NORMAL`` (:data:`common.database.SQLITE_SYNCHRONOUS`: no fsync
per commit), ``BEGIN IMMEDIATE``, so a process killed at any point loses no committed answer and leaves no
answer without its schedule (tests/integration/test_study_durability.py kills a writer with SIGKILL); only
an OS crash or power loss can roll back the newest answers. On PostgreSQL an advisory lock per (student,
fact) serialises two instances rescheduling the same fact.

An answer is identified by (student, quiz, question index): recording it twice (a graph node re-run
after a restart, a double click) changes nothing. ``study_asked`` holds when each fact was last put
to the student (a question shown, answered or not), so a repeat quiz can avoid it
(:mod:`agent.quiz.ordering`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from fsrs import Card

from agent.study import memory
from common.sync_database import SyncDatabase
from schemas import MultipleChoiceQuestion
from schemas.study import AnswerRecord, FactRef, QuizRecord

CHAT_DB = "chat.sqlite"  # the same file as agent.settings.Settings.chat_db

# DOUBLE PRECISION, not REAL: PostgreSQL's REAL is 4 bytes (a unix time to ~2 minutes); SQLite reads both as REAL.
SCHEMA = """
CREATE TABLE IF NOT EXISTS study_answers (
    "user" TEXT NOT NULL, quiz_id TEXT NOT NULL, question_index INTEGER NOT NULL,
    fact_id TEXT NOT NULL, answered_at DOUBLE PRECISION NOT NULL, is_correct INTEGER NOT NULL, rating TEXT NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY ("user", quiz_id, question_index)
);
CREATE INDEX IF NOT EXISTS study_answers_time ON study_answers ("user", answered_at);
CREATE TABLE IF NOT EXISTS study_facts (
    "user" TEXT NOT NULL, fact_id TEXT NOT NULL, ref TEXT NOT NULL, due_at DOUBLE PRECISION NOT NULL,
    reviews INTEGER NOT NULL, lapses INTEGER NOT NULL, card TEXT NOT NULL, question TEXT NOT NULL,
    PRIMARY KEY ("user", fact_id)
);
CREATE INDEX IF NOT EXISTS study_facts_due ON study_facts ("user", due_at);
CREATE TABLE IF NOT EXISTS study_quizzes (
    "user" TEXT NOT NULL, quiz_id TEXT NOT NULL, taken_at DOUBLE PRECISION NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY ("user", quiz_id)
);
CREATE TABLE IF NOT EXISTS study_asked (
    "user" TEXT NOT NULL, fact_id TEXT NOT NULL, asked_at DOUBLE PRECISION NOT NULL, quiz_id TEXT NOT NULL,
    PRIMARY KEY ("user", fact_id)
);
"""
# PostgreSQL has no rowid: rows with the same time keep their insertion order by "seq".
POSTGRES_EXTRA = """
ALTER TABLE study_answers ADD COLUMN IF NOT EXISTS "seq" BIGSERIAL;
ALTER TABLE study_quizzes ADD COLUMN IF NOT EXISTS "seq" BIGSERIAL;
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
    """Study tables in the chat database: a SQLite file or a PostgreSQL URL (safe from any thread)."""

    def __init__(self, target: str | Path):
        self.db = SyncDatabase.open(target)
        self.db.setup(SCHEMA, POSTGRES_EXTRA)

    @classmethod
    def in_data_dir(cls, data_dir: str | Path) -> "StudyStore":
        return cls(Path(data_dir) / CHAT_DB)

    def close(self) -> None:
        self.db.close()

    # --------------------------------------------------------------------------------- writes

    def record_answer(self, record: AnswerRecord) -> bool:
        """Store the answer and reschedule its fact in one transaction; False if it was stored before."""
        when = record.answered_at.astimezone(timezone.utc)
        user, fact_id = record.user, record.fact.fact_id
        with self.db.transaction() as db:
            db.lock(f"study {user} {fact_id}")
            inserted = db.execute(
                'INSERT INTO study_answers ("user", quiz_id, question_index, fact_id, answered_at, is_correct, rating, '
                'record) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT ("user", quiz_id, question_index) DO NOTHING',
                (user, record.quiz_id, record.graded.index, fact_id, when.timestamp(),
                 int(record.graded.is_correct), record.rating, record.model_dump_json()),
            )
            if not inserted:
                return False
            rows = db.rows('SELECT card, reviews, lapses FROM study_facts WHERE "user" = ? AND fact_id = ?',
                           (user, fact_id))
            row = rows[0] if rows else None
            card = memory.reviewed(memory.loads(row["card"]) if row else None, record.rating, when)
            reviews, lapses = (row["reviews"], row["lapses"]) if row else (0, 0)
            db.execute(
                'INSERT INTO study_facts ("user", fact_id, ref, due_at, reviews, lapses, card, question) '
                'VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT ("user", fact_id) DO UPDATE SET ref = excluded.ref, '
                "due_at = excluded.due_at, reviews = excluded.reviews, lapses = excluded.lapses, "
                "card = excluded.card, question = excluded.question",
                (user, fact_id, record.fact.model_dump_json(), card.due.timestamp(), reviews + 1,
                 lapses + (record.rating == "again"), memory.dumps(card), record.question.model_dump_json()),
            )
        return True

    def record_quiz(self, record: QuizRecord) -> bool:
        """Store a quiz taken (once per quiz id); False if it was stored before."""
        with self.db.transaction() as db:
            return bool(db.execute(
                'INSERT INTO study_quizzes ("user", quiz_id, taken_at, record) VALUES (?, ?, ?, ?) '
                'ON CONFLICT ("user", quiz_id) DO NOTHING',
                (record.user, record.quiz.meta.quiz_id, record.taken_at.timestamp(), record.model_dump_json()),
            ))

    def record_asked(self, user: str, quiz_id: str, fact_ids: Iterable[str], when: datetime) -> None:
        """Note that ``fact_ids`` were put to ``user`` at ``when`` (a later time replaces an earlier one)."""
        stamp = when.astimezone(timezone.utc).timestamp()
        with self.db.transaction() as db:
            for fact_id in dict.fromkeys(fact_ids):
                db.execute(
                    'INSERT INTO study_asked ("user", fact_id, asked_at, quiz_id) VALUES (?, ?, ?, ?) '
                    'ON CONFLICT ("user", fact_id) DO UPDATE SET asked_at = excluded.asked_at, '
                    "quiz_id = excluded.quiz_id WHERE excluded.asked_at >= study_asked.asked_at",
                    (user, fact_id, stamp, quiz_id),
                )

    # ---------------------------------------------------------------------------------- reads

    def answers(self, user: str) -> list[AnswerRecord]:
        """Every graded answer of ``user``, oldest first."""
        rows = self.db.rows(
            f'SELECT record FROM study_answers WHERE "user" = ? ORDER BY answered_at, {self.db.row_order}', (user,))
        return [AnswerRecord.model_validate_json(r["record"]) for r in rows]

    def quizzes(self, user: str) -> list[QuizRecord]:
        rows = self.db.rows(
            f'SELECT record FROM study_quizzes WHERE "user" = ? ORDER BY taken_at, {self.db.row_order}', (user,))
        return [QuizRecord.model_validate_json(r["record"]) for r in rows]

    def asked(self, user: str) -> dict[str, float]:
        """When each fact was last put to ``user`` (unix time): shown in a quiz, or answered (older history)."""
        rows = self.db.rows(
            'SELECT fact_id, MAX(t) AS t FROM (SELECT fact_id, asked_at AS t FROM study_asked WHERE "user" = ? '
            'UNION ALL SELECT fact_id, answered_at AS t FROM study_answers WHERE "user" = ?) AS seen GROUP BY fact_id',
            (user, user),
        )
        return {r["fact_id"]: float(r["t"]) for r in rows}

    def memories(self, user: str, due_by: datetime | None = None) -> list[FactMemory]:
        """Every fact ``user`` has answered (only those due by ``due_by`` if given), earliest due first."""
        sql = 'SELECT ref, card, question, reviews, lapses FROM study_facts WHERE "user" = ?'
        params: tuple = (user,)
        if due_by is not None:
            sql += " AND due_at <= ?"
            params += (due_by.timestamp(),)
        rows = self.db.rows(sql + " ORDER BY due_at, fact_id", params)
        return [
            FactMemory(FactRef.model_validate_json(r["ref"]), memory.loads(r["card"]),
                       MultipleChoiceQuestion.model_validate_json(r["question"]), r["reviews"], r["lapses"])
            for r in rows
        ]

    def users(self) -> list[str]:
        return [r["user"] for r in self.db.rows('SELECT DISTINCT "user" FROM study_answers ORDER BY "user"')]
