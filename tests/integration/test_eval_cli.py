"""`tutor eval arc` argument and data errors, through the real CLI in a subprocess (no model loads).

    .venv/bin/python -m pytest tests/integration/test_eval_cli.py -q
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def tutor(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tutor", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", **env}, timeout=300)


def test_hub_id_offline_says_to_pass_a_local_file(tmp_path):
    result = tutor("eval", "arc", "--limit", "2", "--out", str(tmp_path / "o"))
    assert result.returncode == 1
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("error: cannot load dataset 'allenai/ai2_arc'") and "ARC-Challenge" in error
    assert "--data PATH" in error and "JSONL" in error
    assert not (tmp_path / "o").exists()


def test_missing_data_file_and_bad_flags(tmp_path):
    result = tutor("eval", "arc", "--data", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "o"))
    assert result.returncode == 1 and "does not exist" in result.stderr
    result = tutor("eval", "arc", "--compare-base", "--data", str(tmp_path), "--out", str(tmp_path / "o"))
    assert result.returncode == 1 and "--compare-base needs --adapter" in result.stderr
