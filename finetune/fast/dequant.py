"""NF4/FP4 dequantisation through bitsandbytes' CUDA kernels, called directly.

The fast path dequantises every 4-bit weight three times a step (forward, recomputation,
backward): 588 calls for the 28 layers of Llama-3.2-3B. ``bitsandbytes.functional.dequantize_4bit``
spends most of its time on the host (argument checks, the nested absmax through a dispatched torch
op, the 4-bit op through the dispatcher), which at batch 2 leaves the GPU waiting. Here each call is
two kernel launches straight into bitsandbytes' own library (``lib.cdequantize_blockwise_fp32`` for
the double-quantised absmax, then ``lib.cdequantize_blockwise_<dtype>_<nf4|fp4>``) with the
arguments precomputed once per weight: the same kernels, so the same numbers, without the overhead.

:func:`lean_dense_weight` verifies itself against ``dequantize_4bit`` on the first weight it sees
(bit-exact match required) and falls back to :func:`finetune.fast.lora.dense_weight` for good when
that check fails or bitsandbytes' library lacks the entry points, so a bitsandbytes change can make
training slower, never wrong.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from finetune.fast.lora import dense_weight

_STATE: dict[str, Any] = {"checked": None}  # None: not yet checked; True/False: the self-check result


@dataclass(frozen=True)
class _Plan:
    """Everything one weight's dequantisation needs, read once from its ``QuantState``."""

    packed: torch.Tensor  # uint8 (or other storage) NF4/FP4 codes
    absmax: torch.Tensor  # fp32, or uint8 codes when nested
    code2: torch.Tensor | None  # nested: the 8-bit code of the absmax
    absmax2: torch.Tensor | None  # nested: fp32 absmax of the absmax
    offset: float
    blocksize: int
    blocksize2: int
    quant_type: str
    shape: torch.Size


def _plan(weight: Any) -> _Plan:
    plan = getattr(weight, "_fast_dequant_plan", None)
    if plan is None or plan.packed.data_ptr() != weight.data.data_ptr() \
            or plan.absmax.data_ptr() != weight.quant_state.absmax.data_ptr():  # new plan after a move
        state = weight.quant_state
        nested = bool(getattr(state, "nested", False))
        plan = _Plan(
            packed=weight.data, absmax=state.absmax,
            code2=state.state2.code if nested else None, absmax2=state.state2.absmax if nested else None,
            offset=float(state.offset) if nested else 0.0, blocksize=int(state.blocksize),
            blocksize2=int(state.state2.blocksize) if nested else 0, quant_type=state.quant_type,
            shape=torch.Size(state.shape),
        )
        weight._fast_dequant_plan = plan
    return plan


def _kernels():
    from bitsandbytes.backends.cuda import ops  # noqa: F401  (sets the ctypes signatures used below)
    from bitsandbytes.cextension import lib

    return lib


_SUFFIX = {torch.bfloat16: "bf16", torch.float16: "fp16", torch.float32: "fp32"}


def _direct(weight: Any, dtype: torch.dtype) -> torch.Tensor:
    plan = _plan(weight)
    lib = _kernels()
    device = plan.packed.device
    stream = torch._C._cuda_getCurrentRawStream(device.index)
    absmax = plan.absmax
    if plan.code2 is not None:
        absmax = torch.empty(plan.absmax.shape, dtype=torch.float32, device=device)
        lib.cdequantize_blockwise_fp32(plan.code2.data_ptr(), plan.absmax.data_ptr(), plan.absmax2.data_ptr(),
                                       absmax.data_ptr(), plan.blocksize2, plan.absmax.numel(), stream)
        absmax.add_(plan.offset)
    out = torch.empty(plan.shape, dtype=dtype, device=device)
    fn = getattr(lib, f"cdequantize_blockwise_{_SUFFIX[dtype]}_{plan.quant_type}")
    fn(None, plan.packed.data_ptr(), absmax.data_ptr(), out.data_ptr(), plan.blocksize, out.numel(), stream)
    return out


def _usable(weight: Any, dtype: torch.dtype) -> bool:
    if type(weight).__name__ != "Params4bit" or dtype not in _SUFFIX or weight.device.type != "cuda":
        return False
    state = weight.quant_state
    return (state is not None and state.quant_type in ("nf4", "fp4") and weight.device.index == torch.cuda.current_device()
            and weight.data.is_contiguous())


def _self_check(weight: Any, dtype: torch.dtype) -> bool:
    try:
        import bitsandbytes.functional as bnb_functional

        reference = bnb_functional.dequantize_4bit(weight.data, weight.quant_state).to(dtype)
        ours = _direct(weight, dtype)
        same = ours.shape == reference.shape and torch.equal(ours, reference)
        problem = "" if same else "result differs from bitsandbytes.functional.dequantize_4bit"
    except Exception as exc:  # missing entry point, changed QuantState fields, ...
        same, problem = False, f"{type(exc).__name__}: {exc}"
    if not same:
        print(f"note: direct NF4 dequantisation disabled ({problem}); using bitsandbytes.functional", file=sys.stderr)
    return same


def lean_dense_weight(base: nn.Module, dtype: torch.dtype) -> torch.Tensor:
    """Drop-in for :func:`finetune.fast.lora.dense_weight`: direct kernel calls for CUDA 4-bit weights."""
    weight = base.weight
    if not _usable(weight, dtype):
        return dense_weight(base, dtype)
    if _STATE["checked"] is None:
        _STATE["checked"] = _self_check(weight, dtype)
    if not _STATE["checked"]:
        return dense_weight(base, dtype)
    return _direct(weight, dtype)
