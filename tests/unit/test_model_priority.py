"""Threads that run the model lower their own CPU priority; the rest of the process keeps its own (llm.priority).

    .venv/bin/python -m pytest tests/unit/test_model_priority.py -q
"""

from __future__ import annotations

import os
import sys
import threading

import pytest

from llm.priority import lower_thread_priority, model_pool

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")


def _nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def _in_thread(fn):
    out = []
    worker = threading.Thread(target=lambda: out.append(fn()))
    worker.start()
    worker.join()
    return out[0]


def test_lowering_changes_only_the_calling_thread():
    before = _nice()
    expected = min(19, before + 3)
    assert _in_thread(lambda: (lower_thread_priority(3), _nice())[1]) == expected
    assert _nice() == before  # the caller (the app's event loop here) keeps its priority


def test_zero_leaves_the_priority_alone():
    before = _nice()
    assert _in_thread(lambda: lower_thread_priority(0)) == before


def test_model_pool_threads_run_lower_than_the_app(monkeypatch):
    monkeypatch.setenv("TUTOR_MODEL_NICE", "5")
    before = _nice()
    with model_pool(2) as pool:
        assert pool.submit(_nice).result() == min(19, before + 5)
    assert _nice() == before
