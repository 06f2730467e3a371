"""Two app instances on one PostgreSQL database (``postgres`` tier): one quiz, answered from both.

Each instance is its own Python process with its own :class:`agent.graph.runner.Tutor` on the same
``postgresql://`` URL, as two ``tutor chat`` servers behind a load balancer would be; the test drives
them through stdin/stdout, one JSON line per request. A quiz started on instance A continues on B
after a "reload" (B reads the waiting question from the database); then each remaining question
is answered on both instances at the same moment, with different letters. Every question must be
graded exactly once, and the other click must get a visible reply ("already answered"), not vanish.
Template questions (``lm=None``): the store is tested, not the model.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/integration/test_store_two_instances.py -q
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
TOTAL = 5

INSTANCE = r'''
import asyncio, json, sys
from agent.graph.events import AnswerClick, TextTurn
from agent.graph.runner import Tutor
from agent.quiz.service import TutorService
from knowledge.base import KnowledgeBase
from schemas.turn import TurnRequest


async def main():
    service = TutorService(KnowledgeBase.load(), lm=None)
    reader = lambda text, options=None: TurnRequest(intent="help")  # only commands and clicks are sent
    async with Tutor.open(sys.argv[1], service, read_turn=reader, write_ahead=False) as tutor:
        print(json.dumps({"ready": True}), flush=True)
        loop = asyncio.get_running_loop()
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            request = json.loads(line)
            thread = request["thread"]
            if request["op"] == "pending":
                pending = await tutor.pending_question(thread)
                reply = pending.model_dump(mode="json") if pending else None
            else:
                event = TextTurn(**request["text"]) if "text" in request else AnswerClick(**request["answer"])
                reply = [out.model_dump(mode="json") async for out in tutor.turn(thread, event)]
            print(json.dumps({"reply": reply}), flush=True)


asyncio.run(main())
'''


class Instance:
    """One app instance: a process with a Tutor on the shared database."""

    def __init__(self, script: Path, url: str):
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_WAIT_POLICY": "PASSIVE", "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen([sys.executable, str(script), url], cwd=ROOT, env=env, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.read() == {"ready": True}

    def read(self):
        line = self.proc.stdout.readline()
        assert line, f"instance exited with {self.proc.poll()}"
        return json.loads(line)

    def send(self, request: dict) -> None:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()

    def ask(self, request: dict):
        self.send(request)
        return self.read()["reply"]

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def kinds(outputs: list[dict], kind: str) -> list[dict]:
    return [o for o in outputs if o["kind"] == kind]


def test_quiz_moves_between_instances_and_no_click_is_lost_or_graded_twice(tmp_path, fresh_database):
    script = tmp_path / "instance.py"
    script.write_text(INSTANCE, encoding="utf-8")
    a, b = Instance(script, fresh_database), Instance(script, fresh_database)
    thread = "u-ada-chat-1"
    try:
        started = a.ask({"op": "turn", "thread": thread, "text": {"text": "/quiz overfitting", "questions": TOTAL}})
        [question] = kinds(started, "question")
        first = a.ask({"op": "turn", "thread": thread, "answer": {
            "quiz_id": question["quiz_id"], "index": 0, "letter": question["question"]["answer"]}})
        assert [f["graded"]["index"] for f in kinds(first, "feedback")] == [0]
        # "Reload" on the other instance: B finds the question A showed next, and answers it.
        waiting = b.ask({"op": "pending", "thread": thread})
        assert waiting == kinds(first, "question")[0] and waiting["index"] == 1
        second = b.ask({"op": "turn", "thread": thread, "answer": {
            "quiz_id": waiting["quiz_id"], "index": 1, "letter": waiting["question"]["answer"]}})
        assert [f["graded"]["index"] for f in kinds(second, "feedback")] == [1]

        graded, summaries = [0, 1], []
        for index in range(2, TOTAL):
            waiting = a.ask({"op": "pending", "thread": thread})
            assert waiting["index"] == index
            right = waiting["question"]["answer"]
            wrong = next(letter for letter in "ABCD" if letter != right)
            click = {"quiz_id": waiting["quiz_id"], "index": index}
            a.send({"op": "turn", "thread": thread, "answer": {**click, "letter": right}})  # both at once
            b.send({"op": "turn", "thread": thread, "answer": {**click, "letter": wrong}})
            replies = [a.read()["reply"], b.read()["reply"]]
            feedback = [f for reply in replies for f in kinds(reply, "feedback")]
            assert [f["graded"]["index"] for f in feedback] == [index], f"question {index} graded {len(feedback)}x"
            loser = next(reply for reply in replies if not kinds(reply, "feedback"))
            notices = " ".join(o.get("text", "") for o in loser)
            # Told, not dropped (after the last question the quiz is over: "no question waiting").
            told = f"already answered question {index + 1}" if index < TOTAL - 1 else "no question waiting"
            assert told in notices, loser
            graded.append(feedback[0]["graded"]["index"])
            summaries += [s for reply in replies for s in kinds(reply, "summary")]
        assert graded == list(range(TOTAL))
        [summary] = summaries
        assert [g["index"] for g in summary["result"]["graded"]] == list(range(TOTAL))
        assert summary["result"]["total"] == TOTAL
    finally:
        a.close()
        b.close()
