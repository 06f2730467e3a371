"""Elementwise pieces of a Llama block: RMSNorm, RoPE and SwiGLU, from Liger's Triton kernels or torch.

Liger-Kernel (``pip install liger-kernel==0.8.5``; pure Python + Triton) is optional. :func:`select`
returns its kernels only on CUDA and only after they matched the torch versions on random inputs
(forward and backward), so a kernel/Triton mismatch degrades to torch instead of training wrongly.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Callable

import torch

from finetune.fast.cross_entropy import chunked_cross_entropy_sum, liger_cross_entropy_sum
from finetune.fast.lora import swiglu_backward_torch, swiglu_torch


def rms_norm_torch(module, x: torch.Tensor) -> torch.Tensor:
    """HF Llama RMSNorm: statistics in fp32, weight applied in the input dtype."""
    variance = x.float().pow(2).mean(-1, keepdim=True)
    normed = (x.float() * torch.rsqrt(variance + module.variance_epsilon)).to(x.dtype)
    return module.weight.to(x.dtype) * normed


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope_torch(q, k, cos, sin):
    """HF Llama rotary embedding; q/k are (batch, heads, seq, head_dim), cos/sin (batch, seq, head_dim)."""
    cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
    return q * cos + _rotate_half(q) * sin, k * cos + _rotate_half(k) * sin


@dataclass(frozen=True)
class Kernels:
    """One implementation of each piece (``swiglu``/``swiglu_backward`` are autograd-free).

    ``cross_entropy_sum(hidden, weight, target)``: summed CE of ``hidden @ weight.T`` (-100 ignored).
    """

    name: str
    rms_norm: Callable
    rope: Callable
    swiglu: Callable
    swiglu_backward: Callable
    cross_entropy_sum: Callable


TORCH = Kernels("torch", rms_norm_torch, rope_torch, swiglu_torch, swiglu_backward_torch, chunked_cross_entropy_sum)


def _liger() -> Kernels:
    from liger_kernel.ops.rms_norm import LigerRMSNormFunction
    from liger_kernel.ops.rope import LigerRopeFunction
    from liger_kernel.ops.swiglu import swiglu_backward, swiglu_forward

    def rms_norm(module, x):
        return LigerRMSNormFunction.apply(x, module.weight, module.variance_epsilon, 0.0, "llama", True)

    def rope(q, k, cos, sin):
        return LigerRopeFunction.apply(q, k, cos, sin)

    def swiglu(gate, up):
        return swiglu_forward(gate, up)[2]

    return Kernels("liger", rms_norm, rope, swiglu, swiglu_backward, liger_cross_entropy_sum)


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.float() - b.float()).norm() / b.float().norm().clamp_min(1e-12))


def self_check(kernels: Kernels, device: torch.device, dtype=torch.bfloat16, tol: float = 2e-2) -> list[str]:
    """Differences of ``kernels`` from :data:`TORCH` above ``tol`` (relative L2), as messages; [] when all match."""
    gen = torch.Generator(device="cpu").manual_seed(0)

    def rand(*shape):
        return torch.randn(*shape, generator=gen).to(device=device, dtype=dtype)

    problems = []

    class _Norm(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(1 + 0.1 * rand(256), requires_grad=False)
            self.variance_epsilon = 1e-5

    norm = _Norm()
    x = rand(2, 8, 256)
    grad = rand(2, 8, 256)
    outs = []
    for impl in (kernels, TORCH):
        xi = x.clone().requires_grad_(True)
        y = impl.rms_norm(norm, xi)
        y.backward(grad.clone())
        outs.append((y.detach(), xi.grad))
    for label, a, b in (("rms_norm", outs[0][0], outs[1][0]), ("rms_norm grad", outs[0][1], outs[1][1])):
        if _rel(a, b) > tol:
            problems.append(f"{label}: relative error {_rel(a, b):.3g}")

    q, k = rand(2, 4, 8, 64), rand(2, 2, 8, 64)
    angles = torch.arange(8, device=device).float()[:, None] * torch.linspace(0.01, 1, 32, device=device)[None]
    cos = torch.cat([angles.cos()] * 2, -1)[None].expand(2, 8, 64).to(dtype)
    sin = torch.cat([angles.sin()] * 2, -1)[None].expand(2, 8, 64).to(dtype)
    gq, gk = rand(2, 4, 8, 64), rand(2, 2, 8, 64)
    results = []
    for impl in (kernels, TORCH):
        # Liger rotates in place: give each implementation fresh leaf copies, laid out like projections
        qi = q.transpose(1, 2).contiguous().transpose(1, 2).requires_grad_(True)
        ki = k.transpose(1, 2).contiguous().transpose(1, 2).requires_grad_(True)
        qo, ko = impl.rope(qi * 1, ki * 1, cos, sin)
        (qo * gq).sum().add((ko * gk).sum()).backward()
        results.append((qo.detach(), ko.detach(), qi.grad, ki.grad))
    for label, a, b in zip(("rope q", "rope k", "rope dq", "rope dk"), results[0], results[1]):
        if _rel(a, b) > tol:
            problems.append(f"{label}: relative error {_rel(a, b):.3g}")

    gate, up, dh = rand(16, 512), rand(16, 512), rand(16, 512)
    h_ref = TORCH.swiglu(gate, up)
    if _rel(kernels.swiglu(gate.clone(), up.clone()), h_ref) > tol:
        problems.append("swiglu: forward mismatch")
    dg_ref, du_ref = TORCH.swiglu_backward(gate, up, dh)
    dg, du = kernels.swiglu_backward(gate.clone(), up.clone(), dh.clone())
    if _rel(dg, dg_ref) > tol or _rel(du, du_ref) > tol:
        problems.append("swiglu: backward mismatch")

    hidden, weight = rand(40, 64), rand(300, 64) * 0.1
    target = torch.randint(0, 300, (40,), generator=gen).to(device)
    target[::7] = -100
    ce = []
    for impl in (kernels, TORCH):
        hi = hidden.clone().requires_grad_(True)
        loss = impl.cross_entropy_sum(hi, weight, target)
        (loss * 0.5).backward()
        ce.append((loss.detach().float(), hi.grad))
    if _rel(ce[0][0], ce[1][0]) > 1e-2 or _rel(ce[0][1], ce[1][1]) > tol:
        problems.append(f"cross-entropy: loss {float(ce[0][0]):.4f} vs {float(ce[1][0]):.4f}")
    return problems


def select(choice: str, device: torch.device) -> Kernels:
    """Kernels for ``choice`` ('auto' | 'liger' | 'torch') on ``device``; falls back to torch with a note."""
    if choice == "torch" or device.type != "cuda":
        return TORCH
    try:
        kernels = _liger()
    except Exception as exc:  # not installed, or an import-time incompatibility with this torch/Triton
        if choice == "liger" or not isinstance(exc, ImportError):
            print(f"note: Liger kernels unavailable ({type(exc).__name__}: {exc}); using torch", file=sys.stderr)
        return TORCH
    try:
        problems = self_check(kernels, device)
    except Exception as exc:  # a Triton compile/launch failure must not stop training
        problems = [f"{type(exc).__name__}: {exc}"]
    if problems:
        print(f"note: Liger kernels failed the self-check ({'; '.join(problems)}); using torch", file=sys.stderr)
        return TORCH
    return kernels
