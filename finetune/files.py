"""Write-then-rename helpers: an interrupted run never leaves a file or folder that looks complete.

Every output of this package (adapters, merged models, GGUF files, metrics, plots) is written under a
hidden ``.partial-*`` name next to its target and renamed into place only after it is complete.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def atomic_path(target: str | Path, is_dir: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling path; on success it replaces ``target``, on error it is removed."""
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
        os.chmod(staging, 0o755 if is_dir else 0o644)  # mkstemp/mkdtemp create private (0600/0700) paths
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


def write_json(target: str | Path, payload: dict) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=False, default=str) + "\n", encoding="utf-8")
    return Path(target)


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB (``ru_maxrss`` is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """Resident set size now, in MiB (Linux ``/proc``; 0 where unavailable)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / (1 << 20)
