"""Which checkpoint a resume starts from: the newest complete one; half-written ones are ignored.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_finetune_checkpoints.py -q
"""

from __future__ import annotations

import json

from finetune import checkpoints


def make_checkpoint(root, step, complete=True, state_text=None):
    folder = root / f"checkpoint-{step}"
    folder.mkdir()
    (folder / "adapter_model.safetensors").write_bytes(b"x")
    if complete:
        (folder / "optimizer.pt").write_bytes(b"x")
        (folder / "trainer_state.json").write_text(state_text or json.dumps({"global_step": step}))
    return folder


def test_newest_complete_checkpoint_wins(tmp_path):
    make_checkpoint(tmp_path, 2)
    make_checkpoint(tmp_path, 10)  # numeric, not lexical, order: 10 > 4
    make_checkpoint(tmp_path, 4)
    assert checkpoints.last_complete(tmp_path).name == "checkpoint-10"
    assert checkpoints.global_step(tmp_path / "checkpoint-10") == 10


def test_half_written_checkpoints_are_skipped_and_removed(tmp_path):
    make_checkpoint(tmp_path, 2)
    make_checkpoint(tmp_path, 4, complete=False)  # killed before trainer_state.json
    make_checkpoint(tmp_path, 6, state_text='{"global_st')  # killed while writing it
    last = checkpoints.last_complete(tmp_path)
    assert last.name == "checkpoint-2"
    removed = checkpoints.remove_incomplete_after(tmp_path, last)
    assert sorted(p.name for p in removed) == ["checkpoint-4", "checkpoint-6"]
    assert [p.name for _, p in checkpoints.checkpoints(tmp_path)] == ["checkpoint-2"]


def test_no_checkpoints(tmp_path):
    assert checkpoints.last_complete(tmp_path / "missing") is None
    (tmp_path / "checkpoint-x").mkdir()
    assert checkpoints.last_complete(tmp_path) is None
