"""Hard restarts mid-quiz: a process is SIGKILLed after every answer, ten times in a row.

Each step runs ``DRIVER`` in a fresh Python process on the same SQLite checkpoint file: it reads
where the thread stands, answers the waiting question (or starts the quiz the first time), prints
what it saw as one JSON line and then kills itself with SIGKILL right after the turn's checkpoint
write (no clean shutdown, no ``finally``, no connection close). The next process must find the
same thread at the next question with every earlier answer kept.

The driver uses ``TutorService(kb, lm=None)`` (template questions): what is tested here is the
checkpointing and resume of the graph, not the model, and without the model a step takes about a
second instead of ~20 s of model loading. Questions are written in-graph (``write_ahead=False``)
so each process leaves nothing running in the background.

    HF_HUB_OFFLINE=1 OMP_WAIT_POLICY=PASSIVE .venv/bin/python -m pytest tests/integration/test_reliability_restart.py -q
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
THREAD = "restart-thread"
TOTAL = 10

DRIVER = r'''
import asyncio, json, os, signal, sys
from agent.graph.events import AnswerClick, TextTurn
from agent.graph.runner import Tutor
from agent.quiz.service import TutorService
from knowledge.base import KnowledgeBase
from schemas import LETTERS
from schemas.turn import TurnRequest

DB, THREAD, TOTAL = sys.argv[1], sys.argv[2], int(sys.argv[3])


def choose(question):
    """Every third question (index 0, 3, 6, 9) is answered wrong, the rest right."""
    right = question["question"]["answer"]
    return right if question["index"] % 3 else next(l for l in LETTERS if l != right)


async def main():
    service = TutorService(KnowledgeBase.load(), lm=None)
    reader = lambda text, options=None: TurnRequest(intent="explain")  # only commands and clicks are sent
    async with Tutor.open(DB, service, read_turn=reader, seed=41, write_ahead=False) as tutor:
        state = await tutor.state(THREAD)
        pending = await tutor.pending_question(THREAD)
        quiz = state.get("quiz")
        report = {"answers_before": [a.model_dump() for a in quiz.answers] if quiz else [],
                  "pending_before": pending.model_dump(mode="json") if pending else None}
        if pending is None:
            event = TextTurn(text="/quiz overfitting", questions=TOTAL)
        else:
            report["chosen"] = choose(report["pending_before"])
            event = AnswerClick(quiz_id=pending.quiz_id, index=pending.index, letter=report["chosen"])
        report["outputs"] = [out.model_dump(mode="json") async for out in tutor.turn(THREAD, event)]
        print(json.dumps(report), flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # right after the checkpoint write, inside the open saver


asyncio.run(main())
'''


def step(script: Path, db: Path) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_WAIT_POLICY": "PASSIVE", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, str(script), str(db), THREAD, str(TOTAL)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, proc.stderr[-2000:])
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads(lines[0])


def only(outputs: list[dict], kind: str) -> dict:
    found = [o for o in outputs if o["kind"] == kind]
    assert len(found) == 1, [o["kind"] for o in outputs]
    return found[0]


def test_ten_sigkills_mid_quiz_keep_every_answer(tmp_path):
    script, db = tmp_path / "driver.py", tmp_path / "graph.sqlite"
    script.write_text(DRIVER, encoding="utf-8")

    first = step(script, db)
    assert first["pending_before"] is None and first["answers_before"] == []
    waiting = only(first["outputs"], "question")
    assert (waiting["index"], waiting["total"]) == (0, TOTAL)
    quiz_id, chosen, seen = waiting["quiz_id"], [], []

    for n in range(TOTAL):
        report = step(script, db)
        # After the kill, the thread waits at exactly the question the killed process showed last ...
        assert report["pending_before"] == waiting, f"restart {n + 1}: resumed at the wrong question"
        # ... with every earlier answer kept, in order, exactly once.
        assert [a["index"] for a in report["answers_before"]] == list(range(n))
        assert [a["chosen"] for a in report["answers_before"]] == chosen
        graded = only(report["outputs"], "feedback")["graded"]
        assert (graded["index"], graded["chosen"]) == (n, report["chosen"])
        assert graded["is_correct"] == (report["chosen"] == waiting["question"]["answer"])
        chosen.append(report["chosen"])
        seen.append((waiting["question"]["question"], waiting["question"]["answer"]))
        if n < TOTAL - 1:
            waiting = only(report["outputs"], "question")
            assert (waiting["quiz_id"], waiting["index"]) == (quiz_id, n + 1)
        else:
            summary = only(report["outputs"], "summary")["result"]

    expected = sum(letter == answer for letter, (_, answer) in zip(chosen, seen))
    assert expected == 6  # indices 0, 3, 6, 9 were answered wrong on purpose
    assert (summary["score"], summary["total"]) == (expected, TOTAL)
    assert [g["chosen"] for g in summary["graded"]] == chosen
    assert len({q for q, _ in seen}) == TOTAL  # ten distinct questions, none repeated after a restart

    # One more restart, in this process: the finished quiz is stored, nothing is waiting.
    from agent.graph.runner import Tutor
    from agent.graph.state import LastQuiz
    from agent.quiz.service import TutorService
    from knowledge.base import KnowledgeBase
    from schemas.turn import TurnRequest

    async def final_state():
        service = TutorService(KnowledgeBase.load(), lm=None)
        reader = lambda text, options=None: TurnRequest(intent="help")  # noqa: E731 - no free text is sent
        async with Tutor.open(db, service, read_turn=reader, write_ahead=False) as tutor:
            return await tutor.state(THREAD), await tutor.pending_question(THREAD)

    state, pending = asyncio.run(final_state())
    assert pending is None and state["quiz"] is None
    assert isinstance(state["last"], LastQuiz)  # rebuilt as the typed record, not a dict
    assert state["last"].result.score == expected
    assert [g.chosen for g in state["last"].result.graded] == chosen
