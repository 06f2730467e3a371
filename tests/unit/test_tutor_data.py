"""The tutor SFT dataset built from the cards: `pytest tests/unit/test_tutor_data.py`."""

import json

from finetune.tutor_data import build, is_heldout
from schemas import QuestionDraft


def test_dataset_is_deterministic_and_holds_out_concepts(tmp_path):
    first = build(tmp_path / "a")
    second = build(tmp_path / "b")
    assert first["train_sha256"] == second["train_sha256"]
    assert first["heldout_facts"] > 50 and len(first["heldout_cards"]) >= 10
    rows = [json.loads(line) for line in (tmp_path / "a" / "train.jsonl").read_text().splitlines()]
    assert len(rows) == first["train_rows"]
    assert not {r["card"] for r in rows} & set(first["heldout_cards"])  # never trained on
    assert all(is_heldout(c) for c in first["heldout_cards"])


def test_question_rows_are_in_the_generation_schema(tmp_path):
    build(tmp_path)
    rows = [json.loads(line) for line in (tmp_path / "train.jsonl").read_text().splitlines()]
    questions = [r for r in rows if r["kind"] == "question"]
    assert questions
    for row in questions:
        assert row["messages"][-1]["role"] == "assistant"
        draft = QuestionDraft.model_validate_json(row["messages"][-1]["content"])
        assert draft.correct_answer not in draft.distractors
    assert {r["kind"] for r in rows} == {"question", "explain", "turn"}  # no feedback rows: no turn asks for feedback
