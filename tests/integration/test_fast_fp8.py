"""FP8 base products of the fast path (``finetune.fast.fp8``): scales, orientation, fallbacks, numerics (CPU).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/integration/test_fast_fp8.py -q

The CPU build of torch runs ``torch._scaled_mm``, so the FP8 arithmetic itself is exercised here; the
tensor-core speed and the bf16-only CUDA kernel are measured by ``bench/train_throughput.py`` on a GPU.
"""

from __future__ import annotations

import copy

import pytest
import torch

from finetune.fast import FastOptions, apply, fp8, lora

pytestmark = pytest.mark.torch  # small random tensors and a tiny random Llama: integration tier, no download

if not fp8.device_supported(torch.device("cpu")):
    pytest.skip("this torch build has no CPU torch._scaled_mm", allow_module_level=True)


@pytest.fixture(autouse=True)
def _fresh_state():
    fp8.reset()
    yield
    fp8.reset()


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).norm() / b.double().norm())


def test_row_scales_keep_rows_of_very_different_size():
    gen = torch.Generator().manual_seed(0)
    t = torch.randn(4, 64, generator=gen) * torch.tensor([[1e-3], [1.0], [1e3], [0.0]])
    q, scale = fp8.quantize_rows(t)
    assert q.dtype == torch.float8_e4m3fn and q.is_contiguous() and scale.shape == (4, 1)
    back = fp8.dequantize_rows(q, scale)
    for row in range(3):  # e4m3 keeps 3 mantissa bits: ~3% RMS error whatever the row's size
        assert 0.005 < _rel(back[row], t[row]) < 0.06
    assert torch.equal(back[3], t[3]) and torch.isfinite(scale).all()
    assert torch.equal(q[:3].float().abs().amax(dim=1), torch.full((3,), 448.0))  # full range, no saturation


def test_transposed_input_gives_one_scale_per_column_and_a_contiguous_copy():
    gen = torch.Generator().manual_seed(1)
    w = torch.randn(32, 48, generator=gen) * torch.linspace(0.1, 10, 48)
    q, scale = fp8.quantize_rows(w.t())
    assert q.shape == (48, 32) and q.is_contiguous()
    assert torch.allclose(scale.squeeze(1), w.abs().amax(dim=0) / 448.0)


def test_scaled_product_is_the_product_of_the_dequantised_operands():
    """Checks the operand orientation and that the scales multiply (not divide) the result."""
    gen = torch.Generator().manual_seed(2)
    a, b = torch.randn(8, 32, generator=gen) * 5, torch.randn(16, 32, generator=gen) / 7
    qa, qb = fp8.quantize_rows(a), fp8.quantize_rows(b)
    product = fp8.scaled_product(qa, qb, torch.float32)
    exact = fp8.dequantize_rows(*qa) @ fp8.dequantize_rows(*qb).t()
    assert torch.allclose(product, exact, rtol=1e-5, atol=1e-5)
    assert 0.005 < _rel(product, a @ b.t()) < 0.08


class _LoRALinear(torch.nn.Module):
    """The attributes of a PEFT LoRA layer that :func:`lora.lora_parts` reads (float32)."""

    def __init__(self, d_in, d_out, gen, rank=4):
        super().__init__()
        self.base_layer = torch.nn.Linear(d_in, d_out, bias=False).requires_grad_(False)
        self.lora_A = torch.nn.ModuleDict({"default": torch.nn.Linear(d_in, rank, bias=False)})
        self.lora_B = torch.nn.ModuleDict({"default": torch.nn.Linear(rank, d_out, bias=False)})
        for weight in (self.base_layer.weight, self.lora_B["default"].weight):
            torch.nn.init.normal_(weight, generator=gen)
        self.lora_dropout = torch.nn.ModuleDict({"default": torch.nn.Identity()})
        self.scaling = {"default": 0.5}
        self.active_adapters = ["default"]


def _project_grads(matmul, mods, x, weights):
    x = x.clone().requires_grad_(True)
    params = [p for m in mods for p in m.parameters() if p.requires_grad]
    for p in params:
        p.grad = None
    outs = lora.project(x, mods, matmul=matmul)
    sum((y * w).sum() for y, w in zip(outs, weights)).backward()
    return [y.detach() for y in outs], x.grad, [p.grad.clone() for p in params]


@pytest.mark.parametrize("mode", ["forward", "backward", "all"])
def test_fp8_runs_exactly_the_products_its_mode_names(mode):
    """A loss linear in the outputs makes every gradient independent of the forward's rounding: so in
    'forward' mode only the outputs carry FP8 error, in 'backward' only the input gradient, in 'all' both,
    and the LoRA gradients (bf16 maths in training, fp32 here) never do."""
    gen = torch.Generator().manual_seed(3)
    mods = [_LoRALinear(64, 64, gen), _LoRALinear(64, 32, gen), _LoRALinear(64, 32, gen)]
    x = torch.randn(2, 8, 64, generator=gen)
    weights = [torch.randn(2, 8, m.base_layer.out_features, generator=gen) for m in mods]
    matmul = fp8.Fp8Matmul(forward=mode != "backward", backward=mode != "forward")
    outs, dx, grads = _project_grads(matmul, mods, x, weights)
    ref_outs, ref_dx, ref_grads = _project_grads(lora.DENSE, mods, x, weights)
    if mode == "backward":
        assert all(_rel(o, r) < 1e-6 for o, r in zip(outs, ref_outs))
    else:
        assert all(0.003 < _rel(o, r) < 0.08 for o, r in zip(outs, ref_outs))
    assert (0.003 < _rel(dx, ref_dx) < 0.08) if mode != "forward" else _rel(dx, ref_dx) < 1e-5
    assert all(_rel(g, r) < 1e-5 for g, r in zip(grads, ref_grads))


def test_dimensions_off_the_tensor_core_grid_fall_back_to_the_dense_product():
    gen = torch.Generator().manual_seed(4)
    mods = [_LoRALinear(24, 40, gen)]  # 24 is not a multiple of 16
    x = torch.randn(5, 24, generator=gen)
    weights = [torch.randn(5, 40, generator=gen)]
    outs, dx, _ = _project_grads(fp8.Fp8Matmul(), mods, x, weights)
    ref_outs, ref_dx, _ = _project_grads(lora.DENSE, mods, x, weights)
    assert torch.equal(outs[0], ref_outs[0]) and torch.equal(dx, ref_dx)


def test_a_failed_self_check_switches_fp8_off_for_good(monkeypatch, capsys):
    monkeypatch.setattr(fp8, "SELF_CHECK_TOLERANCE", 0.0)
    gen = torch.Generator().manual_seed(5)
    mods = [_LoRALinear(32, 32, gen)]
    x = torch.randn(4, 32, generator=gen)
    weights = [torch.randn(4, 32, generator=gen)]
    for _ in range(2):
        outs, dx, _ = _project_grads(fp8.Fp8Matmul(), mods, x, weights)
        ref_outs, ref_dx, _ = _project_grads(lora.DENSE, mods, x, weights)
        assert torch.equal(outs[0], ref_outs[0]) and torch.equal(dx, ref_dx)
    assert "FP8 base products disabled" in capsys.readouterr().err


def test_cuda_below_compute_capability_8_9_is_not_supported(monkeypatch):
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (8, 0))
    assert not fp8.device_supported(torch.device("cuda", 0))


def _tiny_llama():
    transformers, peft = pytest.importorskip("transformers"), pytest.importorskip("peft")
    torch.manual_seed(0)
    config = transformers.LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                                      num_key_value_heads=2, head_dim=16, vocab_size=61, tie_word_embeddings=True,
                                      attn_implementation="sdpa")
    base = transformers.LlamaForCausalLM(config)
    torch.manual_seed(1)
    model = peft.get_peft_model(base, peft.LoraConfig(r=4, lora_alpha=8, target_modules="all-linear"))
    for name, param in model.named_parameters():
        if "lora_B" in name:
            torch.nn.init.normal_(param, std=0.2)
    return model.train()


def _loss_and_grads(model, ids):
    model.zero_grad(set_to_none=True)
    loss = model(input_ids=ids, labels=ids).loss
    loss.backward()
    return float(loss.detach()), {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}


@pytest.mark.parametrize("mode", ["forward", "backward", "all"])
def test_tiny_llama_with_fp8_base_products_stays_close_to_float64(mode):
    """The whole patched model: loss within 1% and LoRA gradients within bf16-like error of a float64 run."""
    model = _tiny_llama()
    reference = copy.deepcopy(model).double()
    apply(model, options=FastOptions(force=True, fp8_base=mode))
    apply(reference, options=FastOptions(force=True))
    ids = torch.randint(0, 61, (2, 24), generator=torch.Generator().manual_seed(2))
    loss, grads = _loss_and_grads(model, ids)
    ref_loss, ref_grads = _loss_and_grads(reference, ids)
    assert fp8._STATE.get("checked") is True  # the FP8 products ran (and passed their self-check)
    assert abs(loss - ref_loss) < 0.01 * ref_loss
    flat = torch.cat([grads[n].flatten().double() for n in ref_grads])
    ref_flat = torch.cat([ref_grads[n].flatten() for n in ref_grads])
    assert 1e-3 < _rel(flat, ref_flat) < 0.1
