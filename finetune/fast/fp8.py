"""FP8 (e4m3) products for the frozen base weights of the fast path: forward and input gradient.

Hopper (and Ada) tensor cores multiply e4m3 at twice the bf16 rate, and the frozen base products
``x W^T`` (forward and its recomputation) and ``dy W`` (input gradient) are most of a QLoRA step's
FLOPs. :class:`Fp8Matmul` is a drop-in for :class:`finetune.fast.lora.DenseMatmul`: each NF4 weight is
dequantised as before, then scaled and cast to e4m3, and the product runs through ``torch._scaled_mm``
with bf16 output. The LoRA branch, the weight gradients of ``A``/``B`` and everything trainable stay in
the input's dtype (bf16).

Scaling is per row, which is what ``torch._scaled_mm`` takes for both operands ((M x 1) and (1 x N)
fp32 scales): activations and output gradients get one scale per token, the weight one per output
channel in the forward product and one per input channel in the input-gradient product (a scale must
sit on a dimension that is not summed over, so backward quantises ``W^T``). Each scale maps the row's
largest magnitude to 448, e4m3's largest finite value, so nothing saturates and rows of very
different size (tokens, channels) keep their own range.

Falls back to the dense product, for good, where FP8 cannot run: a CUDA card below compute capability
8.9, a torch without ``_scaled_mm``, a dimension that is not a multiple of 16, or a failed start-up
self-check (the first product compared with the dense one), so a torch change can make training slower,
never wrong. The CPU build of torch also runs ``_scaled_mm``, which is how the tests check the numerics.
"""

from __future__ import annotations

import sys
from typing import Callable

import torch

from finetune.fast.lora import DenseMatmul, dense_weight

E4M3 = torch.float8_e4m3fn
E4M3_MAX = 448.0  # torch.finfo(torch.float8_e4m3fn).max
_TINY = 1e-12  # floor of a row's largest magnitude: an all-zero row gets a finite scale
SELF_CHECK_TOLERANCE = 0.125  # relative L2 of one product vs dense; e4m3 rounding gives ~0.03-0.05
_STATE: dict[str, object] = {}  # "device:<type>" -> bool (can run), "checked" -> bool (self-check result)


def quantize_rows(t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(q, scale)`` with ``t ~ q * scale``: ``q`` e4m3 (contiguous), ``scale`` fp32 (rows x 1).

    Each row's largest magnitude maps to 448; the product runs in fp32, so the only rounding is e4m3's.
    """
    amax = t.abs().amax(dim=1, keepdim=True).float().clamp_(min=_TINY)
    inverse = E4M3_MAX / amax
    q = (t.float() * inverse).clamp_(-E4M3_MAX, E4M3_MAX).to(E4M3).contiguous()
    return q, inverse.reciprocal_()


def dequantize_rows(q: torch.Tensor, scale: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The inverse of :func:`quantize_rows` (tests and checks)."""
    return (q.float() * scale).to(dtype)


def scaled_product(a: tuple[torch.Tensor, torch.Tensor], b: tuple[torch.Tensor, torch.Tensor],
                   dtype: torch.dtype) -> torch.Tensor:
    """``A B^T`` from row-quantised ``A`` (M x K) and ``B`` (N x K): one FP8 tensor-core product.

    ``torch._scaled_mm`` wants its second operand column-major: ``B^T`` of a row-major ``B`` is.
    """
    (a_q, a_scale), (b_q, b_scale) = a, b
    return torch._scaled_mm(a_q, b_q.t(), scale_a=a_scale, scale_b=b_scale.t(), out_dtype=dtype)


def device_supported(device: torch.device) -> bool:
    """Whether ``torch._scaled_mm`` runs on ``device`` (CUDA: compute capability >= 8.9); probed once."""
    key = f"device:{device.type}:{device.index}"
    if key not in _STATE:
        ok = hasattr(torch, "_scaled_mm")
        if ok and device.type == "cuda":
            ok = torch.cuda.get_device_capability(device) >= (8, 9)
        if ok:
            try:
                probe = torch.ones(16, 16, device=device)
                q = quantize_rows(probe)
                ok = bool(torch.allclose(scaled_product(q, q, torch.float32 if device.type == "cpu"
                                                        else torch.bfloat16).float(), probe @ probe.t()))
            except (RuntimeError, NotImplementedError, TypeError):
                ok = False
        _STATE[key] = ok
    return bool(_STATE[key])


def _output_dtype_ok(dtype: torch.dtype, device: torch.device) -> bool:
    # CUDA's row-wise scaled product writes bf16 only; the CPU kernel takes fp32 too (tests)
    return dtype == torch.bfloat16 or (device.type == "cpu" and dtype == torch.float32)


def _compiled(fn: Callable) -> Callable:
    """``fn`` through torch.compile (one fused kernel instead of ~5 eager passes); eager if compiling fails."""
    try:
        compiled = torch.compile(fn, dynamic=True)
    except Exception as exc:  # no compiler backend in this torch build
        print(f"note: FP8 quantisation runs eagerly ({type(exc).__name__}: {exc})", file=sys.stderr)
        return fn
    state = {"fn": compiled}

    def call(t):
        try:
            return state["fn"](t)
        except Exception as exc:  # compile errors surface on the first call
            print(f"note: FP8 quantisation runs eagerly ({type(exc).__name__}: {str(exc)[:200]})", file=sys.stderr)
            state["fn"] = fn
            return fn(t)

    return call


class Fp8Matmul:
    """Base products in FP8 (``forward``: forward and recomputation; ``backward``: the input gradient); the
    protocol of :class:`DenseMatmul`. ``compiled``: quantise through torch.compile (CUDA); eager for CPU tests.
    """

    def __init__(self, dequant: Callable = dense_weight, backward: bool = True, compiled: bool = False,
                 forward: bool = True):
        self.dense = DenseMatmul(dequant)
        self.dequant = dequant
        self.forward_fp8, self.backward = forward, backward
        self.quantize = _compiled(quantize_rows) if compiled else quantize_rows

    def _usable(self, t: torch.Tensor, out_features: int) -> bool:
        if _STATE.get("checked") is False or not _output_dtype_ok(t.dtype, t.device):
            return False
        return t.shape[-1] % 16 == 0 and out_features % 16 == 0 and device_supported(t.device)

    def prepare(self, x2: torch.Tensor):
        """``x2`` and, once for all projections that share it, its row-quantised copy (None: dense)."""
        usable = self.forward_fp8 and x2.dim() == 2 and x2.shape[1] % 16 == 0 and self._usable(x2, 16)
        return x2, (self.quantize(x2) if usable else None)

    def forward(self, prepared, base) -> torch.Tensor:
        x2, x_q = prepared
        weight = self.dequant(base, x2.dtype)
        if x_q is None or not self._usable(x2, weight.shape[0]):
            return x2 @ weight.t()
        return _checked(scaled_product(x_q, self.quantize(weight), x2.dtype), lambda: x2 @ weight.t())

    def input_grad(self, grad: torch.Tensor, base, dx: torch.Tensor | None) -> torch.Tensor:
        """``dx + grad W`` (or ``grad W`` when ``dx`` is None)."""
        if not self.backward or not self._usable(grad, 16):
            return self.dense.input_grad(grad, base, dx)
        weight = self.dequant(base, grad.dtype)
        if weight.shape[1] % 16:
            return grad @ weight if dx is None else dx.addmm_(grad, weight)
        product = _checked(scaled_product(self.quantize(grad), self.quantize(weight.t()), grad.dtype),
                           lambda: grad @ weight)
        return product if dx is None else dx.add_(product)


def _checked(product: torch.Tensor, dense: Callable[[], torch.Tensor]) -> torch.Tensor:
    """``product``, compared once per process with the dense product (which replaces it if the check fails)."""
    if _STATE.get("checked") is None:
        _STATE["checked"] = _self_check(product, dense())
        if not _STATE["checked"]:
            return dense()
    return product


def _self_check(fp8: torch.Tensor, dense: torch.Tensor) -> bool:
    error = float((fp8.float() - dense.float()).norm() / dense.float().norm().clamp(min=_TINY))
    ok = error == error and error < SELF_CHECK_TOLERANCE
    if not ok:
        print(f"note: FP8 base products disabled (relative error {error:.3g} vs the dense product)", file=sys.stderr)
    return ok


def reset() -> None:
    """Forget the probes and the self-check (tests)."""
    _STATE.clear()
