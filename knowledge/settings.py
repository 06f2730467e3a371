"""Where the tutor keeps what it writes: the ``knowledge`` layer's settings (environment read here).

It lives at this layer, below ``agent``, so that notes (``knowledge``) and the app (``agent``) resolve the
data directory the same way without ``knowledge`` importing ``agent``. Everything the tutor writes
(notes index, chat history, graph checkpoints, the web app's root) lives under ``data_dir``, never in
the package folder or the working directory, except chat history, accounts and graph checkpoints when
``database_url`` names a PostgreSQL database (several app instances then share them).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr, field_validator

from common.settings import EnvSettings, setting


DEFAULT_USER = "student"  # the open single-user mode's student (TUTOR_USERNAME's default)


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "ml-tutor"


class KnowledgeSettings(EnvSettings):
    """The data directory and the notes store inside it."""

    data_dir: Path = setting(
        default_factory=_default_data_dir, env="TUTOR_DATA_DIR",
        doc="where notes, chat history and quiz state are kept",
    )
    notes: Path | None = setting(None, doc="notes folder (``--notes-dir``); default <data_dir>/notes")
    database_url: SecretStr | None = setting(
        None, env="TUTOR_DATABASE_URL",
        doc="PostgreSQL for chat history, accounts and quiz state, shared by several app instances "
            "(`postgresql://user:password@host:5432/db`); unset: SQLite files in the data directory",
    )

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None and not url.get_secret_value().startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL (leave it unset for SQLite)")
        return url

    @field_validator("data_dir", "notes")
    @classmethod
    def _expand_home(cls, path: Path | None) -> Path | None:
        return path.expanduser() if path is not None else None

    @property
    def notes_dir(self) -> Path:
        return self.notes if self.notes is not None else self.data_dir / "notes"


def default_data_dir() -> Path:
    """``$TUTOR_DATA_DIR``, else ``~/.local/share/ml-tutor``."""
    return KnowledgeSettings.from_env().data_dir


def default_notes_dir() -> Path:
    """The notes store inside the data directory (``<data_dir>/notes``)."""
    return KnowledgeSettings.from_env().notes_dir
