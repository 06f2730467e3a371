"""Who may use the web app (pure; read by :mod:`agent.app.main` and ``tutor chat``).

| env var               | meaning                                                                  |
|-----------------------|--------------------------------------------------------------------------|
| TUTOR_PASSWORD        | turns on password login                                                   |
| TUTOR_USERNAME        | the login name (default ``student``)                                      |
| CHAINLIT_AUTH_SECRET  | signs login cookies; ``tutor chat`` creates one in the data dir if unset  |

Without ``TUTOR_PASSWORD`` the app runs in open single-user mode: every visitor is the local
user ``student`` (a header-auth callback that accepts every request). Chainlit's thread history
and thread resume need a logged-in user, so this keeps both working without a login form. Serve
open mode on 127.0.0.1 only (the default).
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_USER = "student"


@dataclass(frozen=True, kw_only=True)
class AuthSettings:
    """Password login when a password is configured, otherwise the open single-user mode."""

    username: str = field(default=DEFAULT_USER, metadata={"help": "login name (TUTOR_USERNAME)"})
    password: str | None = field(default=None, repr=False, metadata={"help": "password (TUTOR_PASSWORD)"})

    @classmethod
    def from_env(cls) -> "AuthSettings":
        return cls(
            username=(os.environ.get("TUTOR_USERNAME") or DEFAULT_USER).strip() or DEFAULT_USER,
            password=os.environ.get("TUTOR_PASSWORD") or None,
        )

    @property
    def open(self) -> bool:
        return self.password is None

    def check(self, username: str, password: str) -> bool:
        """Constant-time comparison of both fields (False in open mode: there is no login form)."""
        if self.password is None:
            return False
        same_user = hmac.compare_digest(username.encode(), self.username.encode())
        same_password = hmac.compare_digest(password.encode(), self.password.encode())
        return same_user and same_password


def ensure_secret(path: Path) -> str:
    """The cookie-signing secret kept in ``path`` (created once, mode 0600, written then renamed).

    A stable secret keeps the browser logged in across server restarts (so a quiz resumes).
    """
    if path.is_file():
        secret = path.read_text(encoding="utf-8").strip()
        if len(secret) >= 32:
            return secret
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret)
    os.replace(partial, path)
    return secret
