"""FSRS memory and the study clock (pure).  Run: pytest -q tests/unit/test_study_memory.py"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from agent.study import memory
from agent.study.clock import Clock, ClockError, offset

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)


def test_ratings_follow_the_answer():
    assert memory.rating_for(False) == "again"
    assert memory.rating_for(False, retry=True) == "again"
    assert memory.rating_for(True) == "good"
    assert memory.rating_for(True, retry=True) == "hard"


def test_a_missed_fact_comes_back_tomorrow_a_known_one_later():
    missed = memory.reviewed(None, "again", NOW)
    hard = memory.reviewed(None, "hard", NOW)
    known = memory.reviewed(None, "good", NOW)
    assert missed.due - NOW == timedelta(days=1)
    assert hard.due - NOW == timedelta(days=1)
    assert known.due - NOW == timedelta(days=2)
    assert known.stability > hard.stability > missed.stability


def test_recall_falls_with_time_and_faster_for_a_missed_fact():
    missed, known = memory.reviewed(None, "again", NOW), memory.reviewed(None, "good", NOW)
    later = NOW + timedelta(hours=20)
    assert memory.recall(known, NOW) == pytest.approx(1.0)
    assert memory.recall(missed, later) < memory.recall(known, later) < 1.0
    assert memory.recall(known, NOW + timedelta(days=10)) < memory.recall(known, later)


def test_cards_survive_a_round_trip_through_text():
    card = memory.reviewed(memory.reviewed(None, "good", NOW), "again", NOW + timedelta(days=3))
    again = memory.loads(memory.dumps(card))
    assert (again.due, again.stability, again.difficulty) == (card.due, card.stability, card.difficulty)


def test_clock_reads_its_offset_at_every_call(monkeypatch):
    monkeypatch.delenv("TUTOR_CLOCK_OFFSET_SECONDS", raising=False)
    monkeypatch.setenv("TUTOR_CLOCK_OFFSET_DAYS", "1")
    clock = Clock()
    first = clock.now()
    monkeypatch.setenv("TUTOR_CLOCK_OFFSET_DAYS", "3")
    assert clock.now() - first >= timedelta(days=2)
    monkeypatch.setenv("TUTOR_CLOCK_OFFSET_SECONDS", "60")
    assert offset() == timedelta(days=3, seconds=60)
    assert Clock(fixed=NOW).now() == NOW


def test_bad_clock_offset_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("TUTOR_CLOCK_OFFSET_DAYS", "tomorrow")
    with pytest.raises(ClockError, match="TUTOR_CLOCK_OFFSET_DAYS"):
        Clock().now()
