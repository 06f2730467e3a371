"""Packed CPU decoding (llm.packed) on small synthetic Q4_1/Q8_0 weights and a tiny random Llama.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/integration/test_packed.py -q

The real embedded model is checked in tests/integration/test_llm_runtime.py.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from llm import packed

pytestmark = pytest.mark.torch  # small random-weight torch models: integration tier, no download

GROUP = packed.GROUP


def q4_grid(rows: int, cols: int, seed: int = 0) -> torch.Tensor:
    """Weights as a Q4_1 GGUF holds them: codes 0..15 (extremes used), fp16 scale and minimum per 32 inputs."""
    gen = torch.Generator().manual_seed(seed)
    codes = torch.randint(0, 16, (rows, cols), generator=gen)
    codes[:, ::GROUP], codes[:, 1::GROUP] = 0, 15
    scale = (torch.rand(rows, cols // GROUP, generator=gen) / 40 + 1e-3).half().float()
    minimum = (-torch.rand(rows, cols // GROUP, generator=gen) / 5).half().float()
    return codes.float() * scale.repeat_interleave(GROUP, 1) + minimum.repeat_interleave(GROUP, 1)


def q8_grid(rows: int, cols: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    codes = torch.randint(-127, 128, (rows, cols), generator=gen)
    codes[:, ::GROUP] = 127
    scale = (torch.rand(rows, cols // GROUP, generator=gen) / 100 + 1e-4).half().float()
    return codes.float() * scale.repeat_interleave(GROUP, 1)


def linear(weight: torch.Tensor, bias: bool = False) -> nn.Linear:
    layer = nn.Linear(weight.shape[1], weight.shape[0], bias=bias)
    with torch.no_grad():
        layer.weight.copy_(weight)
    return layer


def single(dense: nn.Linear, blocks, lora=None, max_rows: int = packed.MAX_ROWS) -> packed.PackedLinear:
    return packed.PackedLinear(dense, packed.PackedMatmul([blocks], [lora]), max_rows=max_rows)


def test_q4_1_codes_reproduce_grid_weights_exactly():
    weight = q4_grid(48, 96)
    codes, scale, minimum = packed.q4_1_blocks(weight)
    assert codes.dtype == torch.int32 and int(codes.min()) == 0 and int(codes.max()) == 15
    rebuilt = codes.float() * scale.repeat_interleave(GROUP, 1) + minimum.repeat_interleave(GROUP, 1)
    assert torch.equal(rebuilt, weight)


def test_weights_off_the_grid_are_not_packed():
    assert packed.q4_1_blocks(torch.randn(48, 96)) is None
    assert packed.q8_0_blocks(torch.randn(48, 96)) is None
    assert packed.q4_1_blocks(q4_grid(8, 64)[:, :40]) is None  # 40 inputs: not whole blocks of 32
    nearly = q4_grid(48, 96)
    nearly[3, 7] += 0.01 * float(nearly.abs().max())  # one weight off by a few steps' worth
    assert packed.q4_1_blocks(nearly) is None


def test_q8_0_codes_reproduce_grid_weights_exactly():
    weight = q8_grid(40, 64)
    codes, scale = packed.q8_0_blocks(weight)
    assert codes.dtype == torch.int8
    assert torch.equal(codes.float().reshape(40, 64) * scale.repeat_interleave(GROUP, 1), weight)


def test_kernels_pass_their_self_check():
    assert packed.kernels_work()


@pytest.mark.parametrize("bias", [False, True])
def test_packed_linear_matches_dense_for_decode_rows_and_is_dense_for_prefill(bias):
    dense = linear(q4_grid(64, 96), bias=bias)
    layer = single(dense, packed.q4_1_blocks(dense.weight), max_rows=4)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        step = torch.randn(1, 1, 96, generator=gen)
        assert layer(step).shape == (1, 1, 64)
        torch.testing.assert_close(layer(step), dense(step), rtol=2e-2, atol=2e-2)  # bf16 inputs and outputs
        assert not torch.equal(layer(step), dense(step))  # the packed kernel really ran
        prefill = torch.randn(1, 9, 96, generator=gen)
        assert torch.equal(layer(prefill), dense(prefill))  # more rows than max_rows: the dense weights


def test_packed_linear_adds_the_lora_product_to_the_base_codes():
    base = q4_grid(64, 96)
    gen = torch.Generator().manual_seed(2)
    a, b = torch.randn(8, 96, generator=gen) / 10, torch.randn(64, 8, generator=gen) / 10
    merged = linear(base + b @ a)
    layer = single(merged, packed.q4_1_blocks(base), lora=(a, b))
    x = torch.randn(2, 96, generator=gen)
    with torch.no_grad():
        torch.testing.assert_close(layer(x), merged(x), rtol=2e-2, atol=2e-2)
        without = single(merged, packed.q4_1_blocks(base))
        assert (without(x) - merged(x)).abs().max() > 0.1  # the LoRA term matters at this size


def test_layers_sharing_an_input_share_one_call_and_each_get_their_own_columns():
    gen = torch.Generator().manual_seed(4)
    bases = [q4_grid(n, 64, seed=n) for n in (48, 16, 16)]
    loras = [(torch.randn(4, 64, generator=gen) / 10, torch.randn(48, 4, generator=gen) / 10), None,
             (torch.randn(2, 64, generator=gen) / 10, torch.randn(16, 2, generator=gen) / 10)]
    merged = [linear(w if l is None else w + l[1] @ l[0]) for w, l in zip(bases, loras)]
    matmul = packed.PackedMatmul([packed.q4_1_blocks(w) for w in bases], loras)
    starts = [0, 48, 64]
    layers = [packed.PackedLinear(d, matmul, start) for d, start in zip(merged, starts)]
    x = torch.randn(1, 1, 64, generator=gen)
    with torch.no_grad():
        outputs = [layer(x) for layer in layers]
        assert matmul.last_input is x
        for got, dense in zip(outputs, merged):
            torch.testing.assert_close(got, dense(x), rtol=2e-2, atol=2e-2)
        other = torch.randn(1, 1, 64, generator=gen)  # a new input is computed, not served from the last one
        torch.testing.assert_close(layers[2](other), merged[2](other), rtol=2e-2, atol=2e-2)


def test_packed_head_matches_the_q8_0_lm_head():
    dense = linear(q8_grid(200, 64))
    head = packed.PackedHead(dense, packed.q8_0_blocks(dense.weight))
    x = torch.randn(1, 64, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        torch.testing.assert_close(head(x), dense(x), rtol=2e-2, atol=3e-2)
        assert torch.equal(head(x.repeat(8, 1)), dense(x.repeat(8, 1)))


def tiny_llama(seed: int = 0):
    """A 2-layer random Llama whose linear weights lie on a Q4_1 grid and whose tied head is Q8_0."""
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=96, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True)
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():
        for i, layer in enumerate(m for m in model.model.modules() if isinstance(m, nn.Linear)):
            layer.weight.copy_(q4_grid(*layer.weight.shape, seed=i) / 4)
        model.model.embed_tokens.weight.copy_(q8_grid(96, 64, seed=99))
    return model


def test_pack_model_swaps_every_layer_and_keeps_greedy_decoding():
    model = tiny_llama()
    prompt = torch.tensor([[5, 17, 42, 8, 3]])
    with torch.no_grad():
        reference = model(prompt).logits
        expected = model.generate(prompt, max_new_tokens=12, do_sample=False, pad_token_id=0)
    report = packed.pack_model(model)
    assert report.packed == 14 and report.head and report.dense == []
    assert "14 int4 layers, int8 head" in report.label
    with torch.no_grad():
        assert torch.equal(model(prompt).logits, reference)  # 5 rows: prefill stays dense
        step = model(prompt[:, :1]).logits
        torch.testing.assert_close(step, reference[:, :1], rtol=5e-2, atol=5e-2)
        tokens = model.generate(prompt, max_new_tokens=12, do_sample=False, pad_token_id=0)
    assert tokens.shape == expected.shape
    assert (tokens == expected).float().mean() >= 0.9


def test_layers_off_the_grid_and_lora_variants_stay_dense():
    model = tiny_llama()
    with torch.no_grad():
        model.model.layers[0].mlp.up_proj.weight.add_(torch.randn(128, 64) / 100)
    blocks = packed.encode_linears(model)
    lora = {"model.layers.1.self_attn.q_proj": None}  # e.g. a DoRA layer
    report = packed.pack_model(model, blocks, lora)
    assert sorted(report.dense) == ["model.layers.0.mlp.up_proj", "model.layers.1.self_attn.q_proj"]
    assert isinstance(model.model.layers[0].mlp.up_proj, nn.Linear)
    assert isinstance(model.model.layers[0].mlp.down_proj, packed.PackedLinear)
    assert not model.model.layers[0].mlp.gate_proj.matmul.shared  # its partner up_proj stayed dense
    assert model.model.layers[0].self_attn.k_proj.matmul.shared  # q, k, v of layer 0 packed together
    assert not model.model.layers[1].self_attn.k_proj.matmul.shared  # q of layer 1 stayed dense


def test_lora_factors_of_a_peft_model_rebuild_its_merged_outputs():
    from peft import LoraConfig, get_peft_model

    base = tiny_llama()
    blocks = packed.encode_linears(base)
    peft_model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "down_proj"]))
    for name, param in peft_model.named_parameters():
        if "lora_B" in name:
            with torch.no_grad():
                param.normal_(std=0.05)
    factors = packed.lora_factors(peft_model)
    assert set(factors) == {f"model.layers.{i}.{m}" for i in (0, 1) for m in ("self_attn.q_proj", "mlp.down_proj")}
    merged = peft_model.merge_and_unload().eval()
    layer = merged.model.layers[1].mlp.down_proj
    x = torch.randn(1, 128)
    with torch.no_grad():
        expected = layer(x)
        packed.pack_model(merged, blocks, factors)
        got = merged.model.layers[1].mlp.down_proj(x)
    torch.testing.assert_close(got, expected, rtol=2e-2, atol=2e-2)


def packed_tiny_with_adapter():
    """``tiny_llama`` + a random LoRA adapter on every projection, merged, packed and given the lean step."""
    from peft import LoraConfig, get_peft_model

    from llm import fast_decode

    base = tiny_llama(seed=3)
    blocks = packed.encode_linears(base)
    targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    peft_model = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=targets))
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:
                param.normal_(std=0.05)
    factors = packed.lora_factors(peft_model)
    model = peft_model.merge_and_unload().eval()
    packed.pack_model(model, blocks, factors)
    assert fast_decode.install(model)
    return model


def decode(model, plan, steps: int, between=None) -> list[torch.Tensor]:
    """Logits of ``steps`` greedy single-token steps after a prefill, through ``plan`` (None: the generic step)."""
    from transformers import DynamicCache

    model._tutor_packed_plan = plan
    cache = DynamicCache(config=model.config)
    logits = [model(torch.tensor([[5, 17, 42, 8, 3]]), cache=cache, use_cache=True).logits[0, -1]]
    for i in range(steps):
        if between is not None:
            between(i, cache)
        logits.append(model(logits[-1].argmax().view(1, 1), cache=cache, use_cache=True).logits[0, -1])
    return logits


def test_packed_step_gives_the_generic_lean_steps_logits_bit_for_bit():
    """llm.packed_step calls the same kernels on the same values as llm.fast_decode's generic step."""
    from llm import packed_step

    model = packed_tiny_with_adapter()
    plan = model._tutor_packed_plan
    assert plan is not None and len(plan.layers) == 2 and plan.layers[0][2][2] is not None  # with LoRA
    calls = []
    original = packed_step.step
    with torch.inference_mode():
        generic = decode(model, None, 12)
        packed_step.step = lambda *a, **k: calls.append(1) or original(*a, **k)
        try:
            fast = decode(model, plan, 12)
        finally:
            packed_step.step = original
        reference = type(model).forward.__get__(model)  # transformers' own forward, the same packed modules
        token, cache = torch.tensor([[5, 17, 42, 8, 3]]), None
        for expected in generic:
            out = reference(token, past_key_values=cache, use_cache=True)
            torch.testing.assert_close(out.logits[0, -1], expected, rtol=1e-5, atol=1e-5)
            token, cache = expected.argmax().view(1, 1), out.past_key_values
    assert len(calls) == 12
    for got, expected in zip(fast, generic):
        assert torch.equal(got, expected)


def test_static_kv_grows_and_takes_back_a_cache_changed_elsewhere(monkeypatch):
    """Buffers double when full; a cache extended by another path (torch.cat) or cropped is adopted again."""
    from llm import packed_step

    monkeypatch.setattr(packed_step, "_SPARE", 2)
    model = packed_tiny_with_adapter()
    plan = model._tutor_packed_plan
    seen = []

    def meddle(i, cache):
        state = getattr(cache, "_tutor_static_kv", None)
        if state is not None:
            seen.append(state.keys[0].shape[2])
            assert cache.layers[0].keys.data_ptr() == state.keys[0].data_ptr()  # the cache holds views
        if i == 4:  # one step through the generic path: DynamicCache concatenates new tensors
            model._tutor_packed_plan = None
            model(torch.tensor([[7]]), cache=cache, use_cache=True)
            model._tutor_packed_plan = plan
        if i == 8:
            cache.crop(-3)

    def meddle_generic(i, cache):
        if i == 4:
            model(torch.tensor([[7]]), cache=cache, use_cache=True)
        if i == 8:
            cache.crop(-3)

    with torch.inference_mode():
        expected = decode(model, None, 14, meddle_generic)
        got = decode(model, plan, 14, meddle)
    for a, b in zip(got, expected):
        assert torch.equal(a, b)
    assert max(seen) > min(seen)  # the buffers grew


def test_models_with_a_dense_layer_keep_the_generic_step():
    from llm import fast_decode

    model = tiny_llama()
    with torch.no_grad():
        model.model.layers[1].mlp.down_proj.weight.add_(torch.randn(64, 128) / 100)  # off the grid: stays dense
    packed.pack_model(model)
    assert fast_decode.install(model) and model._tutor_packed_plan is None
    with torch.inference_mode():
        tokens = model.generate(torch.tensor([[5, 17, 42]]), max_new_tokens=5, do_sample=False, pad_token_id=0)
    assert tokens.shape == (1, 8)
