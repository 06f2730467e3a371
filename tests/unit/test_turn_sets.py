"""The frozen turn test sets (the first and the blind one) and the dev set: size, coverage, spans, held out by concept.

    PYTHONPATH=$PWD python -m pytest -q tests/unit/test_turn_sets.py
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest

from evaluation.turn_scoring import load_rows
from finetune.tutor_data import is_heldout
from finetune.turn_data import card_names
from knowledge.cards import load_cards
from knowledge.terms import term
from prompts.turns import clean_text
from schemas.turn import INTENTS

DATA = Path(__file__).resolve().parents[2] / "evaluation" / "data"
QUOTED = [  # the messages quoted in issue 12
    "Give me a 10-question quiz on gradient descent", "5 questions, hard ones", "maybe 3 questions",
    "I think the answer is B", "My answer: D", "is it the second one? B", "thanks!", "hello", "what can you do?",
    "Can I retry the ones I got wrong?", "E", "'; DROP TABLE threads; --", "quiz me on <b>overfitting</b>",
    "Can you explain the bias-variance trade-off?", "How do I pick k in k-means?",
    "Can you test me on precision and recall? 5 questions, hard ones", "I think it's B",
]


@pytest.fixture(scope="module")
def test_rows():
    return load_rows(DATA / "turns_test.jsonl")


@pytest.fixture(scope="module", params=["turns_test.jsonl", "turns_test_blind.jsonl"])
def frozen_rows(request):
    return load_rows(DATA / request.param)


def _key(text: str) -> str:
    return " ".join(term(w) for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in ("the", "a", "an"))


def test_sizes_and_coverage(test_rows):
    dev = load_rows(DATA / "turns_dev.jsonl")
    assert len(test_rows) >= 300 and 80 <= len(dev) <= 150
    assert {r.intent for r in test_rows} == set(INTENTS)
    shared = {r.text for r in test_rows} & {r.text for r in dev}
    assert all(len(text.split()) <= 2 for text in shared), shared  # only "hello", "retry"-like one-liners
    assert set(QUOTED) <= {r.text for r in test_rows}


def test_topics_are_spans_and_answers_have_options(frozen_rows):
    for row in frozen_rows:
        if row.topic:
            assert row.topic.lower() in clean_text(row.text).lower(), row.text
        if row.intent == "answer":
            assert row.options and row.letter, row.text


def test_test_topics_are_held_out(test_rows):
    trained = {_key(n) for c in load_cards() if not is_heldout(c.id) for n in card_names(c)}
    leaks = [r.topic for r in test_rows if r.topic and not r.seen_concept and _key(r.topic) in trained]
    assert not leaks
    assert 0 < sum(r.seen_concept for r in test_rows) <= 10


def _words(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def test_blind_set_is_held_out_and_new():
    """The blind set (written without seeing the readers or the first sets): every intent, no concept the adapter
    trains on, and no message that copies or nearly copies one of the first test set or the dev set."""
    blind = load_rows(DATA / "turns_test_blind.jsonl")
    assert 250 <= len(blind) <= 300 and {r.intent for r in blind} == set(INTENTS)
    trained = {_key(n) for c in load_cards() if not is_heldout(c.id) for n in card_names(c)}
    assert not any(r.seen_concept for r in blind)
    assert not [r.topic for r in blind if r.topic and _key(r.topic) in trained]
    earlier = [_words(r.text) for name in ("turns_test.jsonl", "turns_dev.jsonl") for r in load_rows(DATA / name)]
    copies = [r.text for r in blind if any(_similar(_words(r.text), old) for old in earlier)]
    assert not copies


def _similar(text: str, other: str, threshold: float = 0.8) -> bool:
    """Near copy: difflib ratio >= threshold; its cheap upper bounds go first (the blind-set test took 13 s
    without them, 3.4 s with)."""
    matcher = difflib.SequenceMatcher(None, text, other)
    return min(matcher.real_quick_ratio(), matcher.quick_ratio()) >= threshold and matcher.ratio() >= threshold
