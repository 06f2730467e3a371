"""The Chainlit web app: chat handlers that feed the tutor graph and render what it yields.

Start it with ``tutor chat`` (see :mod:`agent.app.launch`); Chainlit loads this file.

Every handler turns browser input into a typed turn (:data:`agent.graph.events.Turn`, checked in
:mod:`agent.app.inputs`), runs one graph turn for the chat thread and renders each typed output
event (:mod:`agent.app.render`), dispatching on its class in one place (:func:`_show`). Handlers
never let an exception reach the UI: the student sees one clear line, the server log gets the traceback.

Every turn carries the Chainlit user's identifier, whose study history (agent.study) it records;
the progress picture and exports arrive as typed events and are shown as Chainlit Image/File elements.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from contextlib import aclosing
from typing import Any

import chainlit as cl
from chainlit.config import config
from chainlit.input_widget import Select, Slider
from chainlit.server import app as chainlit_server

from agent.app import render
from agent.app.accounts import Accounts, account_names
from agent.app.auth import authenticate, graph_thread_id, require_accounts
from agent.app.data_layer import ChatDataLayer
from agent.app.guard import SameOriginGuard, allowed_hosts
from agent.app.inputs import event_from_action, event_from_message, preferences
from agent.app.pad import PadElement
from agent.app.resources import Resources
from agent.app.uploads import Upload
from agent.app.uploads import receive as receive_notes
from agent.graph.events import (
    ExplanationEnd, ExplanationPiece, ExplanationStart, Feedback, Help, Output, ProgressReport, QuestionShown, Turn,
)
from agent.settings import Settings
from knowledge.library import NoteLibrary
from schemas import MAX_QUESTIONS

log = logging.getLogger("agent.app")
SETTINGS = Settings.from_env()  # set by the launcher (agent.app.launch) from flags and environment
AUTH = SETTINGS.app
ACCOUNTS = Accounts(SETTINGS.chat_database)
# Login mode is fixed when the server starts: restart it after adding the first account.
LOGINS = not AUTH.open or bool(account_names(SETTINGS.chat_database))
RESOURCES = Resources(SETTINGS)
RESUME_DELAY_S = 0.5
EXECUTOR_THREADS = 64  # mostly idle threads waiting on the model (llm.batching) or SQLite; see _startup
# Per browser session: the answer pads on screen, by "quiz_id:index" (kept out of cl.user_session,
# which Chainlit persists into the thread: after a restart every question must be shown again).
_PADS: dict[str, dict[str, list[PadElement]]] = {}
_BACKGROUND: set[asyncio.Task] = set()  # strong references: the event loop keeps only weak ones


# ------------------------------------------------------------------------ server, data, auth


@cl.on_app_startup
async def _startup() -> None:
    # Graph nodes run blocking work via asyncio.to_thread. The default pool (cores + 4 = 6 threads on
    # 2 cores) filled up with quiz plans waiting for the model lock, and answer clicks, which need no
    # model, queued behind them. With this pool, 20 sessions at once (bench/results/load_sessions.json):
    # answer -> next question p95 8.95 s.
    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=EXECUTOR_THREADS, thread_name_prefix="tutor")
    )
    RESOURCES.start()


@cl.on_app_shutdown
async def _shutdown() -> None:
    await RESOURCES.close()


@cl.data_layer
def _data_layer() -> ChatDataLayer:
    return ChatDataLayer(SETTINGS.chat_database)


if not LOGINS:
    # Every visitor is the local user: serve loopback only, and answer only pages of this server at the
    # address it is bound to (Chainlit's run config holds it, whether started by `tutor chat` or `chainlit run`).
    require_accounts(AUTH.model_copy(update={"host": config.run.host}), 0)
    chainlit_server.add_middleware(SameOriginGuard, hosts=allowed_hosts(config.run.host, config.run.port))

    @cl.header_auth_callback
    async def _open_mode(headers) -> cl.User:
        """Open single-user mode: everyone is the local student (keeps thread history and resume)."""
        return cl.User(identifier=AUTH.username, metadata={"mode": "open"})

else:

    @cl.password_auth_callback
    async def _login(username: str, password: str) -> cl.User | None:
        user = await authenticate(AUTH, ACCOUNTS, username, password)
        return None if user is None else cl.User(identifier=user, metadata={"mode": "password"})


# ----------------------------------------------------------------------------- chat set-up


# No chat profile for the welcome: with one, Chainlit reconnects the socket right after the page loads and, with
# 4 sessions at once, 1-3 of them never got the chat settings back (tests/e2e/test_reliability_concurrency.py).
# The welcome is the Readme (chainlit.md, written by the launcher).


@cl.set_starters
async def _starters(user=None, language=None) -> list[cl.Starter]:
    return [
        cl.Starter(label="Explain overfitting", message="/explain What is overfitting?"),
        cl.Starter(label="Quiz me: bias-variance trade-off", message="/quiz bias-variance trade-off"),
        cl.Starter(label="How does dropout work?", message="How does dropout reduce overfitting?"),
        cl.Starter(label="Quiz me: precision and recall",
                   message="Can you test me on precision and recall? 5 questions, hard ones"),
        cl.Starter(label="Review due", message="/review"),
        cl.Starter(label="My progress", message="/progress"),
    ]


def _with_defaults(chat_settings: dict[str, Any] | None) -> dict[str, Any]:
    """The student's chat settings over the server's: TUTOR_QUESTIONS until the slider moves (a socket client
    that never sends settings keeps it)."""
    return {"questions": SETTINGS.questions, **(chat_settings or {})}


def _settings_widgets(current: dict[str, Any]) -> cl.ChatSettings:
    prefs = preferences(_with_defaults(current))
    return cl.ChatSettings(
        [
            Slider(id="questions", label="Questions per quiz", initial=prefs["questions"], min=1,
                   max=MAX_QUESTIONS, step=1, description=f"Default {SETTINGS.questions}"),
            Select(id="difficulty", label="Difficulty", values=["easy", "medium", "hard"],
                   initial_value=prefs["difficulty"]),
        ]
    )


async def _set_up_session(chat_settings: dict[str, Any] | None) -> None:
    RESOURCES.start()
    # Typed slash commands stay plain text: Chainlit's command menu would take the Enter of "/help".
    await _settings_widgets(chat_settings or {}).send()


@cl.on_chat_start
async def _chat_start() -> None:
    await _guard(_set_up_session, None)


@cl.on_chat_resume
async def _chat_resume(thread: dict) -> None:
    await _guard(_set_up_session, (thread.get("metadata") or {}).get("chat_settings"))
    # Chainlit replaces the browser's message list with the stored thread right after this hook
    # returns, which would wipe a message sent from here: show the waiting question just after.
    task = asyncio.create_task(_guard(_resume_quiz, _graph_thread(thread["id"])))
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)


async def _resume_quiz(thread_id: str) -> None:
    await asyncio.sleep(RESUME_DELAY_S)
    tutor = await RESOURCES.tutor()
    pending = await tutor.pending_question(thread_id)
    if pending is not None:
        await _show_question(pending, resumed=True, force=True)
        await tutor.start_write_ahead(thread_id, cl.context.session.user.identifier)


@cl.on_settings_update
async def _settings_update(chat_settings: dict[str, Any]) -> None:
    async def confirm() -> None:
        prefs = preferences(chat_settings)
        text = (f"New quizzes will have {prefs['questions']} questions ({prefs['difficulty']}), unless your "
                "message asks for another number or difficulty.")
        await cl.Message(content=text).send()

    await _guard(confirm)


@cl.on_chat_end
async def _chat_end() -> None:
    _PADS.pop(cl.context.session.id, None)


# ------------------------------------------------------------------------------ turns


@cl.on_message
async def _message(message: cl.Message) -> None:
    files = [Upload(name=e.name, path=e.path) for e in message.elements or [] if getattr(e, "path", None)]
    if files:  # notes attached to the message: add them to this student's notes first
        await _guard(_receive_notes, files)
        if not (message.content or "").strip():
            return
    await _guard(_turn, event_from_message(message.content, getattr(message, "command", None), _chat_settings()))


async def _receive_notes(files: list[Upload]) -> None:
    library, limit = NoteLibrary(SETTINGS.knowledge.notes_dir), SETTINGS.app.upload_max_mb * 1_000_000
    result = await asyncio.to_thread(receive_notes, library, _user(), files, limit)
    await cl.Message(content=render.model_text(result.text())).send()


async def _action(action: cl.Action) -> None:
    await _guard(_turn, event_from_action(action.name, action.payload, _chat_settings()))


for _name in ("answer", "quiz_on", "new_quiz", "retry", "review"):
    cl.action_callback(_name)(_action)


def _graph_thread(chat_thread_id: str) -> str:
    """This user's graph thread for a Chainlit thread (another user's thread id gives another graph thread)."""
    return graph_thread_id(cl.context.session.user.identifier, chat_thread_id)


def _chat_settings() -> dict[str, Any]:
    return _with_defaults(cl.context.session.chat_settings)


def _user() -> str:
    """Whose study history a turn records: the signed-in Chainlit user (open mode: the local student)."""
    user = cl.context.session.user
    return user.identifier if user is not None else AUTH.username


async def _turn(event: Turn | str) -> None:
    """Run one graph turn for this thread and show its output as it arrives."""
    if isinstance(event, str):  # refused input: say why, touch nothing
        await cl.Message(content="⚠ " + render.model_text(event)).send()
        return
    tutor = await RESOURCES.tutor()
    thread_id = _graph_thread(cl.context.session.thread_id)
    streaming: cl.Message | None = None
    long_output = False  # after an explanation or help, show the waiting question again below it
    try:
        async with aclosing(tutor.turn(thread_id, event, user=_user())) as outputs:
            async for out in outputs:
                streaming, long_output = await _show(out, streaming, long_output)
    finally:
        if streaming is not None:  # a turn that failed mid-explanation: close the message as it stands
            await streaming.send()


async def _show(out: Output, streaming: cl.Message | None, long_output: bool):
    """Render one output of a turn; returns the open streaming message and the "long output" flag."""
    match out:
        case ExplanationStart():
            streaming = cl.Message(content="")
            await streaming.stream_token(render.explanation_header(out))
            long_output = True
        case ExplanationPiece() if streaming is not None:
            await streaming.stream_token(render.explanation_piece(out))
        case ExplanationEnd() if streaming is not None:
            footer = render.explanation_footer(out)
            await streaming.stream_token(footer.content)
            streaming.actions = _actions(footer)
            await streaming.send()
            streaming = None
        case QuestionShown():
            await _show_question(out, force=long_output)
        case Feedback():
            await _mark_answered(out)
            await _send(render.feedback(out))
        case Help():
            long_output = True
            await _send(render.help_text(out))
        case ProgressReport():
            long_output = True
            await _send(render.shown(out))
        case _:
            await _send(render.shown(out))
    return streaming, long_output


# ------------------------------------------------------------------------------- helpers


def _actions(shown: render.Shown) -> list[cl.Action]:
    return [cl.Action(name=b.name, label=b.label, payload=b.payload, tooltip=b.tooltip) for b in shown.buttons]


def _elements(shown: render.Shown) -> list[cl.Element]:
    """The message's files: the progress picture inline, exports as download links."""
    kinds = {"image": cl.Image, "file": cl.File}
    return [kinds[a.display](name=a.name, content=a.data, mime=a.mime, display="inline") for a in shown.attachments]


async def _send(shown: render.Shown) -> cl.Message:
    return await cl.Message(content=shown.content, actions=_actions(shown), elements=_elements(shown)).send()


async def _show_question(question: QuestionShown, resumed: bool = False, force: bool = False) -> None:
    """Show a waiting question with its answer pad, unless this session already shows it."""
    pads = _PADS.setdefault(cl.context.session.id, {})
    key = f"{question.quiz_id}:{question.index}"
    if key in pads and not force:
        return
    for pad in pads.pop(key, []):  # one live pad per question
        await pad.remove()
    shown = render.question(question, resumed=resumed)
    message = await _send(shown)
    # agent/app/elements/AnswerPad.jsx says why not Chainlit's action buttons. Not persisted (no chat-history
    # write per question): a resumed thread shows its waiting question again with a new pad (_resume_quiz).
    pad = PadElement(name="AnswerPad", props=shown.pad.props(), display="inline")
    await pad.send(for_id=message.id, persist=False)
    pads[key] = [pad]


async def _mark_answered(feedback: Feedback) -> None:
    """Lock the answered question's pad on the graded letter (it says "Answer B received")."""
    for pad in _PADS.get(cl.context.session.id, {}).pop(f"{feedback.quiz_id}:{feedback.graded.index}", []):
        pad.props["answered"] = feedback.graded.chosen
        await pad.send(for_id=pad.for_id, persist=False)


async def _guard(handler, *args) -> None:
    """Run a handler; any failure becomes one friendly line (the traceback goes to the log)."""
    try:
        await handler(*args)
    except Exception as exc:  # noqa: BLE001 - the UI must never show a stack trace
        log.exception("handler failed")
        await cl.Message(content="⚠ " + render.model_text(_one_line(exc))).send()


def _one_line(exc: Exception) -> str:
    from llm.spec import ModelSpecError

    if isinstance(exc, ModelSpecError):
        return f"The model could not be loaded: {str(exc).splitlines()[0]}"
    return "Sorry, something went wrong while handling that (details are in the server log). Please try again."
