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


def _status_kib(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return float(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark to the current RSS (Linux >= 4.0); False where unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mb() -> float:
    """Peak resident set size of this process image, in MiB.

    ``VmHWM`` (Linux) rather than ``getrusage().ru_maxrss``: ru_maxrss survives fork and exec, so a
    child started by a big parent reports the parent's peak (seen: three different export
    subprocesses of a 7 GB parent all reported 7262.8 MB). Falls back to ru_maxrss elsewhere.
    """
    hwm = _status_kib("VmHWM")
    if hwm is not None:
        return hwm / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """Resident set size now, in MiB (Linux ``/proc``; 0 where unavailable)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / (1 << 20)
