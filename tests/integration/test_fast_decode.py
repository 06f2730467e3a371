"""The lean single-token decode step (llm.fast_decode) on a tiny random Llama: same logits, same tokens.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/integration/test_fast_decode.py -q

The real embedded model (with packed weights) is checked in tests/integration/test_llm_runtime.py.
"""

from __future__ import annotations

import pytest
import torch

from llm import fast_decode

pytestmark = pytest.mark.torch  # small random-weight torch models: integration tier, no download


def tiny(seed: int = 0, **overrides):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=97, hidden_size=64, intermediate_size=96, num_hidden_layers=3,
                         num_attention_heads=4, num_key_value_heads=2, **overrides)
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():  # norms start as all-ones: make each one distinct, so a mixed-up norm shows
        for name, param in model.named_parameters():
            if "norm" in name:
                param.uniform_(0.5, 1.5)
    return model


def test_generate_gives_the_same_tokens_and_the_step_is_used(monkeypatch):
    reference, model = tiny(), tiny()
    assert fast_decode.install(model) and fast_decode.install(model)  # idempotent
    calls = []
    step = fast_decode.decode_step
    monkeypatch.setattr(fast_decode, "decode_step", lambda *a, **k: calls.append(1) or step(*a, **k))
    prompt = torch.tensor([[3, 14, 15, 92, 65, 35]])
    with torch.inference_mode():
        expected = reference.generate(prompt, max_new_tokens=15, do_sample=False, pad_token_id=0)
        got = model.generate(prompt, max_new_tokens=15, do_sample=False, pad_token_id=0)
    assert torch.equal(got, expected)
    assert len(calls) == 14  # every step after the prefill


def test_step_logits_match_with_rope_scaling_and_biases():
    config = dict(rope_parameters={"rope_type": "linear", "factor": 2.0, "rope_theta": 10000.0},
                  attention_bias=True, mlp_bias=True)
    reference, model = tiny(seed=1, **config), tiny(seed=1, **config)
    fast_decode.install(model)
    prompt = torch.tensor([[5, 6, 7, 8]])
    with torch.inference_mode():
        ref_out = reference(prompt, use_cache=True)
        out = model(prompt, use_cache=True)
        torch.testing.assert_close(out.logits, ref_out.logits)  # prefill: the model's own forward
        token = torch.tensor([[11]])
        for _ in range(5):
            ref_out = reference(token, cache=ref_out.cache, use_cache=True)
            out = model(token, cache=out.cache, use_cache=True)
            torch.testing.assert_close(out.logits, ref_out.logits, rtol=1e-5, atol=1e-5)
            token = ref_out.logits[:, -1:].argmax(-1)


def test_other_calls_fall_through_to_the_model():
    model = tiny()
    fast_decode.install(model)
    prompt = torch.tensor([[1, 2, 3]])
    with torch.inference_mode():
        cache = model(prompt, use_cache=True).cache
        two_rows = model(torch.tensor([[4], [5]]))  # batch 2: the model's own forward
        assert two_rows.logits.shape == (2, 1, 97)
        masked = model(torch.tensor([[4]]), cache=cache, attention_mask=torch.tensor([[0, 1, 1, 1]]))
        assert masked.logits.shape == (1, 1, 97)
    out = model(torch.tensor([[4]]), cache=model(prompt, use_cache=True).cache, labels=torch.tensor([[4]]))
    assert out.loss is not None  # training-style call with gradients and labels


def test_unsupported_architectures_are_left_alone():
    from transformers import GPT2Config, GPT2LMHeadModel

    model = GPT2LMHeadModel(GPT2Config(n_layer=1, n_head=2, n_embd=32, vocab_size=50))
    assert not fast_decode.install(model)
    assert not getattr(model, "_tutor_fast_decode", False)
