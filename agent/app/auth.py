"""Who may use the web app (read by :mod:`agent.app.main` and ``tutor chat``).

The app asks for a login when student accounts exist (``tutor users add NAME``,
:mod:`agent.app.accounts`) or ``TUTOR_PASSWORD`` is set (one shared login, ``TUTOR_USERNAME``;
:class:`agent.app.settings.AppSettings`); both may be used together. Without either the app runs in
open single-user mode: every visitor is the local user ``student`` (a header-auth callback that
accepts every request). Chainlit's thread history and thread resume need a logged-in user, so this
keeps both working without a login form. Open mode serves 127.0.0.1 only: :func:`require_accounts`
refuses any other address, and :mod:`agent.app.guard` refuses other origins and Host names.

Graph thread ids are per user (:func:`graph_thread_id`): a student who sends another student's
Chainlit thread id reaches an empty graph thread of their own, never the other's quiz.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from pathlib import Path

from agent.app.guard import is_loopback
from agent.app.settings import AppSettings
from common.files import write_atomic


class OpenModeError(RuntimeError):
    """Open mode (no accounts, no password) asked to serve a non-loopback address."""


def require_accounts(settings: AppSettings, account_count: int) -> None:
    """Refuse to serve a non-loopback address to anyone who opens the page."""
    if settings.open and account_count == 0 and not is_loopback(settings.host):
        raise OpenModeError(
            f"refusing to serve {settings.host} without logins: anyone who can reach it would be the same user. "
            "Add student accounts (`tutor users add NAME`) or set TUTOR_PASSWORD, or serve 127.0.0.1"
        )


def graph_thread_id(user: str, thread_id: str) -> str:
    """The graph's thread id for a user's Chainlit thread (a user cannot name another user's)."""
    digest = hashlib.sha256(json.dumps([user, thread_id]).encode()).hexdigest()[:32]  # unambiguous pair
    return f"u{digest}"


async def authenticate(settings: AppSettings, accounts, username: str, password: str) -> str | None:
    """The logged-in user name, or None: the shared ``TUTOR_PASSWORD`` login first, then the accounts."""
    if check_login(settings, username, password):
        return settings.username
    if accounts is not None and await accounts.verify(username, password):
        return username
    return None


def check_login(settings: AppSettings, username: str, password: str) -> bool:
    """Constant-time comparison of both fields (False in open mode: there is no login form)."""
    if settings.password is None:
        return False
    same_user = hmac.compare_digest(username.encode(), settings.username.encode())
    same_password = hmac.compare_digest(password.encode(), settings.password.get_secret_value().encode())
    return same_user and same_password


def ensure_secret(path: Path) -> str:
    """The cookie-signing secret kept in ``path`` (created once, mode 0600, written then renamed).

    A stable secret keeps the browser logged in across server restarts (so a quiz resumes).
    """
    if path.is_file():
        secret = path.read_text(encoding="utf-8").strip()
        if len(secret) >= 32:
            return secret
    secret = secrets.token_urlsafe(48)
    write_atomic(path, secret, mode=0o600)
    return secret
