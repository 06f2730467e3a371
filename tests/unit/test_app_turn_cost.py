"""The app's share of an answer turn: the answer pad sends its props and writes no file; the heap is settled
once the model is loaded (bench/answer_cpu.py measures the CPU; these tests pin the mechanisms).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_app_turn_cost.py -q
"""

from __future__ import annotations

import copy
import gc
from types import SimpleNamespace

import chainlit.element
import pytest

from agent.app.pad import PadElement
from agent.app.resources import GC_YOUNG_THRESHOLD, settle_heap

PROPS = {"quiz_id": "q1", "index": 0, "total": 3, "options": ["a", "b", "c", "d"]}


@pytest.fixture
def chainlit_context(monkeypatch):
    """A Chainlit context whose emitter records what the browser gets and whose session records file writes."""
    sent, files = [], []

    async def send_element(element):
        sent.append(copy.deepcopy(element))  # as sent (the real emitter serialises it at once)

    async def persist_file(**kwargs):
        files.append(kwargs)
        return {"id": f"file-{len(files)}"}

    context = SimpleNamespace(emitter=SimpleNamespace(send_element=send_element),
                              session=SimpleNamespace(persist_file=persist_file, thread_id="thread-1"))
    monkeypatch.setattr(chainlit.element, "context", context)
    monkeypatch.setattr(chainlit.element, "get_data_layer", lambda: None)
    return sent, files


async def test_a_pad_sent_without_persisting_writes_no_file_and_carries_its_props(chainlit_context):
    sent, files = chainlit_context
    pad = PadElement(name="AnswerPad", props=dict(PROPS), display="inline")
    await pad.send(for_id="message-1", persist=False)
    pad.props["answered"] = "B"  # the answered pad, locked (agent.app.main._mark_answered)
    await pad.send(for_id=pad.for_id, persist=False)
    assert files == []
    assert [e["props"] for e in sent] == [PROPS, {**PROPS, "answered": "B"}]
    assert all(e["type"] == "custom" and e["name"] == "AnswerPad" and e["forId"] == "message-1" for e in sent)


async def test_a_persisted_custom_element_is_stored_as_chainlit_stores_it(chainlit_context):
    sent, files = chainlit_context
    pad = PadElement(name="AnswerPad", props=dict(PROPS), display="inline")
    await pad.send(for_id="message-1")
    assert len(files) == 1 and sent[0]["chainlitKey"] == "file-1"


def test_settle_heap_freezes_what_is_loaded_and_raises_the_young_threshold():
    before = gc.get_threshold()
    try:
        settle_heap()
        assert gc.get_freeze_count() > 0 and gc.get_threshold() == (GC_YOUNG_THRESHOLD, *before[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
