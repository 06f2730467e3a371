"""Start the Chainlit web app (``tutor chat``) with everything it writes kept under the data dir.

    tutor chat                                  # http://127.0.0.1:8000, embedded model
    tutor chat --port 8765 --model runs/merged  # another model (or TUTOR_MODEL / TUTOR_ADAPTER)
    tutor users add ada && tutor chat --host 0.0.0.0   # student logins (see agent.app.auth)
    TUTOR_DATABASE_URL=postgresql://... tutor chat --port 8001   # instances sharing one database

Settings come from :class:`agent.settings.Settings` (flags over environment variables); the launcher
passes them on to the server through the environment, where Chainlit and :mod:`agent.app.main` read them.

Chainlit takes its app root from ``CHAINLIT_APP_ROOT`` (else the working directory) when it is
first imported, and writes ``.chainlit/config.toml``, ``.chainlit/translations/``, ``.files/`` and
``chainlit.md`` there. This module points it at ``<data_dir>/web`` and writes the tutor's own
config (HTML off, uploads of notes only, message editing off, only this server's origins allowed), its welcome
page, its logo and favicon (``public/``, :mod:`agent.app.brand`) and its custom elements
(``public/elements/``, from ``agent/app/elements/``) before importing Chainlit, so
nothing lands in the user's working directory or in the package.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path

from agent.app import brand
from agent.app.guard import allowed_hosts, allowed_origins
from agent.settings import Settings
from common.files import write_atomic

MAIN = Path(__file__).with_name("main.py")
ELEMENTS = Path(__file__).with_name("elements")  # Chainlit custom elements (.jsx)
log = logging.getLogger(__name__)

CONFIG_TOML = """\
# Written by `tutor chat` on every start; edits are overwritten.
[project]
user_env = []
session_timeout = 3600
user_session_timeout = 1296000
cache = false
persist_user_env = false
mask_user_env = false
# Same origin only: the page is served by this server (agent.app.guard also refuses other origins).
allow_origins = {origins}

[features]
# Model and user text is shown as markdown, never as HTML.
unsafe_allow_html = false
latex = false
user_message_markdown = true
user_message_autoscroll = true
assistant_message_autoscroll = true
auto_tag_thread = true
# Editing a sent message would replay a turn of the quiz state machine.
edit_message = false
allow_thread_sharing = false
favorites = false

# Notes (.md, .txt, .pdf) attached to a message join the student's own notes (agent.app.uploads). Every
# type is let through here so that the tutor, not the browser, says which types it reads.
[features.spontaneous_file_upload]
    enabled = true
    accept = ["*/*"]
    max_files = 5
    max_size_mb = {upload_mb}

[features.audio]
    enabled = false

[features.mcp]
    enabled = false

[UI]
name = {name}
description = {description}
# Our own logo, favicon and link preview (agent.app.brand), not Chainlit's.
custom_meta_image_url = "/favicon"
custom_meta_url = "/"
cot = "hidden"
default_theme = "light"
default_sidebar_state = "open"
chat_settings_location = "message_composer"
confirm_new_chat = false

[meta]
generated_by = "{version}"
"""

WELCOME_MD = brand.WELCOME + "\nYour conversations, answers and progress are kept on this server.\n"


def app_root(settings: Settings) -> Path:
    return settings.knowledge.data_dir / "web"


def _write_if_changed(path: Path, text: str) -> None:
    """Write-then-rename, and only when the content differs."""
    if not (path.is_file() and path.read_text(encoding="utf-8") == text):
        write_atomic(path, text)


def prepare_app_root(root: Path, chainlit_version: str, origins: list[str], upload_mb: int = 10) -> None:
    """The Chainlit app root: our config, welcome page, logo and favicon (Chainlit adds translations and .files)."""
    config = CONFIG_TOML.format(version=chainlit_version, origins=json.dumps(origins), name=json.dumps(brand.NAME),
                                description=json.dumps(brand.DESCRIPTION), upload_mb=upload_mb)
    _write_if_changed(root / ".chainlit" / "config.toml", config)
    _write_if_changed(root / "chainlit.md", WELCOME_MD)
    for name, svg in brand.PUBLIC_FILES.items():
        _write_if_changed(root / "public" / name, svg)
    for element in ELEMENTS.glob("*.jsx"):  # custom elements (the answer pad), served from /public/elements/
        _write_if_changed(root / "public" / "elements" / element.name, element.read_text(encoding="utf-8"))


def chainlit_version() -> str:
    from importlib.metadata import version

    return version("chainlit")


def prepare_environment(settings: Settings) -> Path:
    """Validate the model spec, write the app root and set the env Chainlit and the app read."""
    from agent.app.accounts import account_names
    from agent.app.auth import ensure_secret, require_accounts
    from llm.spec import resolve_adapter, resolve_model

    llm, app, data_dir = settings.llm, settings.app, settings.knowledge.data_dir.resolve()
    require_accounts(app, len(account_names(settings.chat_database)) if app.open else 0)
    resolve_model(llm.model)  # a bad --model fails here, in one line, before the server starts
    resolve_adapter(llm.adapter)
    if "chainlit.config" in sys.modules:
        raise RuntimeError("Chainlit was imported before its app root was set")
    root = app_root(settings).resolve()
    prepare_app_root(root, chainlit_version(), allowed_origins(allowed_hosts(app.host, app.port)), app.upload_max_mb)
    secret = app.auth_secret.get_secret_value() if app.auth_secret else ensure_secret(data_dir / "auth_secret")
    env = {
        "CHAINLIT_APP_ROOT": str(root), "CHAINLIT_HOST": app.host, "CHAINLIT_PORT": str(app.port),
        "CHAINLIT_AUTH_SECRET": secret, "TUTOR_HOST": app.host, "TUTOR_PORT": str(app.port),
        "TUTOR_DATA_DIR": str(data_dir), "TUTOR_QUESTIONS": str(settings.questions),
        "TUTOR_UPLOAD_MAX_MB": str(app.upload_max_mb),
    }
    if settings.database_url:
        env["TUTOR_DATABASE_URL"] = settings.database_url
    env |= {name: value for name, value in (("TUTOR_MODEL", llm.model), ("TUTOR_ADAPTER", llm.adapter)) if value}
    os.environ.update(env)
    return root


def serve(settings: Settings) -> int:
    """Run the Chainlit server in this process until interrupted."""
    prepare_environment(settings)
    from chainlit.cli import run_chainlit
    from chainlit.config import config

    config.run.headless = True
    app, data_dir = settings.app, settings.knowledge.data_dir
    print(f"ML Tutor on http://{app.host}:{app.port}  (data: {data_dir})", file=sys.stderr, flush=True)
    run_chainlit(str(MAIN))
    return 0
