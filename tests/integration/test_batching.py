"""The batching scheduler (llm.batching) on tiny random Llamas: same tokens as alone, per-request rules.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/integration/test_batching.py -q

The real embedded model (packed weights, tutor adapter) is checked in tests/integration/test_batching_model.py.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
import torch
from torch import nn
from transformers import DynamicCache, LlamaConfig, LlamaForCausalLM

from llm import batching, fast_decode, packed
from llm.loading import LoadedModel

PROMPTS = [[5, 17, 42, 8, 3], [9], [60, 61, 2, 33, 33, 33, 70, 1], [4, 4], [88, 12, 7], [30, 31, 32, 33]]


def q4_grid(rows: int, cols: int, seed: int) -> torch.Tensor:
    """Weights on a Q4_1 grid (codes 0..15, fp16 scale and minimum per 32 inputs), so llm.packed packs them."""
    gen = torch.Generator().manual_seed(seed)
    codes = torch.randint(0, 16, (rows, cols), generator=gen)
    codes[:, ::32], codes[:, 1::32] = 0, 15
    scale = (torch.rand(rows, cols // 32, generator=gen) / 40 + 1e-3).half().float()
    minimum = (-torch.rand(rows, cols // 32, generator=gen) / 5).half().float()
    return codes.float() * scale.repeat_interleave(32, 1) + minimum.repeat_interleave(32, 1)


def tiny(packed_weights: bool = False, seed: int = 0) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=96, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, eos_token_id=None, pad_token_id=0,
                         tie_word_embeddings=packed_weights)
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "norm" in name:  # distinct norms, so a mixed-up row or layer shows
                param.uniform_(0.5, 1.5)
        if packed_weights:
            for i, layer in enumerate(m for m in model.model.modules() if isinstance(m, nn.Linear)):
                layer.weight.copy_(q4_grid(*layer.weight.shape, seed=i) / 4)
            codes = torch.randint(-127, 128, (96, 64), generator=torch.Generator().manual_seed(99))
            codes[:, ::32] = 127
            model.model.embed_tokens.weight.copy_(codes.float() / 256)  # the tied head: a Q8_0 grid
    if packed_weights:
        report = packed.pack_model(model)
        assert report.packed == 14 and report.head
    assert fast_decode.install(model)
    return model


def loaded(model) -> LoadedModel:
    return LoadedModel(model, tokenizer=None, spec=None, adapter=None, device="cpu")


def alone(model, prompt: list[int], new: int, stop: int | None = None) -> list[int]:
    """Greedy tokens from generate(), one request at a time (the unbatched path)."""
    with torch.inference_mode():
        out = model.generate(torch.tensor([prompt]), max_new_tokens=new, do_sample=False, pad_token_id=0,
                             **({} if stop is None else {"eos_token_id": stop}))
    tokens = out[0, len(prompt):].tolist()
    return tokens[:-1] if stop is not None and tokens and tokens[-1] == stop else tokens


def caches_after(model, prompts):
    caches, firsts = [], []
    with torch.inference_mode():
        for prompt in prompts:
            out = model(torch.tensor([prompt]), cache=DynamicCache(config=model.config), use_cache=True,
                        logits_to_keep=1)
            caches.append(out.cache)
            firsts.append(int(out.logits[0, -1].argmax()))
    return caches, firsts


@pytest.mark.parametrize("packed_weights", [False, True])
def test_batched_step_gives_each_row_its_single_sequence_logits(packed_weights):
    """Packed layers (int4 linears, int8 head) are exact row by row; dense ones up to float order."""
    model = tiny(packed_weights)
    alone_caches, tokens = caches_after(model, PROMPTS)
    batch_caches, _ = caches_after(model, PROMPTS)
    with torch.inference_mode():
        for _ in range(4):
            expected = torch.stack([fast_decode.decode_step(model, torch.tensor([[t]]), c).logits[0, -1]
                                    for t, c in zip(tokens, alone_caches)])
            got = batching.batched_step(model, tokens, batch_caches)
            if packed_weights:  # packed layers take rows in chunks that keep every row bit-identical
                assert torch.equal(got, expected)
            else:
                torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
            tokens = expected.argmax(-1).tolist()
    assert [c.get_seq_length() for c in batch_caches] == [len(p) + 4 for p in PROMPTS]


@pytest.mark.parametrize("packed_weights", [False, True])
def test_concurrent_requests_get_the_tokens_they_get_alone(packed_weights):
    model = tiny(packed_weights)
    expected = [alone(model, p, 12) for p in PROMPTS]
    scheduler = batching.BatchScheduler(loaded(model))
    results: dict[int, list[int]] = {}
    start = threading.Barrier(len(PROMPTS))

    def ask(i):
        start.wait()
        results[i] = list(scheduler.submit(PROMPTS[i], max_new_tokens=12))  # streamed, in order

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(PROMPTS))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [results[i] for i in range(len(PROMPTS))] == expected
    assert scheduler.rows_stepped / scheduler.steps > 1.5  # the steps were shared


def test_each_request_keeps_its_own_budget_stop_and_processors():
    model = tiny()
    scheduler = batching.BatchScheduler(loaded(model))
    free = alone(model, PROMPTS[0], 10)
    stop = free[3]
    banned = free[0]

    def ban(input_ids, scores):
        scores = scores.clone()
        scores[:, banned] = float("-inf")
        return scores

    short = scheduler.submit(PROMPTS[0], max_new_tokens=2)
    stopped = scheduler.submit(PROMPTS[0], max_new_tokens=10, stop_ids={stop})
    constrained = scheduler.submit(PROMPTS[0], max_new_tokens=5, processors=[ban])
    assert short.result() == free[:2] and short.finish_reason == "length"
    assert stopped.result() == free[:free.index(stop)] and stopped.finish_reason == "stop"
    tokens = constrained.result()
    assert len(tokens) == 5 and tokens[0] != banned


def test_a_failing_request_ends_alone_and_a_cancelled_one_leaves():
    model = tiny()
    scheduler = batching.BatchScheduler(loaded(model))

    def broken(input_ids, scores):
        if input_ids.shape[1] > len(PROMPTS[1]) + 2:
            raise ValueError("constraint broke")
        return scores

    bad = scheduler.submit(PROMPTS[1], max_new_tokens=20, processors=[broken])
    long = scheduler.submit(PROMPTS[2], max_new_tokens=400)
    good = scheduler.submit(PROMPTS[0], max_new_tokens=8)
    with pytest.raises(ValueError, match="constraint broke"):
        bad.result()
    assert bad.finish_reason == "error" and len(bad.tokens) == 3
    assert good.result() == alone(model, PROMPTS[0], 8)
    stream = iter(long)
    next(stream)
    long.cancel()
    assert len(list(stream)) < 399 and long.finish_reason == "cancelled"


def test_bad_requests_are_refused_with_a_clear_error():
    scheduler = batching.BatchScheduler(loaded(tiny()))
    with pytest.raises(ValueError, match="prompt token"):
        scheduler.submit([], max_new_tokens=3)
    with pytest.raises(ValueError, match="max_new_tokens"):
        scheduler.submit([1], max_new_tokens=0)


def test_asyncio_tasks_stream_their_own_tokens():
    model = tiny()
    scheduler = batching.BatchScheduler(loaded(model))

    async def collect(prompt):
        return [token async for token in scheduler.submit(prompt, max_new_tokens=6).stream()]

    async def main():
        return await asyncio.gather(*(collect(p) for p in PROMPTS[:3]))

    assert asyncio.run(main()) == [alone(model, p, 6) for p in PROMPTS[:3]]


def test_sampling_is_reproducible_per_seed():
    scheduler = batching.BatchScheduler(loaded(tiny()))
    runs = [scheduler.submit(PROMPTS[0], max_new_tokens=8, temperature=1.0, seed=s) for s in (1, 1, 2)]
    first, again, other = (run.result() for run in runs)
    assert first == again and len(first) == 8
    assert other != first


def test_the_setting_turns_batching_off_and_other_models_are_not_batched(monkeypatch):
    lm = loaded(tiny())
    monkeypatch.setenv("TUTOR_BATCHING", "0")
    assert batching.scheduler_for(lm) is None
    monkeypatch.setenv("TUTOR_BATCHING", "1")
    assert batching.scheduler_for(lm) is batching.scheduler_for(lm) is not None
    assert batching.BatchScheduler.for_model(LoadedModel(nn.Linear(2, 2), None, None, None, "cpu")) is None
    from llm.loading import GENERATE_LOCK

    with GENERATE_LOCK:  # a caller that holds the lock runs alone (waiting on the worker would deadlock)
        assert batching.scheduler_for(lm) is None
