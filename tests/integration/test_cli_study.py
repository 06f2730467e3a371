"""The study loop from the terminal with the real embedded model: an interactive quiz over a real pipe,
then progress, a review a day and a half later and an Anki export of the history.

    pytest -q -m model tests/integration/test_cli_study.py      # ~3-6 min on 2 busy cores (two model loads)
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from agent.terminal import PROMPT

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.model


def tutor(args, env, **kwargs):
    return subprocess.run([sys.executable, "-m", "tutor", *args], env=env, capture_output=True, text=True,
                          timeout=900, **kwargs)


def ask(process) -> list[str]:
    """Lines up to the answer prompt (the question and its options); [] when the quiz has ended."""
    lines = []
    for line in process.stdout:
        if line.rstrip("\n") == PROMPT:
            return lines
        lines.append(line.rstrip("\n"))
    return []


def test_interactive_quiz_then_progress_review_and_export(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO), "TUTOR_DATA_DIR": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    env.pop("TUTOR_CLOCK_OFFSET_DAYS", None)
    quiz = subprocess.Popen([sys.executable, "-m", "tutor", "quiz", "--topic", "overfitting", "--questions", "3",
                             "--interactive"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env)
    transcript, verdicts = [], []
    for n, reply in enumerate(["A", None, "c"]):
        shown = ask(quiz)
        options = [line.split(". ", 1)[1] for line in shown if line.startswith(("  A. ", "  B. ", "  C. ", "  D. "))]
        assert len(options) == 4, shown
        # Question 2 is answered with the words of option B instead of its letter.
        quiz.stdin.write((reply or options[1]) + "\n")
        quiz.stdin.flush()
        feedback = quiz.stdout.readline().rstrip("\n")
        transcript += shown + [feedback]
        chosen = "ABC"[n]
        assert feedback.startswith((f"✓ Correct! {chosen}. ", f"✗ Not quite. You chose {chosen}. ")), feedback
        verdicts.append(feedback.startswith("✓"))
    rest, _ = quiz.communicate(timeout=120)
    assert quiz.returncode == 0
    score = sum(verdicts)
    assert f"Score: {score}/3" in rest, rest

    progress = json.loads(tutor(["progress", "--format", "json"], env).stdout)
    assert progress["answers"] == 3 and progress["seen"] == 3 and progress["due"] == 0
    concepts = [c for area in progress["areas"] for c in area["concepts"]]
    assert all(c["next_due"] for c in concepts) and sum(c["seen"] for c in concepts) == 3

    # A day and a half later exactly the missed facts are due (right answers come back after two days).
    later = {**env, "TUTOR_CLOCK_OFFSET_DAYS": "1.5"}
    review = tutor(["review", "--format", "json"], later)
    if score == 3:
        assert "Nothing is due" in review.stdout
    else:
        document = json.loads(review.stdout)
        assert len(document["questions"]) == 3 - score
        exported = tutor(["export", "--what", "history", "--format", "json", "--out", str(tmp_path / "h.json")], env)
        assert exported.returncode == 0, exported.stderr
        answered = json.loads((tmp_path / "h.json").read_text())["history"]
        missed = {a["question"]["explanation"] for a in answered if not a["graded"]["is_correct"]}
        assert {q["explanation"] for q in document["questions"]} == missed

    deck = tmp_path / "deck.apkg"
    assert tutor(["export", "--what", "history", "--format", "anki", "--out", str(deck)], env).returncode == 0
    with zipfile.ZipFile(deck) as archive:
        (tmp_path / "collection.anki2").write_bytes(archive.read("collection.anki2"))
    with sqlite3.connect(tmp_path / "collection.anki2") as db:
        assert db.execute("SELECT COUNT(*) FROM notes").fetchone()[0] == 3
