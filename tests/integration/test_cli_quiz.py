"""The ``tutor`` command as a user runs it (subprocesses), and ``tutor eval quiz`` without a model.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/integration/test_cli_quiz.py -q
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from schemas import Quiz

ROOT = Path(__file__).resolve().parents[2]


def tutor_command() -> list[str]:
    script = ROOT / ".venv" / "bin" / "tutor"
    return [str(script)] if script.exists() else [sys.executable, "-m", "tutor"]


def run_tutor(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = os.environ | {"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    return subprocess.run([*tutor_command(), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def stderr_lines(done: subprocess.CompletedProcess) -> list[str]:
    """Lines a person would read: tqdm progress bars ("...: 100%|####| 272/272 [...]") are left out."""
    return [line for line in done.stderr.splitlines() if line.strip() and "%|" not in line]


@pytest.mark.model
def test_quiz_json_prints_exactly_one_document_of_the_documented_shape():
    done = run_tutor("quiz", "--topic", "bias-variance trade-off", "--questions", "10", "--seed", "0",
                     "--format", "json")
    assert done.returncode == 0, done.stderr[-2000:]
    document = json.loads(done.stdout)  # raises if stdout holds anything but one JSON document
    assert set(document) == {"topic", "questions", "meta"}
    assert len(document["questions"]) == 10
    for question in document["questions"]:
        assert {"question", "options", "answer", "explanation", "concept", "source"} <= set(question)
        assert len(question["options"]) == 4 and question["answer"] in "ABCD"
    assert {"quiz_id", "model", "seed", "verified"} <= set(document["meta"])
    Quiz.model_validate(document)


@pytest.mark.parametrize("args", [["--questions", "0"], ["--questions", "21"], ["--questions", "ten"]])
def test_bad_question_counts_fail_with_one_line_and_nothing_on_stdout(args):
    done = run_tutor("quiz", "--topic", "overfitting", "--format", "json", *args, timeout=120)
    assert done.returncode != 0 and done.stdout == ""
    lines = stderr_lines(done)
    assert len(lines) == 1, lines  # one line saying what is wrong (argparse's usage block is noise here)
    assert "questions" in lines[0]


@pytest.mark.model
def test_unknown_topic_fails_with_one_line_and_nothing_on_stdout():
    done = run_tutor("quiz", "--topic", "qwzx zzkv", "--format", "json")
    assert done.returncode != 0 and done.stdout == ""
    lines = stderr_lines(done)
    assert len(lines) == 1 and lines[0].startswith("error: ") and "qwzx zzkv" in lines[0], lines


@pytest.mark.model
def test_ask_answers_in_whole_sentences_with_sources():
    env = os.environ | {"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([*tutor_command(), "ask", "What is dropout?", "--max-new-tokens", "60"], cwd=ROOT,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    arrivals: list[tuple[float, bytes]] = []
    try:
        while chunk := os.read(process.stdout.fileno(), 64):
            arrivals.append((time.perf_counter(), chunk))
        assert process.wait(timeout=300) == 0
    finally:
        process.kill()
    text = b"".join(c for _, c in arrivals).decode()
    answer = text.split("Sources:")[0].strip()
    assert len(answer.split()) >= 10 and "Sources:" in text
    assert "dropout" in answer.lower() and answer.split("\n")[0].rstrip().endswith((".", "!", "?"))  # whole sentences


def test_eval_quiz_without_a_model_writes_the_whole_report(tmp_path):
    from evaluation.quiz_cli import register_quiz

    topics = tmp_path / "topics.txt"
    topics.write_text("# a comment\noverfitting\n\nprecision vs recall\nqwzx zzkv\nPCA\n", encoding="utf-8")
    parser = argparse.ArgumentParser()
    register_quiz(parser.add_subparsers())
    out = tmp_path / "report"
    args = parser.parse_args(["quiz", "--topics", str(topics), "--out", str(out), "--no-model", "--samples", "5"])
    assert args.handler(args) == 0
    assert sorted(p.name for p in out.iterdir()) == ["quiz_quality.png", "results.json", "results.md", "samples.md"]
    results = json.loads((out / "results.json").read_text())
    summary = results["summary"]
    assert summary["topics"] == 4 and summary["quizzes"] == 3 and summary["questions"] == 30
    assert [u["topic"] for u in summary["unavailable"]] == ["qwzx zzkv"] and summary["errors"] == []
    assert summary["duplicate_stems"] == summary["duplicate_options"] == 0
    assert (out / "samples.md").read_text().count("(key)") == 5
    assert (out / "quiz_quality.png").read_bytes()[:4] == b"\x89PNG"
