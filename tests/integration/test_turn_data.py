"""Generated turn-reading rows: held-out concepts never appear, every target parses and points at its topic.

    PYTHONPATH=$PWD python -m pytest -q tests/integration/test_turn_data.py
"""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from finetune.tutor_data import SEED, is_heldout
from finetune.turn_data import KIND, _key, banned_names, card_names, turn_rows
from knowledge.cards import load_cards
from prompts.turns import TurnReading, message_spans, reading_pattern, turn_messages
from schemas.turn import INTENTS

pytestmark = pytest.mark.data  # builds the whole data set from the shipped cards (no model)


@pytest.fixture(scope="module")
def split():
    cards = load_cards()
    return [c for c in cards if not is_heldout(c.id)], [c for c in cards if is_heldout(c.id)]


@pytest.fixture(scope="module")
def rows(split):
    return turn_rows(*split, random.Random(SEED + 1))


def _message(row) -> str:
    return row["messages"][-2]["content"].split("\n")[0].removeprefix("Message: ")


def _words(row) -> list[str]:
    message = _message(row)
    return [] if message == "(empty)" else message.split()


def test_size_kinds_and_every_intent(rows):
    assert 2000 <= len(rows) <= 4000
    assert {r["kind"] for r in rows} == {KIND}
    intents = Counter(TurnReading.parse(r["messages"][-1]["content"]).intent for r in rows)
    assert set(intents) == set(INTENTS)


def test_no_heldout_name_in_any_row(rows, split):
    banned = banned_names(split[1])
    assert any(b.strip() == "dropout" for b in banned)  # the check below would catch a held-out title
    for row in rows:
        text = _key(" ".join(_words(row)))
        assert not [b for b in banned if b in text], _message(row)
        assert row["card"] is None or not is_heldout(row["card"])


def test_banned_names_cover_titles_and_aliases(split):
    sgd = next(c for c in split[1] if c.id == "stochastic-gradient-descent")
    assert {"Stochastic gradient descent", "SGD"} <= set(card_names(sgd))


def test_targets_parse_and_spans_are_the_topic(rows):
    spans = 0
    for row in rows:
        reading = TurnReading.parse(row["messages"][-1]["content"])
        prompt = row["messages"][:-1]
        assert prompt[0]["role"] == "system" and prompt[-1]["role"] == "user"
        if reading.topic is not None:
            spans += 1
            assert reading.topic in message_spans(" ".join(_words(row))), reading.topic
            assert re.fullmatch(reading_pattern(" ".join(_words(row))), reading.line())
            assert reading.intent in ("quiz", "explain")
        if reading.intent == "answer":
            assert "Question waiting: A)" in prompt[-1]["content"] and reading.letter
    assert spans > len(rows) / 3


def test_rows_use_the_runtime_prompt(rows):
    row = next(r for r in rows if "Question waiting: none" in r["messages"][-2]["content"])
    text = " ".join(_words(row))
    assert row["messages"][:-1] == turn_messages(text)


def test_letters_are_balanced(rows):
    letters = Counter(TurnReading.parse(r["messages"][-1]["content"]).letter for r in rows)
    del letters[None]
    assert min(letters.values()) > 0.15 * sum(letters.values())


def test_deterministic(split):
    a = turn_rows(*split, random.Random(7))
    b = turn_rows(*split, random.Random(7))
    assert a == b
    assert re.search(r"\d", " ".join(r["messages"][-1]["content"] for r in a))
