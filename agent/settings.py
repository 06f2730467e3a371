"""Runtime settings for the tutor: one typed object, environment variables as fallback.

| setting    | env var              | default                          |
|------------|----------------------|----------------------------------|
| model      | TUTOR_MODEL          | embedded SmolLM2-135M-Instruct   |
| adapter    | TUTOR_ADAPTER        | none                             |
| data_dir   | TUTOR_DATA_DIR       | ~/.local/share/ml-tutor          |
| questions  | TUTOR_QUESTIONS      | 10                               |

Everything the tutor writes (notes index, chat history, checkpoints) lives under ``data_dir``,
never in the package folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.paths import default_data_dir


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Where the tutor keeps its data and which model it runs."""

    model: str | None = field(default=None, metadata={"help": "model spec (see llm.spec)"})
    adapter: str | None = field(default=None, metadata={"help": "PEFT adapter folder"})
    data_dir: Path = field(default_factory=default_data_dir, metadata={"help": "all state lives here"})
    questions: int = field(default=10, metadata={"help": "default quiz length"})
    notes: Path | None = field(default=None, metadata={"help": "notes folder (default: <data_dir>/notes)"})

    @property
    def notes_dir(self) -> Path:
        return self.notes if self.notes is not None else self.data_dir / "notes"

    @property
    def checkpoint_db(self) -> Path:
        return self.data_dir / "graph.sqlite"

    @property
    def chat_db(self) -> Path:
        return self.data_dir / "chat.sqlite"

    @classmethod
    def from_env(cls, *, model=None, adapter=None, data_dir=None, notes_dir=None) -> "Settings":
        settings = cls(
            model=model if model is not None else os.environ.get("TUTOR_MODEL") or None,
            adapter=adapter if adapter is not None else os.environ.get("TUTOR_ADAPTER") or None,
            data_dir=Path(data_dir).expanduser() if data_dir else default_data_dir(),
            questions=int(os.environ.get("TUTOR_QUESTIONS", "10")),
            notes=Path(notes_dir).expanduser() if notes_dir else None,
        )
        return settings
