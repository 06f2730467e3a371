"""Test modules have unique base names across tiers.

pytest imports test files by base name (no packages under tests/): two files of one name in two tiers break
collection once both import, which happened only where the optional llama-cpp-python was installed
(tests/unit/test_llamacpp_constraint.py beside tests/integration/test_llamacpp_constraint.py).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_test_layout.py -q
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).parents[1]


def test_no_two_test_modules_share_a_name():
    names = Counter(path.name for path in TESTS.rglob("test_*.py") if "__pycache__" not in path.parts)
    assert [name for name, n in names.items() if n > 1] == []
