"""A student speaking Chainlit's own protocol: socket.io for the chat, HTTP for logins and answer clicks.

It does what Chainlit's frontend (``chainlit/frontend/dist``, Chainlit 2.12) does, no more:

1. log in over HTTP: ``POST /auth/header`` (open mode) or ``POST /login`` (accounts), which sets the
   ``access_token`` cookie; ``POST /set-session-cookie`` with a fresh session id (the sticky cookie);
2. open socket.io at ``/ws/socket.io`` (websocket transport) with that cookie and the frontend's
   ``auth`` object (``clientType``, ``sessionId``, ``threadId``, ``userEnv``, ``chatProfile``),
   then emit ``connection_successful``, which runs the app's ``on_chat_start``;
3. type a message: emit ``client_message`` with a ``user_message`` step;
4. click an answer: ``POST /project/action`` with the session id and the action, the answer pad's
   (``AnswerPad`` element) quiz id and question index and a letter, as the pad's button does; or
   type the letter as a message.

Messages arrive as ``new_message``/``update_message`` (markdown in ``output``), elements as ``element``.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import datetime, timezone

from bench.load.records import QUESTION_LINE, SUMMARY, Record, plain

SOCKET_PATH = "/ws/socket.io"


class Inbox:
    """What the server sent one student, in arrival order, with a wait for "something I need arrived"."""

    def __init__(self) -> None:
        self.messages: dict[str, str] = {}  # step id -> markdown output (insertion order = arrival order)
        self.pads: dict[str, dict] = {}  # "quiz_id:index" -> the answer pad's props
        self.settings_seen = False
        self._changed = asyncio.Event()

    def message(self, step: dict) -> None:
        if "message" in str(step.get("type", "")) and step.get("type") != "user_message":
            self.messages[step["id"]] = step.get("output") or ""
            self._changed.set()

    def element(self, element: dict) -> None:
        props = element.get("props") or {}
        if element.get("type") == "custom" and "quiz_id" in props:
            self.pads[f"{props['quiz_id']}:{props['index']}"] = props
            self._changed.set()

    def settings(self, _data) -> None:
        self.settings_seen = True
        self._changed.set()

    def text(self) -> str:
        return "\n".join(plain(m) for m in self.messages.values())

    async def until(self, found, timeout: float):
        """Wait until ``found()`` returns something truthy; return it (TimeoutError after ``timeout`` s)."""
        deadline = time.monotonic() + timeout
        while not (value := found()):
            self._changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("waited too long")
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except asyncio.TimeoutError:
                pass
        return value


def question(inbox: Inbox, number: int, total: int) -> dict | None:
    """The answer pad of question ``number`` of ``total`` once its message and pad are both shown."""
    for markdown in inbox.messages.values():
        for line in plain(markdown).splitlines():
            m = QUESTION_LINE.match(line.strip())
            if m and int(m.group(1)) == number and int(m.group(2)) == total:
                for pad in inbox.pads.values():
                    if pad.get("index") == number - 1 and pad.get("total") == total:
                        return pad
    return None


def summary_shown(inbox: Inbox, total: int) -> bool:
    return any(int(m.group(1)) == total for m in SUMMARY.finditer(inbox.text()))


def user_message(text: str, url: str, name: str) -> dict:
    """The ``client_message`` payload Chainlit's frontend sends for typed text."""
    return {"message": {"threadId": "", "id": str(uuid.uuid4()), "name": name, "type": "user_message",
                        "output": text, "createdAt": datetime.now(timezone.utc).isoformat(),
                        "metadata": {"location": url + "/"}},
            "fileReferences": []}


async def log_in(http, login: tuple[str, str] | None) -> None:
    """Open mode: the header login; accounts: the password form. Both set the ``access_token`` cookie."""
    if login is None:
        response = await http.post("/auth/header")
    else:
        response = await http.post("/login", data={"username": login[0], "password": login[1]})
    response.raise_for_status()


async def student(url: str, record: Record, questions: int, wait_s: float,
                  login: tuple[str, str] | None = None) -> Record:
    """One student: log in, connect, type the request, answer every question with "A"; fills ``record``."""
    import httpx
    import socketio

    inbox, session_id = Inbox(), str(uuid.uuid4())
    stage = "login"
    sio = socketio.AsyncClient(reconnection=False)
    for event in ("new_message", "update_message", "stream_start"):
        sio.on(event, inbox.message)
    sio.on("element", inbox.element)
    sio.on("chat_settings", inbox.settings)
    clicks: set[asyncio.Task] = set()
    async with httpx.AsyncClient(base_url=url, timeout=wait_s) as http:
        try:
            await log_in(http, login)
            await http.post("/set-session-cookie", json={"session_id": session_id})
            cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
            stage = "connect"
            await sio.connect(url, socketio_path=SOCKET_PATH, transports=["websocket"], headers={"Cookie": cookie},
                              auth={"clientType": "webapp", "sessionId": session_id, "threadId": "",
                                    "userEnv": "{}", "chatProfile": ""}, wait_timeout=wait_s)
            await sio.emit("connection_successful")
            await inbox.until(lambda: inbox.settings_seen, wait_s)  # on_chat_start ran: the chat is ready
            stage = "quiz request"
            name = login[0] if login else "student"
            await sio.emit("client_message", user_message(record.request, url, name))
            sent = time.perf_counter()
            if questions == 0:  # a turn that is not a quiz (``ready``): any reply will do
                await inbox.until(lambda: inbox.messages, wait_s)
                return record
            pad = await inbox.until(lambda: question(inbox, 1, questions), wait_s)
            record.quiz_to_first_question_s = time.perf_counter() - sent
            for number in range(1, questions + 1):
                stage = f"answer to question {number}"
                clicked = time.perf_counter()
                if record.answer_by == "click":
                    task = asyncio.create_task(click(http, session_id, pad, "A", record))
                    clicks.add(task)
                else:
                    await sio.emit("client_message", user_message("A", url, name))
                if number < questions:
                    pad = await inbox.until(lambda n=number: question(inbox, n + 1, questions), wait_s)
                    record.answer_to_next_s.append(time.perf_counter() - clicked)
                else:
                    await inbox.until(lambda: summary_shown(inbox, questions), wait_s)
                    record.answer_to_summary_s = time.perf_counter() - clicked
            await asyncio.gather(*clicks)
            await asyncio.sleep(0.5)  # let any stray (cross-talk) message arrive before reading
        except Exception as exc:  # noqa: BLE001 - reported per session, the run carries on
            first_line = (str(exc).splitlines() or [""])[0][:200]
            record.errors.append(f"{type(exc).__name__} at {stage}: {first_line}")
            record.diagnostics["last_messages"] = [plain(m)[-300:] for m in list(inbox.messages.values())[-4:]]
        finally:
            for task in clicks:
                task.cancel()
            record.text = inbox.text()
            if sio.connected:
                await sio.disconnect()
    return record


async def ready(url: str, wait_s: float, login: tuple[str, str] | None = None) -> None:
    """Wait until the app answers a turn (``/help``): its model and knowledge have loaded."""
    record = Record(topic="", request="/help", answer_by="letter")
    await student(url, record, 0, wait_s, login)
    if record.errors:
        raise RuntimeError(f"the app did not answer /help: {record.errors}")


async def click(http, session_id: str, pad: dict, letter: str, record: Record) -> None:
    """The answer pad's button: ``POST /project/action`` (it returns when the app has handled the turn)."""
    action = {"name": "answer", "id": str(uuid.uuid4()), "label": letter,
              "payload": {"quiz_id": pad["quiz_id"], "index": pad["index"], "letter": letter}}
    response = await http.post("/project/action", json={"sessionId": session_id, "action": action})
    if response.status_code != 200:
        record.refused_clicks += 1
        record.errors.append(f"answer click refused: HTTP {response.status_code} {response.text[:120]}")
    elif not json.loads(response.text).get("success"):
        record.refused_clicks += 1
