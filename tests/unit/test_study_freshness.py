"""Freshness: what a student was asked is kept per user, and their next quiz avoids it (SQLite in tmp; no model).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_study_freshness.py -q
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from agent.grading import grade
from agent.quiz.service import TutorService
from agent.study.clock import Clock
from agent.study.companion import StudyCompanion
from agent.study.facts import fact_id_of
from agent.study.store import StudyStore
from schemas import StudentAnswer

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)
TOPIC = "kernel trick"  # a card of 12 facts: two 5-question quizzes fit in it


@pytest.fixture(scope="module")
def service(knowledge_base):
    return TutorService(knowledge_base, lm=None)


def test_the_store_keeps_the_latest_time_each_fact_was_asked_per_user(tmp_path):
    store = StudyStore(tmp_path / "chat.sqlite")
    store.record_asked("ana", "q1", ["c.a", "c.b", "c.a"], NOW)
    store.record_asked("ana", "q2", ["c.b"], NOW + timedelta(hours=1))
    store.record_asked("ana", "q0", ["c.a"], NOW - timedelta(days=1))  # an older time never replaces a newer one
    store.record_asked("ben", "q3", ["c.c"], NOW)
    assert store.asked("ana") == {"c.a": NOW.timestamp(), "c.b": (NOW + timedelta(hours=1)).timestamp()}
    assert StudyStore(tmp_path / "chat.sqlite").asked("ben") == {"c.c": NOW.timestamp()}  # a new store object
    assert store.asked("nobody") == {}


def test_answers_from_before_the_asked_table_count_as_asked(service, tmp_path):
    quiz = service.generate_quiz(TOPIC, 2, seed=1)
    companion = StudyCompanion(StudyStore(tmp_path / "chat.sqlite"), service.kb, Clock(fixed=NOW))
    question = quiz.questions[0]
    graded = grade(quiz, StudentAnswer(quiz_id=quiz.meta.quiz_id, index=0, letter=question.answer))
    companion.record_answer("ana", quiz.meta.quiz_id, question, graded)
    assert companion.asked("ana") == {fact_id_of(question): NOW.timestamp()}


def _take(service, companion, user, count=5, difficulty="medium"):
    """Plan a quiz for ``user`` avoiding what they were asked, and show every question (as the graph does)."""
    plan = service.plan(TOPIC, count, 0, difficulty, companion.asked(user))
    written = []
    for index in range(len(plan.items)):
        written.append(service.write_question(plan, index, written).question)
        companion.record_asked(user, plan.meta.quiz_id, written[-1])
    return {fact_id_of(q) for q in written}


def test_a_repeat_quiz_asks_fresh_facts_and_another_student_is_unaffected(service, tmp_path):
    companion = StudyCompanion(StudyStore(tmp_path / "chat.sqlite"), service.kb, Clock(fixed=NOW))
    first = _take(service, companion, "ana")
    later = StudyCompanion(StudyStore(tmp_path / "chat.sqlite"), service.kb, Clock(fixed=NOW + timedelta(hours=1)))
    second = _take(service, later, "ana")
    assert len(first) == len(second) == 5 and first.isdisjoint(second)
    assert _take(service, later, "ben") == first  # ben has been asked nothing: his quiz is ana's first
    card = service.kb.card("kernel-trick")
    assert {f.split(".")[0] for f in first | second} == {card.id}  # fresh, and still on the concept


def test_when_the_pool_runs_out_the_least_recently_asked_come_back_first(service, tmp_path):
    card = service.kb.card("kernel-trick")
    store = StudyStore(tmp_path / "chat.sqlite")
    # every fact asked, the last three of the card longest ago
    order = [f.id for f in card.facts[-3:]] + [f.id for f in card.facts[:-3]]
    for n, fact_id in enumerate(order):
        store.record_asked("ana", "old", [fact_id], NOW + timedelta(minutes=n))
    plan = service.plan(TOPIC, 3, 0, "medium", store.asked("ana"))
    assert [i.fact_id for i in plan.items] == order[:3] and plan.widened_to == []
