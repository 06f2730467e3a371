"""The study store and companion: answers, schedules, due facts, review plans (SQLite in tmp; no model).

    pytest -q tests/unit/test_study_store.py
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from agent.grading import grade
from agent.quiz.service import TutorService
from agent.study import store as store_module
from agent.study.clock import Clock
from agent.study.companion import StudyCompanion
from agent.study.facts import fact_id_of
from agent.study.store import StudyStore
from schemas import LETTERS, StudentAnswer

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def quiz(knowledge_base):
    return TutorService(knowledge_base).generate_quiz("overfitting", 6, seed=3)


def companion_at(kb, path, when) -> StudyCompanion:
    return StudyCompanion(StudyStore(path / "chat.sqlite"), kb, Clock(fixed=when))


def answer(companion, user, quiz, index, right, retry=False):
    q = quiz.questions[index]
    letter = q.answer if right else next(x for x in LETTERS if x != q.answer)
    graded = grade(quiz, StudentAnswer(quiz_id=quiz.meta.quiz_id, index=index, letter=letter))
    return companion.record_answer(user, quiz.meta.quiz_id, q, graded, retry=retry)


def test_every_answer_is_stored_once_and_schedules_its_fact(knowledge_base, quiz, tmp_path):
    companion = companion_at(knowledge_base, tmp_path, NOW)
    for i in range(len(quiz.questions)):
        assert answer(companion, "ana", quiz, i, right=i % 2 == 0) is not None
    assert answer(companion, "ana", quiz, 0, right=False) is None  # the same answer again changes nothing
    stored = companion.store.answers("ana")
    assert [a.graded.index for a in stored] == list(range(len(quiz.questions)))
    facts = {m.ref.fact_id: m for m in companion.store.memories("ana")}
    assert set(facts) == {fact_id_of(q) for q in quiz.questions}
    for i, q in enumerate(quiz.questions):
        memory = facts[fact_id_of(q)]
        assert memory.reviews == 1 and memory.lapses == (i % 2)
        assert memory.due - NOW == timedelta(days=2 if i % 2 == 0 else 1)


def test_students_do_not_see_each_others_history(knowledge_base, quiz, tmp_path):
    companion = companion_at(knowledge_base, tmp_path, NOW)
    answer(companion, "ana", quiz, 0, right=True)
    answer(companion, "ben", quiz, 1, right=False)
    assert [a.user for a in companion.store.answers("ana")] == ["ana"]
    assert [m.ref.fact_id for m in companion.store.memories("ben")] == [fact_id_of(quiz.questions[1])]
    assert companion.store.users() == ["ana", "ben"]


def test_a_failed_write_leaves_nothing_half_written(knowledge_base, quiz, tmp_path, monkeypatch):
    companion = companion_at(knowledge_base, tmp_path, NOW)

    def broken(*args, **kwargs):
        raise RuntimeError("scheduler failed")

    monkeypatch.setattr(store_module.memory, "reviewed", broken)
    with pytest.raises(RuntimeError):
        answer(companion, "ana", quiz, 0, right=True)
    assert companion.store.answers("ana") == [] and companion.store.memories("ana") == []


def test_missed_facts_are_due_tomorrow_most_overdue_first(knowledge_base, quiz, tmp_path):
    answer(companion_at(knowledge_base, tmp_path, NOW), "ana", quiz, 0, right=False)
    answer(companion_at(knowledge_base, tmp_path, NOW + timedelta(hours=6)), "ana", quiz, 1, right=False)
    answer(companion_at(knowledge_base, tmp_path, NOW), "ana", quiz, 2, right=True)
    assert companion_at(knowledge_base, tmp_path, NOW + timedelta(hours=12)).due("ana") == []
    tomorrow = companion_at(knowledge_base, tmp_path, NOW + timedelta(days=1, hours=7))
    due = tomorrow.due("ana")
    assert [d.fact.fact_id for d in due] == [fact_id_of(quiz.questions[i]) for i in (0, 1)]
    assert due[0].overdue_days > due[1].overdue_days > 0


def test_review_plan_asks_the_due_facts_again(knowledge_base, quiz, tmp_path):
    companion = companion_at(knowledge_base, tmp_path, NOW)
    assert companion.review_plan("ana") is None
    assert companion.nothing_due_message("ana").startswith("Nothing to review yet")
    for i in range(4):
        answer(companion, "ana", quiz, i, right=i == 3)
    assert companion.review_plan("ana") is None
    assert f"on {NOW + timedelta(days=1):%Y-%m-%d %H:%M} UTC" in companion.nothing_due_message("ana")
    later = companion_at(knowledge_base, tmp_path, NOW + timedelta(days=1, minutes=1))
    plan = later.review_plan("ana", count=2, seed=5)
    assert len(plan.items) == 2 and len(plan.spares) == 1 and len(plan.letters) == 2
    service = TutorService(knowledge_base)
    written = [service.write_question(plan, i).question for i in range(2)]
    # The review asks two of the three missed facts again, by their stable ids (equally overdue: any order),
    # and the writer quotes each fact's statement as its explanation.
    missed = {quiz.questions[i].fact_id: quiz.questions[i].explanation for i in range(3)}
    assert len({q.fact_id for q in written}) == 2 and all(missed[q.fact_id] == q.explanation for q in written)


def test_a_correct_retry_rates_hard(knowledge_base, quiz, tmp_path):
    companion = companion_at(knowledge_base, tmp_path, NOW)
    record = answer(companion, "ana", quiz, 0, right=True, retry=True)
    assert record.rating == "hard" and record.retry
    assert companion.store.memories("ana")[0].due - NOW == timedelta(days=1)


def test_facts_from_notes_are_remembered_and_reviewed(tmp_path):
    from knowledge.base import KnowledgeBase
    from knowledge.cards import load_cards
    from knowledge.cloze import note_fact
    from schemas import PlanItem, Quiz, QuizMeta
    from schemas.knowledge import NoteChunk

    note = NoteChunk(note_id="0123456789ab", path="/home/student/week5.md", chunk=2, text=(
        "Dropout randomly zeroes hidden activations during training, which stops units from co-adapting.\n"
        "PCA projects the data onto the directions of largest variance."))
    kb = KnowledgeBase(list(load_cards()), [note])
    index = next(i for i in range(2) if _has_cloze(kb, note.source, i, note_fact))
    concept, _ = note_fact(kb, note.source, index)
    card = next(c for c in kb.cards.values() if c.title == concept)
    written = TutorService(kb).writer.write(PlanItem(source=note.source, fact=index, concept=concept), "B", 1)
    quiz = Quiz(topic="my notes", questions=[written.question], meta=QuizMeta(quiz_id="q1", model="m", seed=1))
    companion = companion_at(kb, tmp_path, NOW)
    record = answer(companion, "ana", quiz, 0, right=False)
    assert record.fact.source == note.source and record.fact.card_id == card.id
    plan = companion_at(kb, tmp_path, NOW + timedelta(days=1, minutes=1)).review_plan("ana")
    assert [(i.source, i.fact) for i in plan.items] == [(note.source, index)]


def _has_cloze(kb, source, index, note_fact) -> bool:
    try:
        note_fact(kb, source, index)
    except KeyError:
        return False
    return True
