"""Model work at a lower CPU priority than the rest of the process (Linux per-thread nice).

On a 2-core server the model's decode competes with the app's event loop, which serves every student's
quiz turn; those turns need no model. A thread that runs the model lowers its own priority
(``TUTOR_MODEL_NICE``), so the scheduler gives the cores to quiz turns first and the model the rest.

    pool = model_pool(2)                          # threads that run the model, each at the lower priority
    pool.submit(read, text).result()
    lower_thread_priority()                       # the calling thread (a dedicated worker's first line)

Elsewhere than Linux (and when the OS refuses) nothing changes. Priority cannot be raised again without
privileges, so only threads that do nothing but model work are lowered.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)


def lower_thread_priority(delta: int | None = None) -> int | None:
    """Lower the calling thread's priority by ``delta`` (default: the ``TUTOR_MODEL_NICE`` setting); returns the
    thread's nice value after, or None where per-thread priority is not available."""
    if delta is None:
        from llm.settings import LLMSettings

        delta = LLMSettings.from_env().model_nice
    if not sys.platform.startswith("linux"):
        return None  # per-thread nice is a Linux property (setpriority on a thread id)
    tid = threading.get_native_id()
    try:
        now = os.getpriority(os.PRIO_PROCESS, tid)
        if delta > 0:
            os.setpriority(os.PRIO_PROCESS, tid, min(19, now + delta))
        return os.getpriority(os.PRIO_PROCESS, tid)
    except OSError as exc:
        log.debug("could not lower the model thread's priority: %s", exc)
        return None


def model_pool(workers: int, name: str = "model") -> ThreadPoolExecutor:
    """A thread pool whose threads run at the model's lower priority."""
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name, initializer=lower_thread_priority)
