"""The unit tier stays pure: no unit test module imports torch, transformers, peft or trl.

    PYTHONPATH=$PWD .venv/bin/python -m pytest tests/unit/test_unit_tier_is_pure.py -q

A fresh interpreter imports every ``tests/unit/test_*.py`` module (as pytest would: the repository root
and ``tests/unit`` on the path) and reports which heavy packages landed in ``sys.modules``. Tests that
need torch live in ``tests/integration`` (marker ``torch``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

UNIT = Path(__file__).resolve().parent
ROOT = UNIT.parents[1]
HEAVY = ("torch", "transformers", "peft", "trl")

_PROBE = """
import importlib, json, sys
sys.path[:0] = [{root!r}, {unit!r}]
found = {{}}
for name in {names!r}:
    importlib.import_module(name)
    for heavy in {heavy!r}:
        if heavy in sys.modules and heavy not in found:
            found[heavy] = name
print(json.dumps(found))
"""


def heavy_imports(names: list[str]) -> dict[str, str]:
    """Which of :data:`HEAVY` importing ``names`` (in order, one fresh interpreter) pulls in, and which module first."""
    code = _PROBE.format(root=str(ROOT), unit=str(UNIT), names=names, heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_no_unit_test_module_imports_torch_or_the_training_stack():
    names = sorted(path.stem for path in UNIT.glob("test_*.py"))
    assert len(names) > 40 and Path(__file__).stem in names
    assert heavy_imports(names) == {}, "move these tests to tests/integration (marker `torch`)"


def test_the_probe_sees_a_heavy_import(tmp_path):
    # The check above must be able to fail: a module that imports torch is reported (a stand-in torch keeps it fast).
    (tmp_path / "torch.py").write_text("")
    (tmp_path / "heavy_probe_module.py").write_text("import json\nimport torch\n")
    sys_path_code = f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n"
    code = sys_path_code + _PROBE.format(root=str(ROOT), unit=str(UNIT), names=["heavy_probe_module"], heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"torch": "heavy_probe_module"}
