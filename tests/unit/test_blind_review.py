"""The blind-review summary (pure): shares per topic and overall, and refusal of judgments that don't match.

    PYTHONPATH=$PWD python -m pytest -q tests/unit/test_blind_review.py
"""

from __future__ import annotations

import pytest

from evaluation.blind_review import Judgment, markdown, quiz_packet, summarise

PACKET = [{"id": "q1", "requested_topic": "a"}, {"id": "q2", "requested_topic": "a"}, {"id": "q3", "requested_topic": "b"}]


def judged(i: str, on: bool, keyed: bool, plausible: int) -> Judgment:
    return Judgment(id=i, on_topic=on, keyed_correct=keyed, plausible_distractors=plausible, self_contained=True)


def test_shares_per_topic_and_overall():
    s = summarise(PACKET, [judged("q1", True, True, 3), judged("q2", False, True, 1), judged("q3", True, False, 2)])
    assert s["overall"]["on_topic"] == pytest.approx(2 / 3, abs=1e-3)
    assert s["overall"]["keyed_correct"] == pytest.approx(2 / 3, abs=1e-3)
    assert s["overall"]["plausible_distractors"] == 2.0
    assert s["per_topic"]["a"]["on_topic"] == 0.5 and s["per_topic"]["b"]["keyed_correct"] == 0.0
    assert [x["id"] for x in s["not_keyed"]] == ["q3"] and [x["id"] for x in s["off_topic"]] == ["q2"]
    assert "| a | 2 | 50% | 100% | 2.00 |" in markdown(s, "t")


def test_judgments_must_cover_the_packet_once():
    with pytest.raises(ValueError):
        summarise(PACKET, [judged("q1", True, True, 3), judged("q2", True, True, 3)])
    with pytest.raises(ValueError):
        summarise(PACKET, [judged(i, True, True, 3) for i in ("q1", "q2", "q3", "q3")])


def test_a_quiz_packet_shows_the_reviewer_stem_options_and_key_but_not_the_card():
    results = {"quizzes": [
        {"topic": "huber loss", "rows": [{"question": "Q1?", "options": ["a", "b", "c", "d"], "answer": "C",
                                          "source": "card:huber-loss", "fact": "the statement", "fact_id": "huber.x"}]},
        {"topic": "unknown", "status": "refused", "rows": []},
        {"topic": "dbscan", "rows": [{"question": "Q2?", "options": ["e", "f", "g", "h"], "answer": "A",
                                      "source": "card:dbscan", "fact": "s", "fact_id": "dbscan.y"}]},
    ]}
    rows = quiz_packet(results)
    assert rows == [
        {"id": "r001", "requested_topic": "huber loss", "question": "Q1?",
         "options": {"A": "a", "B": "b", "C": "c", "D": "d"}, "keyed": "C"},
        {"id": "r002", "requested_topic": "dbscan", "question": "Q2?",
         "options": {"A": "e", "B": "f", "C": "g", "D": "h"}, "keyed": "A"},
    ]
