"""Two ``tutor chat`` servers on one PostgreSQL database, driven over Chainlit's own socket protocol.

A student account is added with ``tutor users add``; servers A and B (two ports, two data folders,
one ``TUTOR_DATABASE_URL`` and one ``CHAINLIT_AUTH_SECRET``) start with the real embedded model.
The student logs in on A, starts a 3-question quiz and answers question 1; a "reload" on B (a new
socket session naming the same thread) shows question 2; that question is then clicked on both
servers at once. The graph state in the database must hold each answer exactly once, and each click
must get a reply; the study memory (answers, facts asked) is in the same database. A second student cannot open the first student's thread on either server.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/integration/test_store_two_servers.py -q
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

pytestmark = [pytest.mark.postgres, pytest.mark.model]
ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 240  # two model loads on 2 shared cores


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(url: str, data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_WAIT_POLICY": "PASSIVE", "PYTHONPATH": str(ROOT),
           "TOKENIZERS_PARALLELISM": "false", "TUTOR_DATABASE_URL": url, "TUTOR_DATA_DIR": str(data_dir),
           "CHAINLIT_AUTH_SECRET": "one-secret-shared-by-every-instance-0123456789", "TUTOR_QUESTIONS": "3"}
    for name in ("TUTOR_PASSWORD", "TUTOR_USERNAME", "CHAINLIT_APP_ROOT", "TUTOR_HOST", "TUTOR_PORT"):
        env.pop(name, None)
    return env


def _add_user(url: str, data_dir: Path, name: str, password: str) -> None:
    subprocess.run([sys.executable, "-m", "tutor", "users", "add", name, "--password-stdin"], input=password + "\n",
                   env=_env(url, data_dir), cwd=data_dir, check=True, text=True, timeout=60)


@pytest.fixture
def servers(tmp_path, fresh_database):
    """Base URLs of two servers sharing ``fresh_database`` (accounts ada and bob), killed afterwards."""
    _add_user(fresh_database, tmp_path, "ada", "ada's password")
    _add_user(fresh_database, tmp_path, "bob", "bob's password")
    procs, urls = [], []
    for name in ("a", "b"):
        data_dir, port = tmp_path / name, _free_port()
        data_dir.mkdir()
        log = (data_dir / "server.log").open("ab")
        procs.append(subprocess.Popen([sys.executable, "-m", "tutor", "chat", "--port", str(port)], cwd=data_dir,
                                      env=_env(fresh_database, data_dir), stdout=log, stderr=subprocess.STDOUT,
                                      start_new_session=True))
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for proc, url, name in zip(procs, urls, "ab"):
            deadline = time.monotonic() + WAIT_S
            while not _up(url):
                assert proc.poll() is None, (tmp_path / name / "server.log").read_text(errors="replace")[-3000:]
                assert time.monotonic() < deadline, f"server {name} did not come up"
                time.sleep(0.5)
        yield urls
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)


def _up(url: str) -> bool:
    try:
        return httpx.get(url + "/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


class Student:
    """One browser tab, in Chainlit's protocol: a socket.io session plus HTTP calls for button clicks."""

    def __init__(self, base: str, token: str, thread_id: str):
        import socketio

        self.base, self.token, self.thread_id = base, token, thread_id
        self.session_id = str(uuid.uuid4())
        self.messages: list[dict] = []
        self.pads: list[dict] = []  # the props of each answer pad shown (agent/app/elements/AnswerPad.jsx)
        self.sio = socketio.AsyncClient()
        self.sio.on("new_message", self.messages.append)
        self.sio.on("element", self._element)

    def _element(self, element: dict) -> None:
        if element.get("type") == "custom" and element.get("name") == "AnswerPad":
            self.pads.append(element["props"])

    async def connect(self) -> None:
        auth = {"clientType": "webapp", "sessionId": self.session_id, "threadId": self.thread_id, "userEnv": "{}"}
        await self.sio.connect(self.base, socketio_path="/ws/socket.io", transports=["websocket"], auth=auth,
                               headers={"Cookie": f"access_token={self.token}"}, wait_timeout=30)
        await self.sio.emit("connection_successful")

    async def say(self, text: str) -> None:
        message = {"threadId": self.thread_id, "id": str(uuid.uuid4()), "name": "student", "type": "user_message",
                   "output": text, "createdAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        await self.sio.emit("client_message", {"message": message, "fileReferences": None})

    async def click(self, action: dict) -> int:
        """The pad's button: ``POST /project/action`` (returns when the app has handled the turn)."""
        async with httpx.AsyncClient(cookies={"access_token": self.token}, timeout=WAIT_S) as http:
            reply = await http.post(self.base + "/project/action", json={"sessionId": self.session_id,
                                                                         "action": action})
        return reply.status_code

    async def question(self, index: int) -> dict:
        """The action the pad's button A sends for question ``index``, once its pad is on screen."""
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            for pad in self.pads:
                if pad.get("index") == index:
                    return {"name": "answer", "id": str(uuid.uuid4()), "label": "A",
                            "payload": {"quiz_id": pad["quiz_id"], "index": index, "letter": "A"}}
            await asyncio.sleep(0.2)
        raise AssertionError(f"question {index + 1} not shown; messages: {[m.get('output') for m in self.messages]}")


def _login(base: str, name: str, password: str) -> str:
    reply = httpx.post(base + "/login", data={"username": name, "password": password})
    assert reply.status_code == 200, reply.text
    return reply.cookies["access_token"]


async def _graph_answers(url: str, user: str, thread_id: str) -> list[int]:
    from agent.app.auth import graph_thread_id
    from agent.graph.checkpoint import open_saver
    from agent.graph.graph import build_graph

    async with open_saver(url) as saver:
        snapshot = await build_graph(saver).aget_state({"configurable": {"thread_id": graph_thread_id(user, thread_id)}})
    quiz = (snapshot.values or {}).get("quiz")
    return [answer.index for answer in quiz.answers] if quiz else []


async def test_two_servers_share_a_quiz_and_grade_each_click_once(servers, fresh_database):
    a_url, b_url = servers
    token = _login(a_url, "ada", "ada's password")
    assert httpx.post(b_url + "/login", data={"username": "ada", "password": "wrong"}).status_code == 401
    thread_id = str(uuid.uuid4())
    on_a = Student(a_url, token, thread_id)
    await on_a.connect()
    await on_a.say("/quiz overfitting")
    assert await on_a.click(await on_a.question(0)) == 200
    second = await on_a.question(1)
    assert await _graph_answers(fresh_database, "ada", thread_id) == [0]

    on_b = Student(b_url, token, thread_id)  # the same login works on B: one shared auth secret
    await on_b.connect()  # a reload of the page on the other server resumes the thread ...
    resumed = await on_b.question(1)  # ... and shows the waiting question
    assert resumed["payload"] == second["payload"]
    shown_a, shown_b = len(on_a.messages), len(on_b.messages)
    codes = await asyncio.gather(on_a.click(second), on_b.click({**resumed, "payload": {**resumed["payload"],
                                                                                         "letter": "C"}}))
    assert codes == [200, 200]
    assert await _graph_answers(fresh_database, "ada", thread_id) == [0, 1]  # each answer once
    assert len(on_a.messages) > shown_a and len(on_b.messages) > shown_b  # each click got a reply
    replies = [m["output"] for m in on_a.messages[shown_a:] + on_b.messages[shown_b:]]
    graded = [text for text in replies if text.startswith(("✓ **Correct!**", "✗ **Not quite.**"))]
    assert len(graded) == 1, replies  # one click graded, ...
    assert sum("already answered question 2" in text for text in replies) == 1, replies  # ... the other told
    from agent.study.store import StudyStore

    study = StudyStore(fresh_database)  # the study memory is in the shared database, not in a server's data folder
    assert [a.graded.index for a in study.answers("ada")] == [0, 1] and len(study.asked("ada")) >= 2
    study.close()

    bob_token = _login(b_url, "bob", "bob's password")
    with pytest.raises(Exception, match="(?i)connect|auth"):
        await Student(b_url, bob_token, thread_id).connect()  # Chainlit refuses another user's thread ...
    own = Student(b_url, bob_token, str(uuid.uuid4()))
    await own.connect()  # ... while bob's own threads open
    await own.sio.disconnect()
    await on_a.sio.disconnect()
    await on_b.sio.disconnect()
