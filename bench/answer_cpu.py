"""CPU of one answer turn: server and client CPU seconds per answer, answers only (no quiz starts in the window).

    HF_HUB_OFFLINE=1 .venv/bin/python bench/answer_cpu.py --sessions 20 --questions 3
    HF_HUB_OFFLINE=1 .venv/bin/python bench/answer_cpu.py --sessions 20 --server-pid-file /tmp/pid  # for py-spy
    HF_HUB_OFFLINE=1 .venv/bin/python bench/answer_cpu.py --graph --sessions 20 --questions 6   # the graph alone

Starts ``tutor chat`` as :mod:`bench.load_sessions` does (a temporary TUTOR_DATA_DIR, SQLite), then, with
Chainlit's own socket protocol (:mod:`bench.load.socket_student`): every student types its quiz request and
waits for question 1; then in rounds, every student answers at once (half click the answer pad, half type
the letter, as in the load bench) and waits for the next question or the summary. Per round it reads the
server process's CPU time (``/proc/PID/stat``: every thread) and this process's (the clients), so the
figures are CPU per answer turn end to end: the HTTP/socket request, the Chainlit handler, the graph turn
with its checkpoint, the data-layer writes, the messages and the answer pad sent back. Wall-clock
latencies per round are reported too (with the machine's load average: its 2 cores are shared).

``--graph``: the graph turn alone, in this process (``Tutor.turn`` on SQLite with the study companion, the
cards, no model: answers need none): CPU per answer turn that leads to a next question, over ``--repeats``
fresh runs (median and min; ``time.process_time``, every thread of this process).

Committed runs: ``bench/results/answer_cpu/`` (``*_before_a0473c3.json``: this script on the code before the
cuts, commit a0473c3, back to back with ``after.json``/``graph_after.json`` on the same loaded machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load.records import TOPICS, Record, request_text, summary  # noqa: E402
from bench.load.socket_student import (  # noqa: E402
    SOCKET_PATH, Inbox, click, log_in, question, ready, summary_shown, user_message,
)

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class Student:
    """One socket student whose steps the rounds drive (connect, request, answer)."""

    def __init__(self, url: str, record: Record, wait_s: float):
        import httpx
        import socketio

        self.url, self.record, self.wait_s = url, record, wait_s
        self.inbox, self.session_id = Inbox(), str(uuid.uuid4())
        self.http = httpx.AsyncClient(base_url=url, timeout=wait_s)
        self.sio = socketio.AsyncClient(reconnection=False)
        for event in ("new_message", "update_message", "stream_start"):
            self.sio.on(event, self.inbox.message)
        self.sio.on("element", self.inbox.element)
        self.sio.on("chat_settings", self.inbox.settings)
        self.pad: dict | None = None

    async def start(self, questions: int) -> float:
        await log_in(self.http, None)
        await self.http.post("/set-session-cookie", json={"session_id": self.session_id})
        cookie = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
        await self.sio.connect(self.url, socketio_path=SOCKET_PATH, transports=["websocket"],
                               headers={"Cookie": cookie},
                               auth={"clientType": "webapp", "sessionId": self.session_id, "threadId": "",
                                     "userEnv": "{}", "chatProfile": ""}, wait_timeout=self.wait_s)
        await self.sio.emit("connection_successful")
        await self.inbox.until(lambda: self.inbox.settings_seen, self.wait_s)
        sent = time.perf_counter()
        await self.sio.emit("client_message", user_message(self.record.request, self.url, "student"))
        self.pad = await self.inbox.until(lambda: question(self.inbox, 1, questions), self.wait_s)
        return time.perf_counter() - sent

    async def answer(self, number: int, questions: int) -> float:
        """Answer question ``number`` with "A"; seconds until the next question (or the summary) is shown."""
        clicked = time.perf_counter()
        if self.record.answer_by == "click":
            await asyncio.gather(click(self.http, self.session_id, self.pad, "A", self.record), self._next(
                number, questions))
        else:
            await self.sio.emit("client_message", user_message("A", self.url, "student"))
            await self._next(number, questions)
        return time.perf_counter() - clicked

    async def _next(self, number: int, questions: int) -> None:
        if number < questions:
            self.pad = await self.inbox.until(lambda: question(self.inbox, number + 1, questions), self.wait_s)
        else:
            await self.inbox.until(lambda: summary_shown(self.inbox, questions), self.wait_s)

    async def close(self) -> None:
        if self.sio.connected:
            await self.sio.disconnect()
        await self.http.aclose()


async def rounds(url: str, pid: int, sessions: int, questions: int, wait_s: float, settle_s: float,
                 pid_file: Path | None = None, hold_s: float = 0) -> dict:
    records = [Record(topic=TOPICS[i % len(TOPICS)], request=request_text(i, TOPICS[i % len(TOPICS)], questions),
                      answer_by="letter" if i % 2 else "click") for i in range(sessions)]
    students = [Student(url, r, wait_s) for r in records]
    try:
        firsts = await asyncio.gather(*(s.start(questions) for s in students))
        out = {"quiz_to_first_question_s": summary(list(firsts)), "rounds": []}
        if pid_file is not None:  # a profiler attaches now: it sees the answer rounds only
            pid_file.write_text(str(pid))
            await asyncio.sleep(hold_s)
        for number in range(1, questions + 1):
            await asyncio.sleep(settle_s)  # background work of the previous round (write-ahead) is done
            server0, client0, t0 = cpu_s(pid), time.process_time(), time.perf_counter()
            waits = await asyncio.gather(*(s.answer(number, questions) for s in students))
            wall = time.perf_counter() - t0
            await asyncio.sleep(settle_s)  # count what the turns left running (pad updates, step writes)
            server, client = cpu_s(pid) - server0, time.process_time() - client0
            out["rounds"].append({"question": number, "answers": sessions, "wall_s": round(wall, 3),
                                  "server_cpu_ms_per_answer": round(1000 * server / sessions, 1),
                                  "client_cpu_ms_per_answer": round(1000 * client / sessions, 1),
                                  "answer_to_next_s": summary(list(waits))})
        out["errors"] = [e for r in records for e in r.errors]
        return out
    finally:
        await asyncio.gather(*(s.close() for s in students))


async def graph_rounds(sessions: int, questions: int) -> float:
    """CPU ms per answer turn of ``Tutor.turn`` (answers 1..questions-1 of every session, all at once per round)."""
    from agent.graph.events import AnswerClick, TextTurn
    from agent.graph.runner import Tutor
    from agent.quiz.service import TutorService
    from agent.study.companion import StudyCompanion
    from knowledge.base import KnowledgeBase

    kb = KnowledgeBase.load()
    with tempfile.TemporaryDirectory(prefix="tutor-graph-") as tmp:
        study = StudyCompanion.open(Path(tmp) / "chat.sqlite", kb)
        async with Tutor.open(Path(tmp) / "graph.sqlite", TutorService(kb, lm=None), study=study,
                              read_turn=lambda text, options=None: None) as tutor:
            async def turn(i: int, event) -> None:
                outputs = [o async for o in tutor.turn(f"thread-{i}", event, user=f"student{i:02d}")]
                shown[i] = next(o for o in reversed(outputs) if o.kind == "question")

            shown: dict[int, object] = {}
            await asyncio.gather(*(turn(i, TextTurn(text="/quiz overfitting", questions=questions))
                                   for i in range(sessions)))
            await asyncio.sleep(0.5)  # the write-ahead of every quiz is done
            start = time.process_time()
            for _ in range(questions - 1):
                await asyncio.gather(*(turn(i, AnswerClick(quiz_id=shown[i].quiz_id, index=shown[i].index, letter="A"))
                                       for i in range(sessions)))
            return 1000 * (time.process_time() - start) / (sessions * (questions - 1))


def graph_only(sessions: int, questions: int, repeats: int) -> dict:
    import statistics

    runs = [round(asyncio.run(graph_rounds(sessions, questions)), 2) for _ in range(repeats)]
    return {"graph_cpu_ms_per_answer": {"median": statistics.median(runs), "min": min(runs), "runs": runs}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--questions", type=int, default=3)
    parser.add_argument("--settle-s", type=float, default=1.5)
    parser.add_argument("--server-pid-file", type=Path, default=None,
                        help="write the server's pid here once every first question is shown (py-spy)")
    parser.add_argument("--hold-s", type=float, default=0, help="then wait this long before the answer rounds")
    parser.add_argument("--out", type=Path, default=None, help="write the result JSON here")
    parser.add_argument("--graph", action="store_true", help="the graph turn alone, in this process (no server)")
    parser.add_argument("--repeats", type=int, default=5, help="--graph: fresh runs")
    args = parser.parse_args(argv)
    if args.graph:
        load = os.getloadavg()
        res = {"mode": "graph", "sessions": args.sessions, "questions": args.questions,
               "load_average_before": [round(v, 2) for v in load],
               **graph_only(args.sessions, args.questions, args.repeats)}
        print(json.dumps(res, indent=1))
        if args.out:
            args.out.write_text(json.dumps(res, indent=1))
        return 0
    from bench.load_sessions import e2e_helpers

    e2e = e2e_helpers()
    with tempfile.TemporaryDirectory(prefix="tutor-cpu-") as tmp:
        server = e2e.Server(Path(tmp), e2e._free_port(), Path(tmp) / "server.log",
                            extra_env={"OMP_WAIT_POLICY": "PASSIVE"})
        server.start()
        try:
            asyncio.run(ready(server.url, 300))
            load = os.getloadavg()
            res = asyncio.run(rounds(server.url, server.proc.pid, args.sessions, args.questions, 300, args.settle_s,
                                     args.server_pid_file, args.hold_s))
        finally:
            server.kill(signal.SIGTERM)
    res = {"sessions": args.sessions, "questions": args.questions, "load_average_before": [round(v, 2) for v in load],
           "load_average_after": [round(v, 2) for v in os.getloadavg()], **res}
    text = json.dumps(res, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text)
    return 1 if res["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
