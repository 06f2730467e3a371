"""A hub dataset id read offline (the `datasets` library, 6 s to import here): a clear error that says to pass a file.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/integration/test_finetune_data_hub.py -q
"""

from __future__ import annotations

import pytest

from finetune.data import DataError, read_rows


def test_hub_dataset_offline_says_to_pass_a_local_file(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DataError, match="pass --dataset .*parquet or a .jsonl file"):
        read_rows("mlabonne/FineTome-100k-does-not-exist")
