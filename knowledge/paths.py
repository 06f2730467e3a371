"""Where the tutor keeps what it writes (notes, chat history, checkpoints): one data directory.

It lives here, at the bottom of the layering, so that ``knowledge`` (notes) and ``agent``
(settings) resolve it the same way without ``knowledge`` importing ``agent``.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "TUTOR_DATA_DIR"


def default_data_dir() -> Path:
    """``$TUTOR_DATA_DIR``, else ``~/.local/share/ml-tutor``."""
    return Path(os.environ.get(DATA_DIR_ENV) or Path.home() / ".local" / "share" / "ml-tutor").expanduser()


def default_notes_dir() -> Path:
    """The notes store inside the data directory (the same folder as ``Settings.notes_dir``)."""
    return default_data_dir() / "notes"
