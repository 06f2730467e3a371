"""Four browser sessions take their own 3-question quizzes at once on one `tutor chat` server.

The CI-sized version of ``bench/load_sessions.py`` (which runs 20): every session sets the quiz
length to 3 with the chat-settings slider, types ``/quiz TOPIC`` with a topic of its own and answers
every question. No session may see another's questions or feedback, every session must see
exactly one quiz start, three feedback lines and one summary, no page may show an error, and the
server log may hold none of the app's turn failures ("handler failed", "planning failed", ...); any
other traceback in the log is shown as a warning with its text.

    HF_HUB_OFFLINE=1 OMP_WAIT_POLICY=PASSIVE .venv/bin/python -m pytest tests/e2e/test_reliability_concurrency.py -q
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import warnings
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SESSIONS, QUESTIONS = 4, 3


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_load_sessions", ROOT / "bench" / "load_sessions.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_four_simultaneous_quizzes_do_not_cross_talk():
    pytest.importorskip("playwright.async_api")
    if not Path("/usr/bin/chromium").exists():
        pytest.skip("/usr/bin/chromium is not installed")
    bench = load_bench()
    result = asyncio.run(bench.run_load(SESSIONS, QUESTIONS, deadline_s=420, model_wait_ms=300_000))
    if result["other_tracebacks"]:  # shown in the run's warnings summary, with the text (see run_load)
        warnings.warn(f"traceback in the server log:\n{result['other_tracebacks']}", stacklevel=1)
    assert result["problems"] == {}, f"{result['problems']}\n--- server log (tail) ---\n{result['server_log_tail']}"
    assert result["completed_sessions"] == SESSIONS
    topics = {r["topic"] for r in result["records"]}
    assert len(topics) == SESSIONS  # distinct topics, so a foreign question line would be caught
    for record in result["records"]:
        assert len(record["question_lines"]) == QUESTIONS and record["feedback_lines"] == QUESTIONS
    assert result["answer_to_next_question_s"]["n"] == SESSIONS * (QUESTIONS - 1)
    # Generous bound (2 CI cores, model planning of other sessions running meanwhile): a wait of a
    # minute for the next question would mean an answer is stuck behind another session's work.
    assert result["answer_to_next_question_s"]["max"] < 60
