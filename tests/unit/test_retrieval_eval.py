"""Recall@3 on the labelled student phrasings (knowledge/data/retrieval_eval.jsonl) stays >= 0.9.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_retrieval_eval.py -q
    python -m knowledge.eval_retrieval          # the same numbers, with the misses listed
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from knowledge.cards import load_cards
from knowledge.eval_retrieval import EVAL_SET, check_labels, evaluate, load_examples, main
from knowledge.retrieval import KnowledgeIndex

KINDS = {"exact", "paraphrase", "typo", "abbreviation", "spelling", "question"}


@pytest.fixture(scope="module")
def examples():
    return load_examples()


def test_labelled_set_is_large_varied_and_names_real_cards(examples):
    assert len(examples) >= 60
    assert len({e.query.casefold() for e in examples}) == len(examples), "a query appears twice"
    counts = Counter(e.kind for e in examples)
    assert set(counts) == KINDS and min(counts.values()) >= 5
    check_labels(examples, {c.id for c in load_cards()})


def test_recall_at_3_is_at_least_0_9(examples):
    result = evaluate(KnowledgeIndex.build(load_cards()), examples)
    assert result.recall["@1"] <= result.recall["@3"] <= result.recall["@5"]
    assert result.recall["@3"] >= 0.9, result.misses


def test_check_labels_rejects_unknown_card_ids(examples):
    with pytest.raises(ValueError, match="do not exist"):
        check_labels(examples[:1], set())


def test_cli_prints_recall_and_writes_json(tmp_path, capsys):
    data = tmp_path / "tiny.jsonl"
    rows = [{"query": "dropout", "expected": ["dropout"], "kind": "exact"},
            {"query": "zzzz qqqq", "expected": ["pca"], "kind": "exact"}]
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "runs" / "retrieval.json"
    assert main(["--data", str(data), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "@3=0.500" in printed and "zzzz qqqq" in printed
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["count"] == 2 and result["recall"]["@1"] == 0.5 and len(result["misses"]) == 1
    assert [p.name for p in out.parent.iterdir()] == ["retrieval.json"]  # no temporary file left behind
    assert EVAL_SET.exists()
