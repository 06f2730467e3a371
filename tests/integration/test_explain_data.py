"""Explanation training rows: concrete questions, answer-first targets grounded in the shown facts.

    HF_HUB_OFFLINE=1 PYTHONPATH=$PWD .venv/bin/python -m pytest tests/integration/test_explain_data.py -q
"""

from __future__ import annotations

import random

import pytest

from finetune import explain_data
from finetune.tutor_data import _training_knowledge, explanation_rows, is_heldout
from knowledge.cards import load_cards
from knowledge.facts import content_terms
from prompts.explain import explain_messages

pytestmark = pytest.mark.data  # builds the whole data set from the shipped cards (no model)


@pytest.fixture(scope="module")
def cards():
    return list(load_cards())


@pytest.fixture(scope="module")
def rows(cards):
    return [row for card in cards if not is_heldout(card.id) for row in explanation_rows(card)]


def _facts_shown(row) -> str:
    return row["messages"][1]["content"].split("Facts:\n", 1)[1].split("\n\nStudent question:", 1)[0]


def test_no_row_copies_a_card_summary(cards, rows):
    summaries = {c.id: c.summary for c in cards}
    assert rows and all(r["messages"][-1]["content"] != summaries[r["card"]] for r in rows)
    assert all(len(r["messages"][-1]["content"]) < 0.8 * len(summaries[r["card"]]) + 400 for r in rows)


def test_every_target_is_grounded_in_the_facts_shown(rows):
    for row in rows:
        target, shown = row["messages"][-1]["content"], _facts_shown(row)
        # each target sentence (after the short answer sentence) is a shown fact, word for word
        assert any(line.split(". ", 1)[1] in target for line in shown.splitlines()), row


def test_no_held_out_fact_is_shown_or_asked(cards, rows):
    held = [f.statement for c in cards if is_heldout(c.id) for f in c.facts]
    assert not any(is_heldout(r["card"]) for r in rows)
    text = "\n".join(r["messages"][1]["content"] for r in rows)
    assert not [s for s in held if s in text]


def test_rows_use_the_runtime_prompt(rows):
    row = rows[0]
    question = row["messages"][1]["content"].split("Student question: ", 1)[1].split("\n\n", 1)[0]
    shown = [line.split(". ", 1)[1] for line in _facts_shown(row).splitlines()]
    concept = row["messages"][1]["content"].split("\n", 1)[0].removeprefix("Concept: ")
    assert row["messages"][:-1] == explain_messages(question, shown, concept)


def test_targets_start_with_the_answer(cards):
    card = next(c for c in cards if not is_heldout(c.id))
    pairs = explain_data.fact_rows(card, explain_data.FactRanker(_training_knowledge()), random.Random(0))
    for fact in card.facts:
        target = next(t for m, t in pairs if fact.statement in t)
        opening = " ".join(target.split()[: explain_data.LEAD_WORDS + len(fact.answer.split())])
        assert content_terms(fact.answer) <= content_terms(opening)


def test_held_out_card_is_refused(cards):
    held = next(c for c in cards if is_heldout(c.id))
    with pytest.raises(ValueError, match="held out"):
        explain_data.explanation_rows(held, _training_knowledge(), random.Random(0))


@pytest.mark.parametrize("answer, sentence", [("underfitting", "Underfitting."), ("k-means++", "k-means++."),
                                               ("Bias falls.", "Bias falls."), ("tanh", "Tanh.")])
def test_answer_sentence(answer, sentence):
    assert explain_data.answer_sentence(answer) == sentence
