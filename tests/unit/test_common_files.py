"""Write-then-rename (common.files): whole files or nothing, readable modes, secrets private (tmp files, ms).

    .venv/bin/python -m pytest tests/unit/test_common_files.py -q
"""

from __future__ import annotations

import json
import stat

import pytest

from common.files import atomic_path, write_atomic, write_json


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_write_atomic_replaces_the_whole_file_and_leaves_nothing_else(tmp_path):
    path = write_atomic(tmp_path / "sub" / "f.txt", "first")
    write_atomic(path, b"second")
    assert path.read_text() == "second" and [p.name for p in path.parent.iterdir()] == ["f.txt"]
    assert _mode(path) == 0o644  # shared outputs, not mkstemp's private 0600


def test_a_secret_is_never_readable_by_others(tmp_path):
    assert _mode(write_atomic(tmp_path / "secret", "s", mode=0o600)) == 0o600


def test_a_failed_write_keeps_the_old_file_and_removes_the_partial(tmp_path):
    target = write_atomic(tmp_path / "results.json", "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as staging:
            staging.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_a_folder_is_swapped_in_whole(tmp_path):
    target = tmp_path / "adapter"
    for version in ("one", "two"):
        with atomic_path(target, is_dir=True) as staging:
            (staging / "weights").write_text(version)
    assert (target / "weights").read_text() == "two" and sorted(p.name for p in tmp_path.iterdir()) == ["adapter"]
    assert _mode(target) == 0o755


def test_write_json_keeps_unicode_and_ends_with_a_newline(tmp_path):
    text = write_json(tmp_path / "r.json", {"name": "Schrödinger", "path": tmp_path}, indent=1).read_text()
    assert text.endswith("}\n") and "Schrödinger" in text and json.loads(text)["path"] == str(tmp_path)
