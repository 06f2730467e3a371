"""The mutation report's arithmetic (bench/mutation.py, no mutmut run): counts, equivalents, kill rates.

    PYTHONPATH=$PWD .venv/bin/python -m pytest tests/unit/test_bench_mutation.py -q
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "mutation.py"
_spec = importlib.util.spec_from_file_location("bench_mutation", SCRIPT)
mutation = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mutation)

STATUSES = {
    "agent/a.py": {"a.x_f__mutmut_1": "killed", "a.x_f__mutmut_2": "survived", "a.x_f__mutmut_3": "timeout",
                   "a.x_f__mutmut_4": "survived", "a.x_f__mutmut_5": "no tests"},
    "agent/b.py": {"b.x_g__mutmut_1": "killed", "b.x_g__mutmut_2": "killed"},
}


def test_equivalent_mutants_leave_the_denominator_and_timeouts_count_as_caught():
    modules, problems = mutation.summarise(STATUSES, {"a.x_f__mutmut_4": "the sort key is unique"})
    a = modules["agent/a.py"]
    assert problems == []
    counts = (a["mutants"], a["killed"], a["timeout"], a["survived"], a["no_tests"], a["equivalent"])
    assert counts == (5, 1, 1, 1, 1, 1)
    assert a["kill_rate"] == 0.5 and a["surviving_ids"] == ["a.x_f__mutmut_2", "a.x_f__mutmut_5"]
    assert a["timeout_ids"] == ["a.x_f__mutmut_3"]
    assert a["equivalent_ids"] == {"a.x_f__mutmut_4": "the sort key is unique"}
    total = mutation.totals(modules)
    assert (total["mutants"], total["equivalent"], total["kill_rate"]) == (7, 1, round(4 / 6, 4))
    assert mutation.totals(modules, ("agent/b.py",))["kill_rate"] == 1.0


def test_a_killed_or_unknown_equivalent_is_reported(tmp_path):
    _, problems = mutation.summarise(STATUSES, {"b.x_g__mutmut_1": "wrong", "c.x_h__mutmut_9": "stale"})
    assert problems == ["c.x_h__mutmut_9 is listed as equivalent but is no mutant of this run",
                        "b.x_g__mutmut_1 is listed as equivalent but a test kills it"]
    listed = tmp_path / "equivalent.txt"
    listed.write_text("# comment\n\na.x_f__mutmut_4 the sort key is unique\n")
    assert mutation.read_equivalent(listed) == {"a.x_f__mutmut_4": "the sort key is unique"}
    listed.write_text("a.x_f__mutmut_4\n")
    with pytest.raises(SystemExit, match="has no reason"):
        mutation.read_equivalent(listed)
