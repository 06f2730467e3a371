"""Memory of fine-tuning and export runs (peak and current RSS), recorded in their reports."""

from __future__ import annotations

import os
import resource
from pathlib import Path


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
