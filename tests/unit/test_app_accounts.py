"""Student accounts, logins, per-user threads and the open-mode bind refusal (SQLite in tmp files, ~1 s).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_app_accounts.py -q
"""

from __future__ import annotations

import io
import os
import sqlite3
import tempfile

os.environ.setdefault("CHAINLIT_APP_ROOT", tempfile.mkdtemp(prefix="chainlit-root-"))

import pytest  # noqa: E402
from chainlit.context import init_http_context  # noqa: E402
from chainlit.types import Pagination, ThreadFilter  # noqa: E402
from chainlit.user import User  # noqa: E402

from agent.app.accounts import AccountError, Accounts, account_names  # noqa: E402
from agent.app.auth import OpenModeError, authenticate, graph_thread_id, require_accounts  # noqa: E402
from agent.app.data_layer import ChatDataLayer, ThreadOwnerError  # noqa: E402
from agent.app.settings import AppSettings  # noqa: E402
from tutor.cli import main as tutor  # noqa: E402


async def test_accounts_hash_verify_list_remove(tmp_path):
    accounts = Accounts(tmp_path / "chat.sqlite")
    await accounts.add("ada", "correct horse")
    await accounts.add("bob", "battery staple")
    with pytest.raises(AccountError, match="already exists"):
        await accounts.add("ada", "another password")
    with pytest.raises(AccountError, match="8 to 1024"):
        await accounts.add("cy", "short")
    with pytest.raises(AccountError, match="invalid name"):
        await accounts.add("no spaces", "long enough")
    assert await accounts.names() == ["ada", "bob"]
    assert await accounts.verify("ada", "correct horse") and await accounts.verify("bob", "battery staple")
    assert not await accounts.verify("ada", "battery staple") and not await accounts.verify("eve", "correct horse")
    stored = sqlite3.connect(tmp_path / "chat.sqlite").execute('SELECT "passwordHash" FROM accounts').fetchall()
    assert all(h.startswith("$argon2id$") and "correct horse" not in h for (h,) in stored)  # only the hash
    assert await accounts.remove("bob") and not await accounts.remove("bob")
    assert not await accounts.verify("bob", "battery staple")
    await accounts.close()
    assert account_names(tmp_path / "chat.sqlite") == ["ada"]  # sync reader (launcher, app import)


async def test_logins_fold_the_shared_password_and_the_accounts(tmp_path):
    accounts = Accounts(tmp_path / "chat.sqlite")
    await accounts.add("ada", "correct horse")
    shared = AppSettings(username="teacher", password="shared secret")
    assert await authenticate(shared, accounts, "teacher", "shared secret") == "teacher"
    assert await authenticate(shared, accounts, "ada", "correct horse") == "ada"
    assert await authenticate(shared, accounts, "ada", "shared secret") is None
    assert await authenticate(AppSettings(), accounts, "student", "") is None  # open settings: no login
    await accounts.close()


def test_open_mode_refuses_non_loopback_binds():
    require_accounts(AppSettings(host="127.0.0.1"), 0)
    require_accounts(AppSettings(host="0.0.0.0"), 2)  # accounts exist
    require_accounts(AppSettings(host="0.0.0.0", password="shared secret"), 0)
    with pytest.raises(OpenModeError, match="tutor users add"):
        require_accounts(AppSettings(host="0.0.0.0"), 0)
    with pytest.raises(OpenModeError):
        require_accounts(AppSettings(host="192.168.1.20"), 0)


def test_graph_threads_are_per_user():
    assert graph_thread_id("ada", "t1") == graph_thread_id("ada", "t1")
    assert graph_thread_id("ada", "t1") != graph_thread_id("bob", "t1")
    assert graph_thread_id("ada", "b\0t1") != graph_thread_id("ada\0b", "t1")


async def test_each_student_sees_only_their_threads_and_cannot_take_one(tmp_path):
    init_http_context()
    layer = ChatDataLayer(tmp_path / "chat.sqlite")
    ada = await layer.create_user(User(identifier="ada"))
    bob = await layer.create_user(User(identifier="bob"))
    await layer.update_thread("ada-1", name="ada's quiz", user_id=ada.id)
    await layer.update_thread("bob-1", name="bob's quiz", user_id=bob.id)
    mine = await layer.list_threads(Pagination(first=10), ThreadFilter(userId=bob.id))
    assert [t["id"] for t in mine.data] == ["bob-1"]
    with pytest.raises(ThreadOwnerError):  # bob's client sends ada's thread id as its own
        await layer.update_thread("ada-1", name="mine now", user_id=bob.id)
    thread = await layer.get_thread("ada-1")
    assert (thread["userIdentifier"], thread["name"]) == ("ada", "ada's quiz")
    assert await layer.get_thread_author("ada-1") == "ada"  # Chainlit's resume check reads this
    await layer.update_thread("ada-1", name="renamed", user_id=ada.id)  # the owner still can
    await layer.close()


def test_users_cli(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("TUTOR_DATABASE_URL", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    assert tutor(["users", "add", "ada", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert tutor(["users", "add", "bob", "--password-stdin"]) == 1
    answers = iter(["first password", "other password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert tutor(["users", "add", "cy"]) == 1  # typed twice, differently: nothing stored
    assert tutor(["users", "list"]) == 0
    assert capsys.readouterr().out.split() == ["added", "ada", "ada"]
    assert tutor(["users", "remove", "nobody"]) == 1
    assert tutor(["users", "remove", "ada"]) == 0 and account_names(tmp_path / "chat.sqlite") == []


async def test_tutor_chat_refuses_open_mode_off_loopback_until_an_account_exists(tmp_path):
    from agent.app.launch import prepare_environment
    from agent.settings import Settings
    from knowledge.settings import KnowledgeSettings

    settings = Settings(app=AppSettings(host="0.0.0.0"), knowledge=KnowledgeSettings(data_dir=tmp_path))
    with pytest.raises(OpenModeError, match="refusing to serve 0.0.0.0"):
        prepare_environment(settings)
    accounts = Accounts(settings.chat_database)
    await accounts.add("ada", "correct horse")
    await accounts.close()
    with pytest.raises(RuntimeError, match="Chainlit was imported"):  # past the refusal (tests import Chainlit)
        prepare_environment(settings)
