"""``llm.loading.per_model``: the one home of every backend's ``for_model`` (runtimes, batch scheduler).

    PYTHONPATH=$PWD python -m pytest -q tests/unit/test_per_model.py
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

from llm.loading import per_model


def _counting_build(built: list):
    def build(lm):
        time.sleep(0.05)  # a wide window: without the lock each racing thread would build its own
        built.append(lm)
        return object()
    return build


def test_made_once_per_handle_and_key_even_when_threads_ask_first_together():
    built: list = []
    build = _counting_build(built)
    lm = SimpleNamespace(extras={})
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda _: per_model(lm, "structured", build), range(4)))
    assert len(built) == 1 and all(made is got[0] for made in got)
    assert lm.extras == {"structured": got[0]}
    assert per_model(lm, "batching", build) is not got[0]  # another key, another object
    other = SimpleNamespace(extras={})
    assert per_model(other, "structured", build) is not got[0]  # another handle, another object
    assert len(built) == 3


def test_a_build_may_ask_for_another_per_model_object():
    lm = SimpleNamespace(extras={})
    done = threading.Event()

    def outer(lm):
        inner = per_model(lm, "inner", lambda _: "inner")
        done.set()
        return ("outer", inner)

    worker = threading.Thread(target=per_model, args=(lm, "outer", outer), daemon=True)
    worker.start()
    assert done.wait(5), "a nested per_model call hung"
    worker.join(5)
    assert lm.extras == {"inner": "inner", "outer": ("outer", "inner")}
