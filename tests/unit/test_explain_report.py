"""The explanation report's scoring and data checks (pure; the model runs live in the report itself).

    HF_HUB_OFFLINE=1 PYTHONPATH=$PWD .venv/bin/python -m pytest tests/unit/test_explain_report.py -q
"""

from __future__ import annotations

import json

import pytest

from evaluation.explain_report import DEFAULT_DATA, load_questions, score_answer, stale_labels
from finetune.tutor_data import is_heldout
from knowledge.base import KnowledgeBase

ROW = {"question": "If I make my model more complex, what happens to bias and variance?",
       "answer": "Bias falls and variance rises", "statement": "x"}


@pytest.mark.parametrize("text, fell_back, answered", [
    ("As complexity grows, bias usually falls and variance usually rises. That is the trade-off.", False, True),
    ("The trade-off is subtle. More complex models have lower bias. Variance rises.", False, False),  # not in 2
    ("1 1 1 1 1 1.", False, False),
    ("As complexity grows, bias usually falls and variance usually rises.", True, False),  # not the model's words
])
def test_answered_judges_the_first_two_sentences(text, fell_back, answered):
    assert score_answer(text, ROW, fell_back)["answered"] is answered


def test_a_cut_answer_is_not_clean():
    assert score_answer("Bias falls and variance rises. The irreducible", ROW)["clean"] is False


def test_a_malformed_line_is_named(tmp_path):
    data = tmp_path / "q.jsonl"
    data.write_text(json.dumps(ROW) + "\n" + json.dumps({"question": "no label"}) + "\n")
    with pytest.raises(ValueError, match=r"q.jsonl:2"):
        load_questions(data)


def test_the_shipped_questions_are_held_out_labelled_and_current():
    rows = load_questions(DEFAULT_DATA)
    assert len(rows) >= 50 and all(is_heldout(r["card"]) for r in rows)
    assert all(r["topic"] is None or r["topic"] in r["question"] for r in rows)  # topic is a span
    assert stale_labels(rows, KnowledgeBase.load()) == []
