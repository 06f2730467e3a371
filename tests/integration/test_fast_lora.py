"""Hand-written LoRA autograd of the fast path against torch autograd (CPU, float64, milliseconds).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/integration/test_fast_lora.py -q
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from finetune.fast import lora
from finetune.fast.kernels import TORCH, self_check

pytestmark = pytest.mark.torch  # small random-weight torch models: integration tier, no download


class _LoRALinear(nn.Module):
    """The attributes of a PEFT LoRA layer that :func:`lora.lora_parts` reads."""

    def __init__(self, d_in, d_out, rank, gen, dropout=0.0):
        super().__init__()
        self.base_layer = nn.Linear(d_in, d_out, bias=False).double().requires_grad_(False)
        nn.init.normal_(self.base_layer.weight, generator=gen)
        self.lora_A = nn.ModuleDict({"default": nn.Linear(d_in, rank, bias=False).double()})
        self.lora_B = nn.ModuleDict({"default": nn.Linear(rank, d_out, bias=False).double()})
        nn.init.normal_(self.lora_B["default"].weight, generator=gen)
        self.lora_dropout = nn.ModuleDict({"default": nn.Dropout(dropout) if dropout else nn.Identity()})
        self.scaling = {"default": 0.5}
        self.active_adapters = ["default"]

    def forward(self, x):
        lora_out = self.lora_B["default"](self.lora_A["default"](self.lora_dropout["default"](x)))
        return self.base_layer(x) + lora_out * self.scaling["default"]


class _MLP(nn.Module):
    def __init__(self, gen):
        super().__init__()
        self.gate_proj, self.up_proj = _LoRALinear(12, 20, 3, gen), _LoRALinear(12, 20, 3, gen)
        self.down_proj = _LoRALinear(20, 12, 3, gen)
        self.act_fn = nn.SiLU()

    def forward(self, x):
        return self.down_proj(self.act_fn(self.gate_proj(x)) * self.up_proj(x))


def _grads(loss_fn, x, params):
    x = x.clone().requires_grad_(True)
    for p in params:
        p.grad = None
    loss_fn(x).backward()
    return [x.grad] + [p.grad.clone() for p in params]


def test_parts_refuse_what_the_fused_path_cannot_do():
    gen = torch.Generator().manual_seed(0)
    assert lora.lora_parts(_LoRALinear(4, 4, 2, gen)) is not None
    assert lora.lora_parts(_LoRALinear(4, 4, 2, gen, dropout=0.1)) is None
    assert lora.lora_parts(nn.Linear(4, 4)) is None
    two = _LoRALinear(4, 4, 2, gen)
    two.active_adapters = ["default", "other"]
    assert lora.lora_parts(two) is None


def test_shared_input_projections_match_autograd():
    gen = torch.Generator().manual_seed(0)
    mods = [_LoRALinear(12, 12, 3, gen), _LoRALinear(12, 4, 3, gen), _LoRALinear(12, 4, 3, gen)]
    params = [p for m in mods for p in m.parameters() if p.requires_grad]
    x = torch.randn(2, 5, 12, generator=gen, dtype=torch.float64)
    weights = [torch.randn(2, 5, m.base_layer.out_features, generator=gen, dtype=torch.float64) for m in mods]

    def loss(fn):
        return lambda inp: sum((y * w).sum() for y, w in zip(fn(inp), weights))

    fused = _grads(loss(lambda inp: lora.project(inp, mods)), x, params)
    reference = _grads(loss(lambda inp: [m(inp) for m in mods]), x, params)
    for a, b in zip(fused, reference):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)


def test_fused_mlp_matches_autograd():
    gen = torch.Generator().manual_seed(1)
    mlp = _MLP(gen)
    params = [p for p in mlp.parameters() if p.requires_grad]
    x = torch.randn(3, 4, 12, generator=gen, dtype=torch.float64)
    target = torch.randn(3, 4, 12, generator=gen, dtype=torch.float64)
    fused = _grads(lambda inp: (lora.mlp(inp, mlp, TORCH.swiglu, TORCH.swiglu_backward) * target).sum(), x, params)
    reference = _grads(lambda inp: (mlp(inp) * target).sum(), x, params)
    for a, b in zip(fused, reference):
        assert torch.allclose(a, b, rtol=1e-9, atol=1e-12)


def test_input_gradient_skipped_when_not_needed():
    gen = torch.Generator().manual_seed(2)
    mod = _LoRALinear(6, 6, 2, gen)
    x = torch.randn(4, 6, generator=gen, dtype=torch.float64)  # does not require grad
    lora.project(x, [mod])[0].sum().backward()
    assert mod.lora_A["default"].weight.grad is not None and x.grad is None


def test_kernel_self_check_accepts_torch_and_catches_a_wrong_kernel():
    assert self_check(TORCH, torch.device("cpu"), dtype=torch.float64, tol=1e-6) == []
    broken = TORCH.__class__("broken", TORCH.rms_norm, TORCH.rope, lambda g, u: g * u, TORCH.swiglu_backward,
                             TORCH.cross_entropy_sum)
    problems = self_check(broken, torch.device("cpu"), dtype=torch.float64)
    assert any("swiglu" in p for p in problems)


@pytest.mark.parametrize("dtype", [torch.float32])
def test_swiglu_backward_matches_autograd(dtype):
    gen = torch.Generator().manual_seed(3)
    g, u, dh = (torch.randn(5, 7, generator=gen, dtype=dtype) for _ in range(3))
    gi, ui = g.clone().requires_grad_(True), u.clone().requires_grad_(True)
    (TORCH.swiglu(gi, ui) * dh).sum().backward()
    dg, du = TORCH.swiglu_backward(g, u, dh)
    assert torch.allclose(dg, gi.grad, atol=1e-5) and torch.allclose(du, ui.grad, atol=1e-5)


def test_direct_dequant_falls_back_to_dense_weight_off_cuda():
    """Off CUDA (and for non-4-bit weights) the direct-kernel dequantiser is exactly ``dense_weight``;
    its CUDA path is checked bit-exact against bitsandbytes at start-up and by bench/train_throughput.py."""
    from finetune.fast.dequant import _usable, lean_dense_weight
    from finetune.fast.lora import dense_weight

    layer = torch.nn.Linear(8, 4, bias=False)
    assert torch.equal(lean_dense_weight(layer, torch.float32), dense_weight(layer, torch.float32))
    assert lean_dense_weight(layer, torch.bfloat16).dtype == torch.bfloat16
    assert not _usable(layer.weight, torch.bfloat16)
