"""The SQLite chat-history data layer and the app's launch/auth helpers (tmp files, < 1 s).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_app_data_layer.py -q
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import tempfile
import tomllib
from xml.etree import ElementTree

# Chainlit writes .chainlit/ and .files/ into its app root when first imported: keep them out of the repo.
os.environ.setdefault("CHAINLIT_APP_ROOT", tempfile.mkdtemp(prefix="chainlit-root-"))

import pytest  # noqa: E402
from chainlit.context import init_http_context  # noqa: E402
from chainlit.types import Feedback, Pagination, ThreadFilter  # noqa: E402
from chainlit.user import User  # noqa: E402

from agent.app.auth import check_login, ensure_secret  # noqa: E402
from agent.app.data_layer import SQLiteDataLayer  # noqa: E402
from agent.app import brand  # noqa: E402
from agent.app.launch import CONFIG_TOML, prepare_app_root  # noqa: E402
from agent.app.settings import AppSettings  # noqa: E402


def _step(thread_id: str, n: int, output: str, **extra) -> dict:
    return {"id": f"s{n}-{thread_id}", "name": "ML Tutor", "type": "assistant_message", "threadId": thread_id,
            "parentId": None, "streaming": False, "metadata": {}, "tags": None, "input": "", "isError": False,
            "output": output, "createdAt": f"2026-11-25T10:00:{n:02d}.000000Z", "start": None, "end": None,
            "language": None, "defaultOpen": False, "autoCollapse": None, "showInput": None, "generation": None,
            **extra}


@pytest.fixture
async def layer(tmp_path):
    init_http_context()  # outside a websocket session the layer writes at once (no first-message queue)
    layer = SQLiteDataLayer(tmp_path / "chat.sqlite")
    yield layer
    await layer.close()


async def test_users_threads_steps_round_trip(layer, tmp_path):
    user = await layer.create_user(User(identifier="student", metadata={"mode": "open"}))
    assert user.identifier == "student" and user.metadata == {"mode": "open"}
    again = await layer.create_user(User(identifier="student", metadata={"mode": "password"}))
    assert again.id == user.id and again.metadata == {"mode": "password"}
    await layer.update_thread("t1", name="/quiz trees", user_id=user.id, tags=["x"])
    await layer.create_step(_step("t1", 2, "second"))
    await layer.create_step(_step("t1", 1, "first <script>"))
    await layer.update_step(_step("t1", 1, "first, edited", metadata={"favorite": True}))
    thread = await layer.get_thread("t1")
    assert thread["name"] == "/quiz trees" and thread["userIdentifier"] == "student" and thread["tags"] == ["x"]
    assert [s["output"] for s in thread["steps"]] == ["first, edited", "second"]
    assert thread["steps"][0]["metadata"] == {"favorite": True} and thread["steps"][0]["streaming"] is False
    assert await layer.get_thread_author("t1") == "student" and await layer.get_thread_author("nope") == ""
    assert [s["id"] for s in await layer.get_favorite_steps(user.id)] == ["s1-t1"]
    # Metadata merges; None deletes a key (as Chainlit sends it).
    await layer.update_thread("t1", metadata={"chat_settings": {"questions": 5}, "keep": 1})
    await layer.update_thread("t1", metadata={"keep": None, "more": 2})
    assert (await layer.get_thread("t1"))["metadata"] == {"chat_settings": {"questions": 5}, "more": 2}
    # The schema is plain SQLite with Chainlit's column names.
    columns = {row[1] for row in sqlite3.connect(tmp_path / "chat.sqlite").execute("PRAGMA table_info(steps)")}
    assert {"threadId", "parentId", "createdAt", "showInput", "generation"} <= columns


async def test_a_user_is_read_once_and_a_step_creates_its_thread(layer, monkeypatch):
    user = await layer.create_user(User(identifier="student", metadata={"mode": "open"}))
    reads = []
    original = layer._rows
    monkeypatch.setattr(layer, "_rows", lambda *a: reads.append(a) or original(*a))
    for _ in range(3):  # Chainlit asks on every HTTP call (each answer click): from memory after the first
        assert (await layer.get_user("student")).id == user.id
    assert reads == [] and await layer.get_user("nobody") is None and len(reads) == 1
    again = await layer.create_user(User(identifier="student", metadata={"mode": "password"}))
    assert again.id == user.id and (await layer.get_user("student")).metadata == {"mode": "password"}
    await layer.create_step(_step("new-thread", 1, "hello"))  # the thread row comes with its first step
    assert [s["output"] for s in (await layer.get_thread("new-thread"))["steps"]] == ["hello"]


async def test_list_threads_pages_searches_and_filters_feedback(layer):
    user = await layer.create_user(User(identifier="student"))
    other = await layer.create_user(User(identifier="someone-else"))
    for n in range(5):
        await layer.update_thread(f"t{n}", name=f"thread {n}", user_id=user.id)
        await layer.create_step(_step(f"t{n}", n, f"answer about {'trees' if n % 2 else 'bias'}"))
    await layer.update_thread("foreign", name="not mine", user_id=other.id)
    page = await layer.list_threads(Pagination(first=2), ThreadFilter(userId=user.id))
    assert [t["id"] for t in page.data] == ["t4", "t3"] and page.pageInfo.hasNextPage
    rest = await layer.list_threads(Pagination(first=10, cursor=page.pageInfo.endCursor), ThreadFilter(userId=user.id))
    assert [t["id"] for t in rest.data] == ["t2", "t1", "t0"] and not rest.pageInfo.hasNextPage
    found = await layer.list_threads(Pagination(first=10), ThreadFilter(userId=user.id, search="TREES"))
    assert {t["id"] for t in found.data} == {"t1", "t3"}
    feedback_id = await layer.upsert_feedback(Feedback(forId="s2-t2", value=1, threadId="t2", comment="good"))
    liked = await layer.list_threads(Pagination(first=10), ThreadFilter(userId=user.id, feedback=1))
    assert [t["id"] for t in liked.data] == ["t2"]
    assert (await layer.get_thread("t2"))["steps"][0]["feedback"]["comment"] == "good"
    assert await layer.delete_feedback(feedback_id)
    assert (await layer.get_thread("t2"))["steps"][0]["feedback"] is None
    await layer.delete_step("s2-t2")
    assert (await layer.get_thread("t2"))["steps"] == []
    await layer.delete_thread("t2")
    assert await layer.get_thread("t2") is None
    with pytest.raises(ValueError):
        await layer.list_threads(Pagination(first=1), ThreadFilter())


async def test_concurrent_first_steps_of_a_new_thread(layer):
    import asyncio

    await asyncio.gather(*(layer.create_step(_step("new", n, f"s{n}")) for n in range(5)))
    assert len((await layer.get_thread("new"))["steps"]) == 5


def test_auth_settings_and_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("TUTOR_PASSWORD", raising=False)
    monkeypatch.delenv("TUTOR_USERNAME", raising=False)
    assert AppSettings.from_env().open and not check_login(AppSettings.from_env(), "student", "")
    monkeypatch.setenv("TUTOR_PASSWORD", "s3cret")
    monkeypatch.setenv("TUTOR_USERNAME", "ada")
    auth = AppSettings.from_env()
    assert not auth.open and check_login(auth, "ada", "s3cret")
    assert not check_login(auth, "ada", "wrong") and not check_login(auth, "bob", "s3cret")
    assert "s3cret" not in repr(auth) and "s3cret" not in auth.model_dump_json()
    secret = ensure_secret(tmp_path / "auth_secret")
    assert len(secret) >= 32 and ensure_secret(tmp_path / "auth_secret") == secret
    assert stat.S_IMODE(os.stat(tmp_path / "auth_secret").st_mode) == 0o600


def test_app_root_holds_our_config(tmp_path):
    origins = ["http://127.0.0.1:8000", "http://localhost:8000"]
    prepare_app_root(tmp_path / "web", "2.12.0", origins)
    config = (tmp_path / "web" / ".chainlit" / "config.toml").read_text()
    assert config == CONFIG_TOML.format(version="2.12.0", origins='["http://127.0.0.1:8000", "http://localhost:8000"]',
                                        name='"ML Tutor"', description=json.dumps(brand.DESCRIPTION), upload_mb=10)
    upload = tomllib.loads(config)["features"]["spontaneous_file_upload"]
    assert upload["enabled"] and upload["max_size_mb"] == 10
    assert "unsafe_allow_html = false" in config and tomllib.loads(config)["UI"]["name"] == "ML Tutor"
    for name in ("logo_light.svg", "logo_dark.svg", "favicon.svg", "avatars/ml_tutor.svg"):
        svg = (tmp_path / "web" / "public" / name).read_text()
        assert svg.startswith("<svg") and ElementTree.fromstring(svg).tag.endswith("svg")  # well-formed
    welcome = (tmp_path / "web" / "chainlit.md").read_text()
    assert all(word in welcome for word in ("/quiz", "/review", "/progress", "/export", "Anki"))
    assert tomllib.loads(config)["project"]["allow_origins"] == origins and '"*"' not in config
    assert (tmp_path / "web" / "chainlit.md").is_file()
    pad = (tmp_path / "web" / "public" / "elements" / "AnswerPad.jsx").read_text()  # served as /public/elements/
    assert "export default function AnswerPad" in pad and "callAction" in pad
    assert not [p for p in (tmp_path / "web").rglob("*") if p.name.startswith(".partial")]
