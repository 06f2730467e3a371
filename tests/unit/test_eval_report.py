"""results.json / results.md / predictions.jsonl / PNG writing, and the `tutor eval arc` parser.

    .venv/bin/python -m pytest tests/unit/test_eval_report.py -q
"""

from __future__ import annotations

import json

import pytest

from evaluation.arc import ArcEvalConfig
from evaluation.report import markdown, rerender, write_outputs
from evaluation.stats import paired_comparison


def fake_results():
    run = {"n": 4, "correct": 3, "accuracy": 0.75, "ci95": [0.3, 0.95], "parse_failures": 0, "wall_seconds": 1.5}
    loglik = {**run, "acc_norm": 0.5, "acc_norm_ci95": [0.15, 0.85]}
    model = {"label": "tiny", "model_spec": "embedded", "adapter": None, "runs": {"loglik": loglik, "letter_chat": run}}
    return {
        "task": "arc", "prompt_version": "v", "seed": 0, "wall_seconds": 3.0,
        "settings": {"shots": 0, "seed": 0, "limit": None, "device": "cpu", "dtype": "float32", "batch_size": 16},
        "data": {"source": "/x/tiny.jsonl", "sha256": "ab" * 32, "n_rows": 5, "n_valid": 4, "n_skipped": 1,
                 "skipped": {"invalid JSON": 1}, "n_scored": 4, "chance_accuracy": 0.25},
        "models": {"base": model, "adapter": {**model, "adapter": "/a"}},
        "comparison": {"loglik": paired_comparison([True, True, False, True], [True, False, True, True])},
    }


def test_write_outputs_writes_all_files_atomically(tmp_path):
    paths = write_outputs(tmp_path / "out", fake_results(), [{"id": "q1", "model": "base"}])
    assert sorted(p.name for p in paths.values()) == ["accuracy.png", "predictions.jsonl", "results.json", "results.md"]
    assert json.loads(paths["results"].read_text())["models"]["base"]["runs"]["loglik"]["acc_norm"] == 0.5
    assert paths["chart"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [json.loads(line) for line in paths["predictions"].read_text().splitlines()] == [{"id": "q1", "model": "base"}]
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.endswith(".partial")]


def test_rerender_rebuilds_markdown_and_chart_from_results_json(tmp_path):
    paths = write_outputs(tmp_path, fake_results(), [])
    paths["markdown"].unlink()
    paths["chart"].unlink()
    rerender(tmp_path)
    assert paths["markdown"].read_text() == markdown(fake_results())
    assert paths["chart"].read_bytes()[:4] == b"\x89PNG"


def test_markdown_has_one_row_per_model_and_score_and_the_comparison():
    text = markdown(fake_results())
    assert text.count("| base |") == 3 and text.count("| adapter |") == 3  # acc, acc_norm, letter
    assert "| base | loglik (acc_norm) | 4 | 50.0 | 15.0-85.0 |" in text
    assert "Adapter vs base" in text and "exact binomial" in text
    assert "invalid JSON" in text


def test_config_validation_and_run_names():
    assert ArcEvalConfig(out="o").run_names() == ["loglik", "letter_chat"]
    assert ArcEvalConfig(out="o", mode="letter", chat_template="both").run_names() == ["letter_chat", "letter_plain"]
    assert ArcEvalConfig(out="o", mode="loglik", chat_template="off").run_names() == ["loglik"]
    for bad in ({"mode": "x"}, {"chat_template": "maybe"}, {"shots": -1}, {"limit": 0}, {"batch_size": 0}):
        with pytest.raises(ValueError):
            ArcEvalConfig(out="o", **bad)


def test_cli_registers_eval_arc_with_nested_subcommands():
    from tutor.cli import build_parser

    args = build_parser().parse_args(
        ["eval", "arc", "--data", "x.jsonl", "--limit", "5", "--mode", "letter", "--chat-template", "off",
         "--shots", "2", "--batch-size", "4", "--compare-base", "--adapter", "a", "--out", "o"]
    )
    assert (args.command, args.eval_command, args.limit, args.mode, args.chat_template) == ("eval", "arc", 5, "letter", "off")
    assert args.compare_base and args.shots == 2 and args.batch_size == 4 and callable(args.handler)
