"""ARC-format loading, validation and selection (pure, no model).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_eval_arc_data.py -q
"""

from __future__ import annotations

import json

import pytest

from evaluation.arc_data import ArcDataError, load_arc, parse_row, read_jsonl, select_items


def row(qid, labels, answer, question="Which is right?"):
    return {"id": qid, "question": question,
            "choices": {"text": [f"option {label}" for label in labels], "label": list(labels)}, "answerKey": answer}


def write_jsonl(path, lines):
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n")
    return path


def test_numeric_labels_three_and_five_choices(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [
        row("q1", ["1", "2", "3", "4"], "3"),
        row("q2", ["A", "B", "C"], "C"),
        row("q3", ["A", "B", "C", "D", "E"], "E"),
    ])
    data = read_jsonl(path)
    assert [i.id for i in data.items] == ["q1", "q2", "q3"]
    assert [i.answer_index for i in data.items] == [2, 2, 4]
    assert data.items[0].labels == ("1", "2", "3", "4")
    assert [len(i.choices) for i in data.items] == [4, 3, 5]
    assert data.n_skipped == 0 and data.n_rows == 3
    assert len(data.sha256) == 64


def test_integer_answer_key_is_accepted():
    item = parse_row({"question": "q", "choices": {"text": ["a", "b"], "label": [1, 2]}, "answerKey": 2})
    assert item.labels == ("1", "2") and item.answer == "2"


def test_malformed_rows_are_skipped_and_counted(tmp_path):
    bad_answer = row("b1", ["A", "B", "C", "D"], "E")
    mismatch = row("b2", ["A", "B", "C", "D"], "A")
    mismatch["choices"]["text"] = mismatch["choices"]["text"][:3]
    no_question = row("b3", ["A", "B"], "A", question="  ")
    duplicate = row("b4", ["A", "A", "C"], "A")
    path = write_jsonl(tmp_path / "m.jsonl", [
        row("ok1", ["A", "B", "C", "D"], "B"), "{not json", bad_answer, mismatch, no_question, duplicate,
        "[1, 2]", row("ok2", ["1", "2", "3"], "1"), "",
    ])
    data = read_jsonl(path)
    assert [i.id for i in data.items] == ["ok1", "ok2"]
    assert data.n_rows == 8  # the blank line is not a row
    assert data.n_skipped == 6
    assert data.skipped == {
        "invalid JSON": 1, "answerKey not among labels": 1, "choice text/label count mismatch": 1,
        "missing question": 1, "empty or duplicate labels": 1, "not a JSON object": 1,
    }


def test_missing_file_and_empty_file_give_clear_errors(tmp_path):
    with pytest.raises(ArcDataError, match="does not exist"):
        load_arc(str(tmp_path / "nope.jsonl"))
    with pytest.raises(ArcDataError, match="does not exist"):
        load_arc("./also-missing")
    empty = write_jsonl(tmp_path / "e.jsonl", ["{bad"])
    with pytest.raises(ArcDataError, match="no valid ARC-format rows"):
        load_arc(str(empty))
    with pytest.raises(ArcDataError, match="folder"):
        load_arc(str(tmp_path))


def test_missing_ids_get_stable_row_ids(tmp_path):
    r = row("", ["A", "B"], "A")
    data = read_jsonl(write_jsonl(tmp_path / "n.jsonl", [r, r]))
    assert [i.id for i in data.items] == ["row-00001", "row-00002"]


def test_select_items_seeded_subset_and_shot_pool(tmp_path):
    items = read_jsonl(write_jsonl(tmp_path / "s.jsonl", [row(f"q{i}", ["A", "B", "C", "D"], "A") for i in range(50)])).items
    scored, pool = select_items(items, shots=3, limit=10, seed=7)
    again, _ = select_items(items, shots=3, limit=10, seed=7)
    other, _ = select_items(items, shots=3, limit=10, seed=8)
    assert [i.id for i in pool] == ["q0", "q1", "q2"]
    assert len(scored) == 10 and scored == again and scored != other
    assert not {i.id for i in scored} & {i.id for i in pool}
    assert [i.id for i in scored] == sorted((i.id for i in scored), key=lambda s: int(s[1:]))  # file order kept
    everything, none = select_items(items)
    assert len(everything) == 50 and none == []
    with pytest.raises(ArcDataError, match="no question to score"):
        select_items(items, shots=50)
