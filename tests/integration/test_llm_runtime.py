"""The real embedded model: conversion cache, loading, constrained generation, streaming.

    bash scripts/test.sh tests/integration/test_llm_runtime.py
"""

import time
from typing import Literal

import pytest

from common.settings import SettingsError
from llm import embedded
from llm.loading import load_model
from llm.spec import ModelSpecError
from llm.streaming import stream_text
from llm.structured import StructuredRuntime
from schemas import CandidatePick

pytestmark = pytest.mark.model


def test_gguf_is_verified_and_cached_conversion_is_complete():
    gguf = embedded.locate_gguf()
    embedded.verify_gguf(gguf)  # raises on a damaged wheel
    folder = embedded.ensure_converted()
    assert embedded.is_complete(folder) and (folder / "config.json").is_file()
    started = time.perf_counter()
    assert embedded.ensure_converted() == folder  # idempotent, no work
    assert time.perf_counter() - started < 1.0


def test_interrupted_conversion_is_never_used(tmp_path, monkeypatch):
    """A folder without the completion marker (a killed conversion) is rebuilt, not loaded."""
    monkeypatch.setenv("ML_TUTOR_CACHE", str(tmp_path))
    target = embedded.converted_dir()
    target.mkdir(parents=True)
    (target / "config.json").write_text("{half written")
    assert not embedded.is_complete(target)
    calls = []
    monkeypatch.setattr(embedded, "convert_gguf", lambda gguf, out: calls.append(out) or (out / "config.json").write_text("{}"))
    folder = embedded.ensure_converted(progress=False)
    assert calls and embedded.is_complete(folder)
    assert (folder / "config.json").read_text() == "{}"
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".partial-")]


def test_hub_id_offline_gives_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelSpecError, match="--model DIR"):
        load_model("someone/not-a-real-model-xyz", cache=False)


def test_constrained_outputs_validate(embedded_lm):
    runtime = StructuredRuntime.for_model(embedded_lm)
    prompt = runtime.chat([{"role": "user", "content": "Pick a number from 1 to 8."}])
    pick = runtime.generate(CandidatePick, prompt, seed=3, max_new_tokens=20)
    assert 1 <= pick.choice <= 8
    label = runtime.generate_text(Literal["A", "B", "C"], prompt, max_new_tokens=3)
    assert label in {"A", "B", "C"}
    assert runtime.generator(CandidatePick) is runtime.generator(CandidatePick)  # built once


def test_explanation_streams_in_pieces(embedded_lm):
    runtime = StructuredRuntime.for_model(embedded_lm)
    prompt = runtime.chat([{"role": "user", "content": "What is overfitting in machine learning?"}])
    pieces = list(stream_text(embedded_lm, prompt, max_new_tokens=24))
    assert len(pieces) > 3
    assert len("".join(pieces).split()) >= 5
    # runtime.stream is the call every backend answers (llm.openai_backend too): the same greedy text here
    assert "".join(runtime.stream(prompt, max_new_tokens=24)) == "".join(pieces)


def test_embedded_model_decodes_through_packed_weights_like_the_dense_model(embedded_lm):
    """Every linear layer of the Q4_1 GGUF packs exactly; teacher-forced decode steps pick the dense model's tokens."""
    import torch

    from llm import packed

    assert embedded_lm.weights == "packed (210 int4 layers, int8 head; 0 dense) + lean decode step"
    dense = load_model(weights="dense", cache=False)
    assert dense.weights == "dense" and not any(isinstance(m, packed.PackedLinear) for m in dense.model.modules())
    tok = embedded_lm.tokenizer
    ids = tok.apply_chat_template([{"role": "user", "content": "Explain overfitting in machine learning."}],
                                  add_generation_prompt=True, return_tensors="pt", return_dict=True)["input_ids"]
    with torch.inference_mode():
        text = dense.model.generate(ids, max_new_tokens=40, do_sample=False, pad_token_id=tok.pad_token_id)
        agree, worst = 0, 0.0
        cache_p = cache_d = None
        for pos in range(ids.shape[1], text.shape[1]):  # one token a step, as generate() feeds them
            step = text[:, :pos] if cache_p is None else text[:, pos - 1:pos]
            out_p = embedded_lm.model(step, past_key_values=cache_p, use_cache=True)
            out_d = dense.model(step, past_key_values=cache_d, use_cache=True)
            cache_p, cache_d = out_p.past_key_values, out_d.past_key_values
            logits_p, logits_d = out_p.logits[0, -1], out_d.logits[0, -1]
            agree += int(logits_p.argmax() == logits_d.argmax())
            worst = max(worst, float((logits_p - logits_d).abs().max()))
    steps = text.shape[1] - ids.shape[1]
    assert agree >= steps - 2, f"packed picked the dense token in {agree}/{steps} steps"
    assert 0 < worst < 1.0  # bf16 rounding inside the kernels: small, but not nothing


def test_lean_decode_step_gives_transformers_logits_and_tokens(embedded_lm):
    """The lean single-token step (llm.fast_decode) against the model's own forward, on the same weights."""
    import torch
    from transformers import DynamicCache

    model, tok = embedded_lm.model, embedded_lm.tokenizer
    plan = model._tutor_packed_plan
    assert plan is not None  # every layer packed: steps run through llm.packed_step
    original = type(model).forward.__get__(model)
    ids = tok.apply_chat_template([{"role": "user", "content": "What is a learning rate?"}],
                                  add_generation_prompt=True, return_tensors="pt", return_dict=True)["input_ids"]
    with torch.inference_mode():
        caches = [DynamicCache(config=model.config) for _ in range(3)]
        cache_fast, cache_generic, cache_ref = caches
        model(ids, cache=cache_fast, use_cache=True)
        model(ids, cache=cache_generic, use_cache=True)
        original(ids, cache=cache_ref, use_cache=True)
        token = torch.tensor([[tok.convert_tokens_to_ids("The")]])
        for _ in range(12):
            fast = model(token, cache=cache_fast, use_cache=True).logits[0, -1]
            model._tutor_packed_plan = None  # llm.fast_decode's generic lean step
            try:
                generic = model(token, cache=cache_generic, use_cache=True).logits[0, -1]
            finally:
                model._tutor_packed_plan = plan
            ref = original(token, cache=cache_ref, use_cache=True).logits[0, -1]
            torch.testing.assert_close(fast, ref, rtol=1e-4, atol=1e-4)
            assert torch.equal(fast, generic)  # the same kernels on the same values
            token = ref.argmax().view(1, 1)
        assert all(cache.get_seq_length() == ids.shape[1] + 12 for cache in caches)
        assert cache_fast._tutor_static_kv.keys[0].data_ptr() == cache_fast.layers[0].keys.data_ptr()
        batch = torch.cat([ids, ids])  # two rows: not the lean step's case, the model's own forward runs
        torch.testing.assert_close(model(batch).logits, original(batch).logits)


def test_generate_threads_follow_the_wait_policy(monkeypatch, embedded_lm):
    import torch

    from llm.loading import generate_threads, generating

    monkeypatch.delenv("TUTOR_GENERATE_THREADS", raising=False)
    monkeypatch.setenv("OMP_WAIT_POLICY", "PASSIVE")
    assert generate_threads("cpu") == 1
    monkeypatch.delenv("OMP_WAIT_POLICY")
    assert generate_threads("cpu") is None and generate_threads("cuda") is None
    monkeypatch.setenv("TUTOR_GENERATE_THREADS", "2")
    assert generate_threads("cpu") == 2
    before = torch.get_num_threads()
    with generating(embedded_lm):
        assert torch.get_num_threads() == (embedded_lm.threads or before)
    assert torch.get_num_threads() == before


def test_bad_weights_or_threads_setting_is_a_clear_error(monkeypatch):
    with pytest.raises(ModelSpecError, match="weights must be one of auto, dense"):
        load_model(weights="int3", cache=False)
    monkeypatch.setenv("TUTOR_CPU_WEIGHTS", "int3")
    with pytest.raises(SettingsError, match="TUTOR_CPU_WEIGHTS"):
        load_model(cache=False)
    monkeypatch.delenv("TUTOR_CPU_WEIGHTS")
    monkeypatch.setenv("TUTOR_GENERATE_THREADS", "many")
    with pytest.raises(SettingsError, match="TUTOR_GENERATE_THREADS"):
        load_model(cache=False)
