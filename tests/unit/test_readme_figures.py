"""README and docstring figures agree with the committed results (``scripts/readme_figures.py``).

    python -m pytest -q tests/unit/test_readme_figures.py

Pure and fast: the check reads JSON files and text only. The first test is the CI gate; the others edit a
temporary copy of the files it reads and show that the check fails when a figure and its results disagree.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "readme_figures.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("readme_figures", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


figures = _load_script()


def test_committed_readme_and_docstrings_agree_with_results():
    done = subprocess.run([sys.executable, str(SCRIPT), "--check"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, (
        "README or a docstring disagrees with the results; run `python scripts/readme_figures.py --write`\n"
        + done.stdout + done.stderr)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The files the check reads, copied under a temporary root."""
    for relative in figures.inputs():
        target = tmp_path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / relative, target)
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} should occur once in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _set_json(path: Path, keys: tuple, value) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    node = data
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = value
    path.write_text(json.dumps(data), encoding="utf-8")


def test_the_copy_passes_before_any_edit(copy: Path):
    assert figures.main(["--check", "--root", str(copy)]) == 0


def test_check_fails_when_a_readme_figure_is_altered(copy: Path, capsys):
    rows = json.loads((copy / "bench/results/decode_variants.json").read_text(encoding="utf-8"))["rows"]
    packed = next(r for r in rows if "(default)" in r["variant"])["decode_tok_s"]
    _edit(copy / "README.md", f"decoding runs {packed} tok/s", "decoding runs 40.6 tok/s")
    assert figures.main(["--check", "--root", str(copy)]) == 1
    out = capsys.readouterr()
    assert any(line.startswith("-") and "decoding runs 40.6 tok/s" in line for line in out.out.splitlines())
    assert "README.md differs from the results" in out.err


def test_check_fails_when_a_docstring_figure_is_altered(copy: Path, capsys):
    _edit(copy / "agent/app/main.py", "answer -> next question p95 8.95 s", "answer -> next question p95 3.9 s")
    assert figures.main(["--check", "--root", str(copy)]) == 1
    err = capsys.readouterr().err
    assert "agent/app/main.py: says 'answer -> next question p95 3.9 s'" in err
    assert "'answer -> next question p95 8.95 s'" in err


def test_check_fails_when_results_change_and_write_brings_both_back_in_line(copy: Path, capsys):
    results = copy / "bench/results/load_sessions.json"
    _set_json(results, ("answer_to_next_question_s", "p95"), 3.9)
    assert figures.main(["--check", "--root", str(copy)]) == 1
    err = capsys.readouterr().err
    assert "README.md differs" in err and "agent/app/main.py" in err

    assert figures.main(["--write", "--root", str(copy)]) == 0
    assert "p95 3.90 s |" in (copy / "README.md").read_text(encoding="utf-8")
    assert "answer -> next question p95 3.90 s" in (copy / "agent/app/main.py").read_text(encoding="utf-8")
    assert figures.main(["--check", "--root", str(copy)]) == 0


def test_a_reshaped_results_file_is_a_clear_error(copy: Path, capsys):
    _set_json(copy / "bench/results/decode_variants.json", ("rows",), [])
    assert figures.main(["--check", "--root", str(copy)]) == 2
    assert "bench/results/decode_variants.json: expected one variant" in capsys.readouterr().err

    shutil.copyfile(ROOT / "bench/results/decode_variants.json", copy / "bench/results/decode_variants.json")
    _set_json(copy / "bench/results/quiz_speed.json", ("quiz",), {})
    assert figures.main(["--check", "--root", str(copy)]) == 2
    assert "bench/results/quiz_speed.json: no longer has the shape" in capsys.readouterr().err


def test_a_missing_results_file_is_a_clear_error(copy: Path, capsys):
    (copy / "bench/results/quiz_soak.json").unlink()
    assert figures.main(["--check", "--root", str(copy)]) == 2
    assert "results file bench/results/quiz_soak.json is missing" in capsys.readouterr().err


def test_a_removed_figure_block_is_an_error(copy: Path, capsys):
    readme = copy / "README.md"
    text = readme.read_text(encoding="utf-8")
    start = text.index("<!-- figures:quality -->")
    end = text.index("<!-- /figures -->", start) + len("<!-- /figures -->")
    readme.write_text(text[:start] + text[end:], encoding="utf-8")
    assert figures.main(["--check", "--root", str(copy)]) == 2
    assert "missing ['quality']" in capsys.readouterr().err


def test_every_row_names_the_machine_its_results_record():
    results = figures.Results(ROOT)
    for table in (figures.SECTIONS["benchmarks"], figures.SECTIONS["quality"]):
        for row in table.rows:
            machine = row.machine(results(row.source))
            assert machine.strip(), row.source
    decode = next(row for row in figures.SECTIONS["benchmarks"].rows if row.source.endswith("decode_variants.json"))
    machine = decode.machine(results(decode.source))
    assert machine.startswith("AMD EPYC, 2 threads, load average ") and machine.endswith(" at the end")


def test_train_throughput_cell_reads_interleaved_medians_and_the_fp8_variant():
    """The row format of ``bench/train_throughput.py --stacks interleaved`` (medians of repeats, spread)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from figures_bench import train_throughput

    def row(stack, batch, speed, peak, repeats):
        return {"stack": stack, "batch": batch, "tokens_per_s": speed, "peak_gib": peak, "repeats": repeats,
                "spread": (max(repeats) - min(repeats)) / speed, "gpu": "H100"}

    rows = [row("project", 2, 15000, 3.06, [15000, 14000, 16500]), row("unsloth", 2, 13000, 3.18, [13000, 13000, 13000]),
            row("project-fp8", 2, 18000, 3.1, [18000, 17000, 18000]),
            row("project", 4, 22000, 3.56, [22000, 22000, 22100]), row("unsloth", 4, 21700, 3.83, [21700, 21600, 21800])]
    text = train_throughput(rows)
    assert text.startswith("medians of 3 interleaved repeats; batch 2: 15.0k tok/s, 3.06 GiB, spread 17 %")
    assert "project + FP8 18.0k tok/s, 3.10 GiB, spread 6 %" in text
    assert "batch 4: 22.0k tok/s, 3.56 GiB, spread 0 % (Unsloth 21.7k tok/s, 3.83 GiB, spread 1 %)" in text
    assert "plain stack" not in text
