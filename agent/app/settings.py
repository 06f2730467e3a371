"""The web app's settings: where ``tutor chat`` serves and who may use it (environment read here).

Without ``TUTOR_PASSWORD`` and without student accounts (``tutor users add``) the app runs in open
single-user mode (see :mod:`agent.app.auth`): every visitor is the local user, so it serves only its own
origin and answers only requests addressed to the bound host and port (:mod:`agent.app.guard`), and
``tutor chat`` refuses any address but loopback.
"""

from __future__ import annotations

from pydantic import SecretStr

from common.settings import EnvSettings, setting
from knowledge.settings import DEFAULT_USER


class AppSettings(EnvSettings):
    """Host and port of the server, and password login or the open single-user mode."""

    host: str = setting("127.0.0.1", env="TUTOR_HOST", doc="interface `tutor chat` serves on (`--host`)")
    port: int = setting(8000, env="TUTOR_PORT", ge=1, le=65535, doc="port `tutor chat` serves on (`--port`)")
    username: str = setting(DEFAULT_USER, env="TUTOR_USERNAME", doc="the login name (and the open mode's user)")
    password: SecretStr | None = setting(
        None, env="TUTOR_PASSWORD", doc="one shared login (as `TUTOR_USERNAME`), beside any student accounts (`tutor users add`); "
            "neither: open single-user mode, loopback only",
    )
    upload_max_mb: int = setting(
        10, env="TUTOR_UPLOAD_MAX_MB", ge=1, le=100,
        doc="largest notes file (.md, .txt, .pdf) a student may upload in the chat, in MB",
    )
    auth_secret: SecretStr | None = setting(
        None, env="CHAINLIT_AUTH_SECRET", shown="created once in `DATA_DIR/auth_secret`",
        doc="signs login cookies (Chainlit's own variable)",
    )

    @property
    def open(self) -> bool:
        """No password: every visitor is the local user."""
        return self.password is None
