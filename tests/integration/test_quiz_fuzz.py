"""Quiz fuzz with the real embedded model: hostile and ordinary topics, >= 200 generated questions.

Every request ends in a valid quiz or a clear :class:`QuizUnavailable` - never another exception,
never an invalid quiz, a repeated option or stem, or a lopsided answer key. The longer version is
``bench/quiz_soak.py`` (100 quizzes).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/integration/test_quiz_fuzz.py -q -s
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from agent.quiz.service import TutorService
from evaluation.quiz_quality import generate_and_audit, summarise_audits
from evaluation.quiz_topics import edge_case_topics, load_topics

pytestmark = pytest.mark.model
TOPICS_FILE = Path(__file__).resolve().parents[2] / "evaluation" / "data" / "quiz_topics.txt"


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """One torch thread: on a shared 2-core machine two threads stall whenever another process runs
    (3x slower decoding, bench/results/quiz_speed.json); on an idle one they are no faster."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_fuzzed_topics_give_valid_quizzes_or_clear_refusals(knowledge_base, embedded_lm):
    service = TutorService(knowledge_base, embedded_lm)
    ordinary = load_topics(TOPICS_FILE)[::3]  # 15 topics, one in three across the syllabus
    topics = edge_case_topics() + ordinary
    started = time.perf_counter()
    audits = [generate_and_audit(service, topic, 10, seed=seed) for seed, topic in enumerate(topics)]
    elapsed = time.perf_counter() - started

    for audit in audits:
        assert audit.status in ("ok", "unavailable"), (audit.topic[:80], audit.status, audit.message)
        if audit.status == "unavailable":
            assert audit.message and "\n" not in audit.message and len(audit.message) < 400, audit.message
    summary = summarise_audits(audits)
    print(f"\n{summary['quizzes']} quizzes, {summary['questions']} questions, {len(summary['unavailable'])} "
          f"unavailable in {elapsed:.0f} s; letters {summary['letters']}")
    assert summary["questions"] >= 200
    assert summary["valid_quizzes"]["rate"] == 1.0
    assert summary["duplicate_stems"] == 0 and summary["duplicate_options"] == 0
    assert summary["max_letter_share_overall"] <= 0.35
    assert summary["verified_meta"]["rate"] == 1.0
    # Requests that name nothing we teach are refused, not answered with an arbitrary quiz.
    refused = {u["topic"] for u in summary["unavailable"]}
    assert {"", ("xq" * 1024)[:200]} <= refused  # audits keep the first 200 characters of a topic
