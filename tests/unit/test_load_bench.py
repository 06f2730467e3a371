"""The load benchmark's students (bench/load): what they read from the chat and what they call a problem.

    PYTHONPATH=$PWD .venv/bin/python -m pytest tests/unit/test_load_bench.py -q
"""

from __future__ import annotations

import asyncio

import pytest

from bench.load.records import Record, percentile, plain, request_text, summary
from bench.load.socket_student import Inbox, question, summary_shown, user_message

TOPIC = "bias-variance trade-off"
QUESTION_MD = ("**Question {n} of 2** · bias\\-variance trade\\-off\n\n### What is *it*\\?\n\n"
               "- **A.** one\n- **B.** two")
FEEDBACK_MD = "✓ **Correct!** A. one\n\n_Question {n} of 2 · score {n}/{n} · source: Bias\\-variance_"


def record_with(*messages: str) -> Record:
    record = Record(topic=TOPIC, request=request_text(0, TOPIC, 2), answer_by="click")
    record.text = "\n".join(plain(m) for m in messages)
    return record


def test_plain_reads_markdown_as_the_page_shows_it():
    assert plain(QUESTION_MD.format(n=1)).splitlines()[0] == "Question 1 of 2 · bias-variance trade-off"
    assert plain(FEEDBACK_MD.format(n=1)).splitlines()[-1] == "Question 1 of 2 · score 1/1 · source: Bias-variance"


def test_a_complete_session_has_no_problems_and_each_gap_is_named():
    full = [QUESTION_MD.format(n=1), FEEDBACK_MD.format(n=1), QUESTION_MD.format(n=2), FEEDBACK_MD.format(n=2),
            "## Quiz complete: 2 / 2 (100%)"]
    assert record_with(*full).problems(2) == []
    assert record_with(*full[:-1]).problems(2) == ["starts=1 summaries=0"]
    assert record_with(*full[:3], full[4]).problems(2) == ["1 feedback lines for 2 answers"]
    foreign = QUESTION_MD.format(n=2).replace("bias\\-variance trade\\-off", "dropout")
    assert "foreign question line" in record_with(*full, foreign).problems(2)[0]
    assert record_with(*full, "Sorry, something went wrong").problems(2) == ["page shows 'something went wrong'"]


def test_requests_are_free_text_with_topic_and_count():
    texts = {request_text(i, "dropout", 3) for i in range(8)}
    assert len(texts) == 4 and all("dropout" in t and "3 questions" in t and not t.startswith("/") for t in texts)


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 50) == 10.0 and percentile(values, 95) == 19.0 and percentile([], 50) is None
    assert summary([0.12345, 2.0]) == {"n": 2, "p50": 0.123, "p95": 2.0, "max": 2.0}


def test_socket_inbox_finds_a_question_once_its_message_and_pad_arrived():
    inbox = Inbox()
    inbox.message({"id": "m1", "type": "assistant_message", "output": QUESTION_MD.format(n=1)})
    inbox.message({"id": "u1", "type": "user_message", "output": "A"})  # the student's own text is not shown twice
    assert question(inbox, 1, 2) is None  # the pad comes as an element after the message
    pad = {"quiz_id": "q", "index": 0, "total": 2, "letters": ["A", "B", "C", "D"], "answered": None}
    inbox.element({"type": "custom", "name": "AnswerPad", "props": pad})
    inbox.element({"type": "image", "props": {}})
    assert question(inbox, 1, 2) == pad and question(inbox, 2, 2) is None
    inbox.message({"id": "m1", "type": "assistant_message", "output": "## Quiz complete: 1 / 2 (50%)"})  # an update
    assert summary_shown(inbox, 2) and not summary_shown(inbox, 3) and list(inbox.messages) == ["m1"]


def test_socket_inbox_wait_returns_when_found_and_times_out_otherwise():
    async def scenario():
        inbox = Inbox()
        later = asyncio.get_running_loop().call_later(
            0.05, inbox.message, {"id": "m", "type": "assistant_message", "output": "hi"})
        found = await inbox.until(lambda: inbox.messages.get("m"), timeout=5)
        later.cancel()
        with pytest.raises(TimeoutError):
            await inbox.until(lambda: inbox.messages.get("other"), timeout=0.05)
        return found

    assert asyncio.run(scenario()) == "hi"


def test_user_message_is_what_chainlits_frontend_sends():
    payload = user_message("quiz me on dropout, 3 questions", "http://127.0.0.1:9", "ada")
    step = payload["message"]
    assert step["type"] == "user_message" and step["output"].startswith("quiz me") and step["name"] == "ada"
    assert payload["fileReferences"] == [] and len(step["id"]) == 36 and step["threadId"] == ""
