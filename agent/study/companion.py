"""The study companion: one object the graph, the app and the CLI call (store + knowledge + clock).

    companion = StudyCompanion.open(settings.chat_database, kb)   # PostgreSQL URL, else <data_dir>/chat.sqlite
    asked = companion.asked(user)                            # fact id -> last asked: a new quiz avoids them
    companion.record_asked(user, quiz_id, question)          # when a question is shown
    companion.record_answer(user, quiz_id, question, graded, retry=False)   # after every graded answer
    companion.record_quiz(user, quiz, result)                # when a quiz ends
    plan = companion.review_plan(user, count=10, seed=0)     # None when nothing is due
    companion.progress(user); progress_png(...); export_bytes(companion.collect(user, "history"), "anki")

Every call reads the clock afresh (``TUTOR_CLOCK_OFFSET_DAYS`` moves "now" for a running app).
Calls are synchronous transactions (SQLite or PostgreSQL) of a few milliseconds; async callers wrap them in
``asyncio.to_thread``.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from agent.quiz.assemble import balanced_positions
from agent.study.clock import Clock
from agent.study.export import Questions, from_export
from agent.study.facts import fact_id_of, fact_ref, locate
from agent.study.memory import rating_for, recall
from agent.study.progress import build_progress, weakest
from agent.study.store import StudyStore
from knowledge.base import KnowledgeBase
from schemas import MAX_QUESTIONS, GradedAnswer, MultipleChoiceQuestion, Quiz, QuizMeta, QuizPlan, QuizResult
from schemas.study import AnswerRecord, DueFact, Export, Progress, QuizRecord

REVIEW_TOPIC = "Review of due facts"


class StudyCompanion:
    """Per-student memory of facts: record answers, report progress, plan reviews, export."""

    def __init__(self, store: StudyStore, kb: KnowledgeBase, clock: Clock | None = None):
        self.store, self.kb, self.clock = store, kb, clock or Clock()

    @classmethod
    def open(cls, database: str | Path, kb: KnowledgeBase, clock: Clock | None = None) -> "StudyCompanion":
        """The companion on the chat database: a SQLite file or a PostgreSQL URL (``Settings.chat_database``)."""
        return cls(StudyStore(database), kb, clock)

    def on(self, kb: KnowledgeBase) -> "StudyCompanion":
        """The same memory over another knowledge base (the cards plus one student's notes)."""
        return StudyCompanion(self.store, kb, self.clock)

    # --------------------------------------------------------------------------------- record

    def record_answer(
        self, user: str, quiz_id: str, question: MultipleChoiceQuestion, graded: GradedAnswer, retry: bool = False
    ) -> AnswerRecord | None:
        """Store a graded answer and reschedule its fact; None if this answer was stored before."""
        record = AnswerRecord(
            user=user, quiz_id=quiz_id, fact=fact_ref(self.kb, question), answered_at=self.clock.now(),
            rating=rating_for(graded.is_correct, retry), retry=retry, question=question, graded=graded,
        )
        return record if self.store.record_answer(record) else None

    def record_quiz(self, user: str, quiz: Quiz, result: QuizResult) -> bool:
        return self.store.record_quiz(QuizRecord(user=user, taken_at=self.clock.now(), quiz=quiz, result=result))

    def record_asked(self, user: str, quiz_id: str, question: MultipleChoiceQuestion) -> None:
        """Note that ``question``'s fact was put to ``user`` now (called when the question is shown)."""
        self.store.record_asked(user, quiz_id, [fact_id_of(question)], self.clock.now())

    def asked(self, user: str) -> dict[str, float]:
        """The facts ``user`` has been asked, with when (unix time), for a repeat quiz to avoid them.

        Review and retry quizzes do not use it: they re-ask on purpose.
        """
        return self.store.asked(user)

    # -------------------------------------------------------------------------------- reports

    def progress(self, user: str) -> Progress:
        return build_progress(user, self.clock.now(), self.store.memories(user), self.store.answers(user),
                              self.kb.cards)

    def due(self, user: str) -> list[DueFact]:
        """Facts due now, most overdue first."""
        now = self.clock.now()
        return [
            DueFact(fact=m.ref, due=m.due, overdue_days=max(0.0, (now - m.due).total_seconds() / 86400),
                    recall=recall(m.card, now), question=m.question)
            for m in self.store.memories(user, due_by=now)
        ]

    def review_note(self, user: str, k: int = 3) -> str:
        """One line for a quiz summary: the weakest concepts and when each is next due."""
        concepts = weakest(self.progress(user), k)
        now = self.clock.now()
        # No percentage here: right after an answer FSRS predicts ~100% recall even for a miss; the
        # ranking (lowest recall, then earliest due) still puts the missed concepts first.
        parts = [f"{c.concept} (" + ("due now" if c.next_due <= now else f"next due {c.next_due:%Y-%m-%d %H:%M} UTC")
                 + ")" for c in concepts if c.next_due is not None]
        return "Weakest concepts: " + "; ".join(parts) if parts else ""

    def nothing_due_message(self, user: str) -> str:
        """What to tell a student who asks for a review when nothing is due."""
        progress = self.progress(user)
        if not progress.seen:
            return "Nothing to review yet: take a quiz first, and the facts you meet come back here when they are due."
        when, concept = min((c.next_due, c.concept) for a in progress.areas for c in a.concepts if c.next_due)
        return f"Nothing is due for review now. Next: {concept} on {when:%Y-%m-%d %H:%M} UTC."

    # --------------------------------------------------------------------------------- review

    def review_plan(self, user: str, count: int = 10, seed: int = 0, model_label: str = "") -> QuizPlan | None:
        """A quiz plan of the facts due now, most overdue first (None when none is due or findable).

        The quiz writer writes it like any plan (``TutorService.write_question``); later due facts are
        the spares. Facts the knowledge base no longer holds are skipped.
        """
        items = []
        for fact in self.due(user):
            item = locate(self.kb, fact.fact, fact.question.explanation)
            if item is not None and item not in items:
                items.append(item)
        if not items:
            return None
        count = max(1, min(count, MAX_QUESTIONS))
        chosen, spares = items[:count], items[count:count + 40]
        meta = QuizMeta(quiz_id=uuid.uuid4().hex, model=model_label or "review", seed=seed, requested=len(chosen))
        return QuizPlan(topic=REVIEW_TOPIC, meta=meta, items=chosen, spares=spares,
                        letters=balanced_positions(len(chosen), seed))

    # --------------------------------------------------------------------------------- export

    def collect(self, user: str, what: str) -> Questions:
        """The export of ``what`` ("quizzes", "history" or "due") for ``user``."""
        now = self.clock.now()
        if what == "quizzes":
            document = Export(what=what, user=user, exported_at=now, quizzes=self.store.quizzes(user))
        elif what == "history":
            document = Export(what=what, user=user, exported_at=now, history=self.store.answers(user))
        elif what == "due":
            document = Export(what=what, user=user, exported_at=now, due=self.due(user))
        else:
            raise ValueError(f"unknown export {what!r}; choose quizzes, history or due")
        return from_export(document, f"{user} {what}")
