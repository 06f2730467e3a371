"""Row formats (ShareGPT, messages, prompt/completion) -> messages, and malformed-row counting.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_finetune_data.py -q
"""

from __future__ import annotations

import json

import pytest

from finetune.data import DataError, read_rows
from finetune.formats import MalformedRow, normalise_row, normalise_rows

FINETOME_ROW = {  # the shape of mlabonne/FineTome-100k rows
    "conversations": [
        {"from": "system", "value": "You are a helpful assistant."},
        {"from": "human", "value": "What is a gradient?"},
        {"from": "gpt", "value": "The vector of partial derivatives."},
        {"from": "human", "value": "And descent?"},
        {"from": "gpt", "value": "Stepping against it."},
    ],
    "source": "infini-instruct-top-500k",
    "score": 5.2,
}


def test_sharegpt_roles_are_mapped():
    messages = normalise_row(FINETOME_ROW)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant"]
    assert messages[2] == {"role": "assistant", "content": "The vector of partial derivatives."}


def test_messages_format_passes_through():
    row = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]}
    assert normalise_row(row) == row["messages"]


def test_prompt_completion_strings_and_lists():
    assert normalise_row({"prompt": "Q?", "completion": "A."}) == [
        {"role": "user", "content": "Q?"}, {"role": "assistant", "content": "A."}]
    row = {"prompt": [{"role": "system", "content": "S"}, {"role": "user", "content": "Q?"}],
           "completion": [{"role": "assistant", "content": "A."}]}
    assert [m["role"] for m in normalise_row(row)] == ["system", "user", "assistant"]


def test_trailing_user_turn_is_dropped():
    row = {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                        {"role": "user", "content": "c"}]}
    assert [m["content"] for m in normalise_row(row)] == ["a", "b"]


@pytest.mark.parametrize(
    "row, reason",
    [
        ({"text": "plain"}, "unknown_format"),
        ("a string", "not_a_mapping"),
        ({"conversations": []}, "not_a_list"),
        ({"conversations": [{"from": "human"}]}, "bad_turn"),
        ({"conversations": [{"from": "tool", "value": "x"}, {"from": "gpt", "value": "y"}]}, "unknown_role"),
        ({"conversations": [{"from": "human", "value": "  "}, {"from": "gpt", "value": "y"}]}, "empty_content"),
        ({"messages": [{"role": "user", "content": ["part"]}, {"role": "assistant", "content": "y"}]},
         "non_text_content"),
        ({"messages": [{"role": "assistant", "content": "first"}]}, "must_start_with_user"),
        ({"messages": [{"role": "user", "content": "q"}]}, "no_assistant_turn"),
        ({"messages": [{"role": "user", "content": "q"}, {"role": "system", "content": "s"},
                       {"role": "assistant", "content": "a"}]}, "misplaced_system"),
        ({"prompt": "q", "completion": [{"role": "assistant", "content": "a"}]}, "bad_prompt_completion"),
    ],
)
def test_malformed_rows_raise_with_reason(row, reason):
    with pytest.raises(MalformedRow) as info:
        normalise_row(row)
    assert info.value.reason == reason


def test_normalise_rows_counts_skips_and_formats():
    rows = [FINETOME_ROW, {"prompt": "q", "completion": "a"}, {"text": "x"}, {"conversations": []},
            {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}]
    conversations, skipped, formats = normalise_rows(rows)
    assert len(conversations) == 3
    assert skipped == {"unknown_format": 1, "not_a_list": 1}
    assert formats == {"sharegpt": 1, "prompt_completion": 1, "messages": 1}


def test_forced_format_rejects_other_shapes():
    _, skipped, _ = normalise_rows([{"prompt": "q", "completion": "a"}], fmt="sharegpt")
    assert skipped == {"not_a_list": 1}


def test_read_jsonl_counts_invalid_lines(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps(FINETOME_ROW) + "\n{broken json\n\n" + json.dumps({"prompt": "q", "completion": "a"})
                    + "\n", encoding="utf-8")
    rows, sha, bad = read_rows(str(path))
    assert len(rows) == 2 and bad == {"invalid_json": 1}
    assert len(sha) == 64
    rows, sha2, _ = read_rows(str(path), max_rows=1)
    assert len(rows) == 1 and sha2 == sha  # the hash is of the file, not of the selection


def test_read_parquet(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    path = tmp_path / "train.parquet"
    pq.write_table(pa.Table.from_pylist([FINETOME_ROW, FINETOME_ROW]), path)
    rows, _sha, _bad = read_rows(str(path))
    assert len(rows) == 2 and normalise_row(rows[0])[1]["content"] == "What is a gradient?"


def test_missing_file_and_bad_names():
    with pytest.raises(DataError, match="does not exist"):
        read_rows("./nowhere/train.jsonl")
    with pytest.raises(DataError, match="neither a data file nor a hub dataset id"):
        read_rows("not a dataset")
    with pytest.raises(DataError, match="no training data"):
        read_rows("")
