"""Four browser sessions take their own 3-question quizzes at once on one `tutor chat` server.

The CI-sized version of ``bench/load_sessions.py`` (which runs 20): every session sets the quiz
length to 3 with the chat-settings slider, types a free-text request ("quiz me on TOPIC, 3
questions") with a topic of its own and answers every question with one click, waiting for the
answer pad's acknowledgment (a click is never repeated). No session may see another's questions or
feedback, every session must see exactly one quiz start, three feedback lines and one summary, no
page may show an error, no click may be refused, and the server log may hold none of the app's turn
failures ("handler failed", "planning failed", ...); any other traceback in the log is shown as a
warning with its text.

    HF_HUB_OFFLINE=1 OMP_WAIT_POLICY=PASSIVE .venv/bin/python -m pytest tests/e2e/test_reliability_concurrency.py -q
"""

from __future__ import annotations

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
    result = bench.run_load(SESSIONS, QUESTIONS, deadline_s=420, clients="browser")
    if result["other_tracebacks"]:  # shown in the run's warnings summary, with the text (see run_load)
        warnings.warn(f"traceback in the server log:\n{result['other_tracebacks']}", stacklevel=1)
    assert result["problems"] == {}, f"{result['problems']}\n--- server log (tail) ---\n{result['server_log_tail']}"
    assert result["completed_sessions"] == SESSIONS and result["refused_clicks"] == 0
    topics = {r["topic"] for r in result["records"]}
    assert len(topics) == SESSIONS  # distinct topics, so a foreign question line would be caught
    for record in result["records"]:
        assert len(record["question_lines"]) == QUESTIONS and record["feedback_lines"] == QUESTIONS
    assert result["answer_to_next_question_s"]["n"] == SESSIONS * (QUESTIONS - 1)
    # Generous bound (2 CI cores, model planning of other sessions running meanwhile): a wait of a
    # minute for the next question would mean an answer is stuck behind another session's work.
    assert result["answer_to_next_question_s"]["max"] < 60


def test_socket_students_log_in_with_their_own_accounts_and_finish_their_quizzes():
    """The load benchmark's socket students (Chainlit's own protocol), with one password account each:
    every one logs in, types its request, answers by click or letter and sees only its own quiz."""
    bench = load_bench()
    result = bench.run_load(3, 2, deadline_s=300, clients="socket", accounts=True)
    assert result["problems"] == {}, f"{result['problems']}\n--- server log (tail) ---\n{result['server_log_tail']}"
    assert result["completed_sessions"] == 3 and result["refused_clicks"] == 0
    assert {r["answer_by"] for r in result["records"]} == {"click", "letter"}
    for record in result["records"]:
        assert len(record["question_lines"]) == 2 and record["feedback_lines"] == 2
    assert result["quiz_to_first_question_s"]["n"] == 3 and result["answer_to_next_question_s"]["n"] == 3
