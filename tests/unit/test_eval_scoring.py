"""Picking answers from log-likelihoods and letter outputs; the evaluation prompts (pure).

    .venv/bin/python -m pytest tests/unit/test_eval_scoring.py -q
"""

from __future__ import annotations

import pytest

from evaluation.arc_data import ArcItem
from evaluation.arc_prompts import letter_messages, letter_plain_prompt, loglik_context, loglik_continuations
from evaluation.scoring import argmax, letter_prediction, loglik_prediction, summarise_letter, summarise_loglik

ITEM = ArcItem("q1", "What do plants absorb?", ("CO2", "a gas called oxygen"), ("A", "B"), "B")


def test_argmax_first_on_ties():
    assert argmax([-3.0, -1.0, -1.0]) == 1
    assert argmax([-2.0]) == 0
    with pytest.raises(ValueError):
        argmax([])


def test_acc_and_acc_norm_disagree_on_crafted_example():
    conts = loglik_continuations(ITEM)
    assert conts == [" CO2", " a gas called oxygen"]  # 4 and 20 bytes
    # Raw: -6 > -10 picks the short wrong answer; per byte: -6/4=-1.5 < -10/20=-0.5 picks B.
    row = loglik_prediction(ITEM, [-6.0, -10.0], conts)
    assert row["predicted"] == "A" and not row["correct"]
    assert row["predicted_norm"] == "B" and row["correct_norm"]
    summary = summarise_loglik([row, loglik_prediction(ITEM, [-30.0, -10.0], conts)])
    assert summary["n"] == 2 and summary["accuracy"] == 0.5 and summary["acc_norm"] == 1.0
    assert summary["parse_failures"] == 0 and summary["ci95"][0] < 0.5 < summary["ci95"][1]
    with pytest.raises(ValueError):
        loglik_prediction(ITEM, [-1.0], conts)


def test_letter_prediction_validates_against_allowed_outputs():
    good = letter_prediction(ITEM, " B", allowed=(" A", " B"))
    assert good["predicted"] == "B" and good["correct"] and not good["parse_failure"]
    wrong = letter_prediction(ITEM, "A")
    assert wrong["predicted"] == "A" and not wrong["correct"] and not wrong["parse_failure"]
    for output in ("C", "", "B.", "b"):
        bad = letter_prediction(ITEM, output)
        assert bad["parse_failure"] and bad["predicted"] is None and not bad["correct"]
    assert summarise_letter([good, wrong, letter_prediction(ITEM, "zzz")])["parse_failures"] == 1


def test_prompts_follow_the_documented_format():
    shot = ArcItem("s", "Sky colour?", ("blue", "green"), ("1", "2"), "1")
    assert loglik_context(ITEM) == "Question: What do plants absorb?\nAnswer:"
    assert loglik_context(ITEM, [shot]) == "Question: Sky colour?\nAnswer: blue\n\nQuestion: What do plants absorb?\nAnswer:"
    assert letter_plain_prompt(ITEM) == "Question: What do plants absorb?\nA. CO2\nB. a gas called oxygen\nAnswer:"
    assert letter_plain_prompt(ITEM, [shot]).startswith("Question: Sky colour?\n1. blue\n2. green\nAnswer: 1\n\n")
    messages = letter_messages(ITEM, [shot])
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[1]["content"] == "1" and "number" in messages[0]["content"]
    assert messages[2]["content"].endswith("Answer with the letter of the correct option only.")
