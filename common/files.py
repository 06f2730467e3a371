"""Write-then-rename: a reader (or an interrupted run) never sees half a file or a folder that looks complete.

Every output is written under a hidden ``.partial-*`` sibling of its target and renamed into place
(``os.replace``, atomic on one file system) only once it is complete.

    write_atomic(out / "results.json", text)            # str or bytes
    with atomic_path(out / "adapter", is_dir=True) as staging:
        model.save_pretrained(staging)
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def atomic_path(target: str | Path, is_dir: bool = False, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary sibling path; on success it replaces ``target``, on error it is removed.

    ``mode`` defaults to 0644 for files and 0755 for folders (mkstemp/mkdtemp create private paths;
    outputs are meant to be read); pass 0o600 for a secret.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if is_dir:
        staging = Path(tempfile.mkdtemp(prefix=f".partial-{target.name}-", dir=target.parent))
    else:
        fd, name = tempfile.mkstemp(prefix=f".partial-{target.name}-", dir=target.parent)
        os.close(fd)
        staging = Path(name)
    try:
        yield staging
        os.chmod(staging, mode if mode is not None else (0o755 if is_dir else 0o644))
        if is_dir and target.is_dir():
            old = Path(tempfile.mkdtemp(prefix=f".old-{target.name}-", dir=target.parent))
            os.replace(target, old / "previous")
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True) if staging.is_dir() else staging.unlink()


def write_atomic(target: str | Path, data: str | bytes, mode: int | None = None) -> Path:
    """Write ``data`` (text as UTF-8) to ``target`` through a synced temporary sibling; returns ``target``."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_path(target, mode=mode) as staging:
        with staging.open("wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
    return Path(target)


def write_png(target: str | Path, fig: Any, dpi: int = 120) -> Path:
    """A matplotlib figure as a PNG at ``target`` (atomically), then the figure closed."""
    import io

    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return write_atomic(target, buffer.getvalue())


def write_json(target: str | Path, payload: Any, indent: int = 2) -> Path:
    """``payload`` as indented JSON (non-ASCII kept, unknown types as ``str``) plus a final newline."""
    return write_atomic(target, json.dumps(payload, indent=indent, ensure_ascii=False, default=str) + "\n")
