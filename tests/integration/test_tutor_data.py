"""The tutor SFT dataset built from the cards: `pytest tests/integration/test_tutor_data.py`."""

import json

import pytest

from finetune.tutor_data import build, is_heldout
from schemas import QuestionDraft

pytestmark = pytest.mark.data  # builds the whole data set from the shipped cards (no model)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(the folder, its manifest) of one build (a build takes about a minute here: built once)."""
    out = tmp_path_factory.mktemp("tutor_sft")
    return out, build(out)


def test_dataset_is_deterministic_and_holds_out_concepts(built, tmp_path):
    folder, first = built
    second = build(tmp_path / "b")
    assert first["train_sha256"] == second["train_sha256"]
    assert first["heldout_facts"] > 50 and len(first["heldout_cards"]) >= 10
    rows = [json.loads(line) for line in (folder / "train.jsonl").read_text().splitlines()]
    assert len(rows) == first["train_rows"]
    assert not {r["card"] for r in rows} & set(first["heldout_cards"])  # never trained on
    assert all(is_heldout(c) for c in first["heldout_cards"])


def test_question_rows_are_in_the_generation_schema(built):
    rows = [json.loads(line) for line in (built[0] / "train.jsonl").read_text().splitlines()]
    questions = [r for r in rows if r["kind"] == "question"]
    assert questions
    for row in questions:
        assert row["messages"][-1]["role"] == "assistant"
        draft = QuestionDraft.model_validate_json(row["messages"][-1]["content"])
        assert draft.correct_answer not in draft.distractors
    assert {r["kind"] for r in rows} == {"question", "explain", "turn"}  # no feedback rows: no turn asks for feedback
