"""Hand-written autograd for (NF4-quantised) linear layers with a LoRA adapter.

``y = x W^T + s (x A^T) B^T`` with a frozen ``W`` (bitsandbytes ``Params4bit`` or a plain weight) and
trainable ``A`` (r x in), ``B`` (out x r). Compared with PEFT + bitsandbytes modules:

* projections that read the same input (q/k/v; gate/up) share one ``x A^T`` product;
* the LoRA term is added in place (``addmm_``) instead of three extra passes over the output;
* only ``x`` and the rank-r products are kept for backward; ``W`` is dequantised again there;
* the MLP (gate/up -> SwiGLU -> down) is one function: the SwiGLU output is recomputed in backward.

Gradients: ``dx = dy W + s (dy B) A``, ``dA = s (dy B)^T x``, ``dB = s dy^T (x A^T)``.
Everything runs in ``x``'s dtype (bf16 on GPU); master LoRA weights may be fp32 (cast per call).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import nn


@dataclass
class LoRAParts:
    """A PEFT LoRA layer taken apart: frozen base, adapter weights and scale."""

    base: nn.Module
    A: torch.Tensor
    B: torch.Tensor
    scaling: float


def lora_parts(module: nn.Module) -> LoRAParts | None:
    """The parts of a plain PEFT LoRA layer, or None where the fused path does not apply.

    Applies to one active vanilla adapter (no DoRA/variants, no LoRA bias, dropout 0) on a bias-free
    base whose weight is a float tensor or a bitsandbytes 4-bit ``Params4bit``.
    """
    lora_A = getattr(module, "lora_A", None)
    base = getattr(module, "base_layer", None)
    if lora_A is None or base is None or getattr(module, "merged", False) or getattr(module, "disable_adapters", False):
        return None
    active = list(getattr(module, "active_adapters", []))
    if len(active) != 1 or active[0] not in lora_A:
        return None
    name = active[0]
    if name in getattr(module, "lora_variant", {}) or getattr(module, "use_dora", {}).get(name, False):
        return None
    if getattr(module, "lora_bias", {}).get(name, False) or getattr(base, "bias", None) is not None:
        return None
    dropout = module.lora_dropout[name]
    if not isinstance(dropout, nn.Identity) and not (isinstance(dropout, nn.Dropout) and dropout.p == 0):
        return None
    weight = getattr(base, "weight", None)
    if weight is None or not (type(weight).__name__ == "Params4bit" or weight.is_floating_point()):
        return None
    return LoRAParts(base, lora_A[name].weight, module.lora_B[name].weight, float(module.scaling[name]))


def dense_weight(base: nn.Module, dtype: torch.dtype) -> torch.Tensor:
    """The base layer's weight (out x in) in ``dtype``; NF4/FP4 weights are dequantised (a new tensor)."""
    weight = base.weight
    if type(weight).__name__ == "Params4bit":
        import bitsandbytes.functional as bnb_functional

        return bnb_functional.dequantize_4bit(weight.data, weight.quant_state).to(dtype)
    return weight.to(dtype)


class DenseMatmul:
    """The frozen base products in the input's dtype, over the weight ``dequant(base, dtype)`` returns.

    The protocol the autograd functions below call (:class:`finetune.fast.fp8.Fp8Matmul` is the other):
    ``prepare(x2)`` once per shared input, ``forward(prepared, base)`` per projection (``x2 W^T``) and
    ``input_grad(grad, base, dx)`` (``dx + grad W``, accumulated in place; ``grad W`` when ``dx`` is None).
    """

    def __init__(self, dequant: Callable = dense_weight):
        self.dequant = dequant

    def prepare(self, x2: torch.Tensor) -> torch.Tensor:
        return x2

    def forward(self, prepared: torch.Tensor, base: nn.Module) -> torch.Tensor:
        weight = self.dequant(base, prepared.dtype)
        return prepared @ weight.t()

    def input_grad(self, grad: torch.Tensor, base: nn.Module, dx: torch.Tensor | None) -> torch.Tensor:
        weight = self.dequant(base, grad.dtype)
        return grad @ weight if dx is None else dx.addmm_(grad, weight)


DENSE = DenseMatmul()


def _forward_shared(x2: torch.Tensor, bases, scalings, As, Bs, matmul=DENSE
                    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Outputs of several LoRA projections of one input ``x2`` (tokens x in), and the shared ``x A^T``."""
    xa = x2 @ (torch.cat(As, 0) if len(As) > 1 else As[0]).t()
    prepared = matmul.prepare(x2)
    outs, offset = [], 0
    for base, scale, A, B in zip(bases, scalings, As, Bs):
        rank = A.shape[0]
        y = matmul.forward(prepared, base)
        y.addmm_(xa[:, offset:offset + rank], B.t(), alpha=scale)
        outs.append(y)
        offset += rank
    return xa, outs


def _backward_shared(x2, xa, grads, bases, scalings, As, Bs, need_x: bool, need_ab: list[bool], matmul=DENSE):
    """``dx`` (or None) and ``[dA0, dB0, dA1, ...]`` for :func:`_forward_shared`."""
    dx, ab_grads, offset = None, [], 0
    for index, (grad, base, scale, A, B) in enumerate(zip(grads, bases, scalings, As, Bs)):
        rank = A.shape[0]
        if grad is None:
            ab_grads += [None, None]
            offset += rank
            continue
        gB = grad @ B  # tokens x r
        dA = (gB.t() @ x2).mul_(scale) if need_ab[2 * index] else None
        dB = (grad.t() @ xa[:, offset:offset + rank]).mul_(scale) if need_ab[2 * index + 1] else None
        ab_grads += [dA, dB]
        if need_x:
            dx = matmul.input_grad(grad, base, dx)
            dx.addmm_(gB, A, alpha=scale)
        offset += rank
    return dx, ab_grads


_CAST_CACHE: dict[str, dict | None] = {"copies": None}  # None: off; else (id, dtype) -> (tensor, copy)


def begin_pass(cache_casts: bool) -> None:
    """Start a training forward pass: forget the LoRA weight copies of the last one (``cache_casts``: keep
    this pass's, so recomputation and backward reuse them instead of casting each weight twice more).

    Called by the first decoder layer's forward, so the cache never outlives an optimizer step whatever the
    optimizer (one that writes through raw pointers, like bitsandbytes' 8-bit AdamW, bumps no version
    counter, so versions cannot be trusted). Costs one bf16 copy of the adapter (49 MB for Llama-3.2-3B r16).
    """
    _CAST_CACHE["copies"] = {} if cache_casts else None


def _cast(tensors, dtype) -> list[torch.Tensor]:
    copies = _CAST_CACHE["copies"]
    if copies is None:
        return [t.to(dtype) for t in tensors]
    out = []
    for t in tensors:
        entry = copies.get((id(t), dtype))
        if entry is None or entry[0] is not t:
            entry = copies[(id(t), dtype)] = (t, t.detach().to(dtype))
        out.append(entry[1])
    return out


class LoRAProjections(torch.autograd.Function):
    """Several LoRA projections of one input: ``apply(x, bases, scalings, matmul, A0, B0, A1, B1, ...)``.

    ``matmul``: the base products (:class:`DenseMatmul` over a dequantiser, or FP8).
    """

    @staticmethod
    def forward(ctx, x, bases, scalings, matmul, *ab):
        shape = x.shape
        x2 = x.reshape(-1, shape[-1])
        As, Bs = _cast(ab[0::2], x.dtype), _cast(ab[1::2], x.dtype)
        xa, outs = _forward_shared(x2, bases, scalings, As, Bs, matmul)
        ctx.save_for_backward(x2, xa, *ab)
        ctx.bases, ctx.scalings, ctx.shape, ctx.matmul = bases, scalings, shape, matmul
        return tuple(y.view(*shape[:-1], y.shape[-1]) for y in outs)

    @staticmethod
    def backward(ctx, *grads):
        x2, xa, *ab = ctx.saved_tensors
        dtype = x2.dtype
        As, Bs = _cast(ab[0::2], dtype), _cast(ab[1::2], dtype)
        grads2 = [None if g is None else g.reshape(-1, g.shape[-1]).to(dtype) for g in grads]
        dx, ab_grads = _backward_shared(x2, xa, grads2, ctx.bases, ctx.scalings, As, Bs,
                                        ctx.needs_input_grad[0], list(ctx.needs_input_grad[4:]), ctx.matmul)
        ab_grads = [None if g is None else g.to(t.dtype) for g, t in zip(ab_grads, ab)]
        return (None if dx is None else dx.view(ctx.shape), None, None, None, *ab_grads)


def swiglu_torch(gate: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.silu(gate) * up


def swiglu_backward_torch(gate: torch.Tensor, up: torch.Tensor, dh: torch.Tensor):
    """``(dgate, dup)`` of ``silu(gate) * up`` (computed in at least fp32, returned in the input dtype)."""
    acc = torch.promote_types(gate.dtype, torch.float32)
    g = gate.to(acc)
    sig = torch.sigmoid(g)
    silu = g * sig
    dhf = dh.to(acc)
    dup = (dhf * silu).to(up.dtype)
    dgate = (dhf * up.to(acc) * sig * (1 + g * (1 - sig))).to(gate.dtype)
    return dgate, dup


class LoRAMLP(torch.autograd.Function):
    """``down(silu(gate(x)) * up(x))`` with LoRA on all three projections.

    ``apply(x, bases, scalings, swiglu, swiglu_backward, matmul, Ag, Bg, Au, Bu, Ad, Bd)``; ``swiglu_backward``
    may overwrite its ``gate``/``up`` arguments with the gradients (Liger's kernel does).
    """

    @staticmethod
    def forward(ctx, x, bases, scalings, swiglu: Callable, swiglu_backward: Callable, matmul, *ab):
        shape = x.shape
        x2 = x.reshape(-1, shape[-1])
        As, Bs = _cast(ab[0::2], x.dtype), _cast(ab[1::2], x.dtype)
        xa, (gate, up) = _forward_shared(x2, bases[:2], scalings[:2], As[:2], Bs[:2], matmul)
        hidden = swiglu(gate, up)
        ha, (y,) = _forward_shared(hidden, bases[2:], scalings[2:], As[2:], Bs[2:], matmul)
        del hidden
        ctx.save_for_backward(x2, xa, gate, up, ha, *ab)
        ctx.bases, ctx.scalings, ctx.shape = bases, scalings, shape
        ctx.swiglu, ctx.swiglu_backward, ctx.matmul = swiglu, swiglu_backward, matmul
        return y.view(*shape[:-1], y.shape[-1])

    @staticmethod
    def backward(ctx, dy):
        x2, xa, gate, up, ha, *ab = ctx.saved_tensors
        dtype = x2.dtype
        As, Bs = _cast(ab[0::2], dtype), _cast(ab[1::2], dtype)
        need_ab = list(ctx.needs_input_grad[6:])
        dy2 = dy.reshape(-1, dy.shape[-1]).to(dtype)
        hidden = ctx.swiglu(gate, up)  # recomputed: cheaper than keeping it
        dh, down_grads = _backward_shared(hidden, ha, [dy2], ctx.bases[2:], ctx.scalings[2:], As[2:], Bs[2:],
                                          True, need_ab[4:], ctx.matmul)
        del hidden
        dgate, dup = ctx.swiglu_backward(gate, up, dh)
        del dh
        dx, gate_up_grads = _backward_shared(x2, xa, [dgate, dup], ctx.bases[:2], ctx.scalings[:2], As[:2], Bs[:2],
                                             ctx.needs_input_grad[0], need_ab[:4], ctx.matmul)
        ab_grads = [None if g is None else g.to(t.dtype) for g, t in zip(gate_up_grads + down_grads, ab)]
        return (None if dx is None else dx.view(ctx.shape), None, None, None, None, None, *ab_grads)


def _compute_dtype(x: torch.Tensor) -> torch.dtype:
    if torch.is_autocast_enabled(x.device.type):
        return torch.get_autocast_dtype(x.device.type)
    return x.dtype


def project(x: torch.Tensor, modules: list[nn.Module], fused: bool = True,
            matmul: DenseMatmul = DENSE) -> list[torch.Tensor]:
    """Outputs of ``modules`` (LoRA layers) on ``x``; one fused autograd node when all of them allow it."""
    parts = [lora_parts(m) for m in modules] if fused else [None]
    if any(p is None for p in parts):
        return [m(x) for m in modules]
    x = x.to(_compute_dtype(x))
    ab: list[Any] = []
    for p in parts:
        ab += [p.A, p.B]
    with torch.autocast(x.device.type, enabled=False):
        return list(LoRAProjections.apply(x, [p.base for p in parts], [p.scaling for p in parts], matmul, *ab))


def mlp(x: torch.Tensor, module: nn.Module, swiglu: Callable, swiglu_backward: Callable,
        fused: bool = True, matmul: DenseMatmul = DENSE) -> torch.Tensor:
    """A Llama MLP (``gate_proj``/``up_proj``/``down_proj``, SiLU) on ``x``; fused when all three are LoRA layers."""
    modules = [module.gate_proj, module.up_proj, module.down_proj]
    parts = [lora_parts(m) for m in modules] if fused else [None]
    if any(p is None for p in parts):
        return module.down_proj(module.act_fn(module.gate_proj(x)) * module.up_proj(x))
    x = x.to(_compute_dtype(x))
    ab: list[Any] = []
    for p in parts:
        ab += [p.A, p.B]
    with torch.autocast(x.device.type, enabled=False):
        return LoRAMLP.apply(x, [p.base for p in parts], [p.scaling for p in parts], swiglu, swiglu_backward,
                             matmul, *ab)
