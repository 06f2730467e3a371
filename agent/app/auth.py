"""Who may use the web app (pure; read by :mod:`agent.app.main` and ``tutor chat``).

With ``TUTOR_PASSWORD`` set (:class:`agent.app.settings.AppSettings`) the app asks for a login.
Without it the app runs in open single-user mode: every visitor is the local user ``student`` (a
header-auth callback that accepts every request). Chainlit's thread history and thread resume need a
logged-in user, so this keeps both working without a login form. Serve open mode on 127.0.0.1 only
(the default); :mod:`agent.app.guard` refuses other origins and Host names.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path

from agent.app.settings import AppSettings
from common.files import write_atomic


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
