"""The batching scheduler (llm.batching) on the real embedded model with the tutor adapter: every request gets
the tokens it gets alone, and its own stream.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/integration/test_batching_model.py -q -m model
"""

from __future__ import annotations

import threading
from typing import Literal

import pytest

from llm.batching import BatchScheduler
from llm.loading import generating
from llm.pattern_decode import decode_pattern
from llm.streaming import stream_text
from llm.structured import StructuredRuntime
from prompts.turns import MAX_READING_TOKENS, READING_PATTERN, turn_messages

pytestmark = pytest.mark.model

QUESTIONS = ["What is dropout?", "Explain overfitting in one paragraph.", "What does the learning rate do?",
             "Define precision and recall.", "Why do we normalise input features?", "What is a ReLU?"]
NEW_TOKENS = 24


def concurrently(work, items) -> list:
    """``work(item)`` for every item, each in its own thread, all started together; results in item order."""
    results: dict[int, object] = {}
    start = threading.Barrier(len(items))

    def run(i):
        start.wait()
        results[i] = work(items[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(items))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    return [results[i] for i in range(len(items))]


@pytest.fixture
def prompts(embedded_lm):
    runtime = StructuredRuntime.for_model(embedded_lm)
    return [runtime.chat([{"role": "user", "content": q}]) for q in QUESTIONS]


def test_six_batched_requests_get_generates_greedy_tokens(embedded_lm, prompts):
    """Six rows: the packed layers' 3-row chunks and the head's 4-row chunks both split the batch."""
    import torch
    from transformers import RepetitionPenaltyLogitsProcessor

    lm, tok = embedded_lm, embedded_lm.tokenizer
    ids = [tok(p, add_special_tokens=False).input_ids for p in prompts]
    expected = []
    with generating(lm), torch.inference_mode():
        for x in ids:
            out = lm.model.generate(torch.tensor([x]), max_new_tokens=NEW_TOKENS, do_sample=False,
                                    repetition_penalty=1.15, pad_token_id=tok.pad_token_id)
            expected.append([t for t in out[0, len(x):].tolist() if t != tok.eos_token_id])
    scheduler = BatchScheduler(lm)
    got = concurrently(lambda x: scheduler.submit(x, max_new_tokens=NEW_TOKENS, stop_ids={tok.eos_token_id},
                                                  processors=[RepetitionPenaltyLogitsProcessor(1.15)]).result(), ids)
    assert got == expected
    assert scheduler.rows_stepped / scheduler.steps > 3  # most steps served several sequences
    answers = [tok.decode(t) for t in got]
    assert len(set(answers)) == len(answers) and all(len(t) >= 10 for t in got)
    assert "dropout" in answers[0].lower() or "neuron" in answers[0].lower()


def test_concurrent_streams_arrive_in_pieces_each_with_its_own_text(embedded_lm, prompts, monkeypatch):
    monkeypatch.setenv("TUTOR_BATCHING", "0")
    alone = [list(stream_text(embedded_lm, p, max_new_tokens=NEW_TOKENS)) for p in prompts[:4]]
    monkeypatch.setenv("TUTOR_BATCHING", "1")
    batched = concurrently(lambda p: list(stream_text(embedded_lm, p, max_new_tokens=NEW_TOKENS)), prompts[:4])
    assert ["".join(pieces) for pieces in batched] == ["".join(pieces) for pieces in alone]
    assert all(len(pieces) > 3 for pieces in batched)
    assert len({"".join(pieces) for pieces in batched}) == 4


def test_a_stream_closed_early_leaves_the_batch(embedded_lm, prompts):
    scheduler = BatchScheduler.for_model(embedded_lm)
    stream = stream_text(embedded_lm, prompts[1], max_new_tokens=200)
    next(stream)
    steps = scheduler.steps
    stream.close()
    other = "".join(stream_text(embedded_lm, prompts[0], max_new_tokens=8))
    assert other and scheduler.steps - steps < 12  # the closed request stopped; only the new one stepped


def test_structured_and_pattern_generation_in_the_batch_match_alone(embedded_lm, prompts, monkeypatch):
    runtime = StructuredRuntime.for_model(embedded_lm)
    label = Literal["a regularisation method", "an optimiser", "a loss function", "a dataset"]
    turns = ["quiz me on dropout, 5 questions", "what is a learning rate?", "B", "explain overfitting please"]
    readings = [runtime.chat(turn_messages(t)) for t in turns]

    def structured(prompt):
        return runtime.generate_text(label, prompt, max_new_tokens=12)

    def reading(prompt):
        return decode_pattern(embedded_lm, READING_PATTERN, prompt, max_new_tokens=MAX_READING_TOKENS)

    monkeypatch.setenv("TUTOR_BATCHING", "0")
    alone = [structured(p) for p in prompts[:4]], [reading(p) for p in readings]
    monkeypatch.setenv("TUTOR_BATCHING", "1")
    batched = concurrently(structured, prompts[:4]), concurrently(reading, readings)
    assert batched == alone
    assert set(alone[0]) <= set(label.__args__)
    assert alone[1][0].startswith("quiz") and alone[1][1].startswith("explain")
