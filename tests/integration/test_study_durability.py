"""Nothing committed is lost on kill -9: a writer process records answers, is SIGKILLed mid-run, and
every answer it reported as committed is there, each with its fact's schedule (no model; ~10 s).

    pytest -q tests/integration/test_study_durability.py
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from agent.study.store import StudyStore

REPO = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent("""
    import sys
    from datetime import datetime, timedelta, timezone
    from agent.study.store import StudyStore
    from schemas import GradedAnswer, MultipleChoiceQuestion
    from schemas.study import AnswerRecord, FactRef

    store = StudyStore(sys.argv[1])
    start = datetime(2026, 12, 7, tzinfo=timezone.utc)
    for n in range(100000):
        fact = f"card-{n % 7}.fact-{n % 5}"
        q = MultipleChoiceQuestion(question=f"Question about {fact}?", options=["one", "two", "three", "four"],
                                   answer="B", explanation="Two is right.", concept="Concept", source="card:card")
        g = GradedAnswer(index=n % 20, question=q.question, chosen="A" if n % 3 else "B", correct="B",
                         is_correct=n % 3 == 0, correct_option="two", chosen_option="one" if n % 3 else "two",
                         concept="Concept")
        record = AnswerRecord(user="ana", quiz_id=f"quiz-{n // 20}", fact=FactRef(fact_id=fact, concept="Concept",
                              area="area"), answered_at=start + timedelta(hours=n), rating="good" if n % 3 == 0
                              else "again", question=q, graded=g)
        assert store.record_answer(record)
        print(n, flush=True)  # reported only after the transaction committed
""")


def test_sigkill_mid_run_loses_no_committed_answer(tmp_path):
    db = tmp_path / "chat.sqlite"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True, env=env)
    committed = []
    try:
        for line in writer.stdout:
            committed.append(int(line))
            if len(committed) == 60:
                os.kill(writer.pid, signal.SIGKILL)  # while it keeps writing
                break
    finally:
        writer.kill()
        writer.wait()
    assert writer.returncode == -signal.SIGKILL and len(committed) == 60
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = StudyStore(db)
    answers = store.answers("ana")
    stored = {(a.quiz_id, a.graded.index) for a in answers}
    assert {(f"quiz-{n // 20}", n % 20) for n in committed} <= stored
    assert len(answers) - len(committed) in (0, 1)  # at most the one committed as the kill landed
    # Every stored answer moved its fact's schedule: reviews per fact == answers per fact.
    per_fact = {}
    for a in answers:
        per_fact[a.fact.fact_id] = per_fact.get(a.fact.fact_id, 0) + 1
    assert {m.ref.fact_id: m.reviews for m in store.memories("ana")} == per_fact
