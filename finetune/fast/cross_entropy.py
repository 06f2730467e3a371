"""Causal-LM loss straight from hidden states: the LM head fused with cross-entropy, in token chunks.

The full logits of a 128k vocabulary are 1 GiB in bf16 for 4096 tokens (2 GiB more once upcast);
here at most ``chunk`` rows of them exist at a time. Like Liger's kernel, the gradient of the
hidden states is computed during the forward pass (the loss is the last op), so nothing is
recomputed in backward. :mod:`finetune.fast.kernels` picks Liger's Triton version on CUDA when
installed.

Semantics match transformers' ``ForCausalLMLoss``: labels are shifted left by one, ``-100`` is
ignored, and the summed loss is divided by ``num_items_in_batch`` when given (gradient
accumulation) or by the number of counted tokens.
"""

from __future__ import annotations

import torch

IGNORE_INDEX = -100


_MM_OUT_DTYPE: dict[str, bool] = {}


def _logits(h: torch.Tensor, weight: torch.Tensor, acc: torch.dtype) -> torch.Tensor:
    """``h @ weight.T`` in ``acc``: bf16 inputs multiply straight into fp32 where torch can (CUDA), which
    skips a bf16 logits tensor and its conversion pass; elsewhere multiply, then convert."""
    if h.dtype != acc and h.device.type == "cuda" and _MM_OUT_DTYPE.get("ok", True):
        try:
            return torch.mm(h, weight.t(), out_dtype=acc)
        except (RuntimeError, TypeError, NotImplementedError):
            _MM_OUT_DTYPE["ok"] = False
    return (h @ weight.t()).to(acc)


def chunk_loss_and_grad(logits: torch.Tensor, target: torch.Tensor, out_dtype: torch.dtype):
    """Summed CE of one chunk of fp32 ``logits`` and its gradient w.r.t. them (softmax - one-hot, 0 where
    ``target`` is -100), cast to ``out_dtype``. Written as one expression so that ``torch.compile`` can
    fuse it into a reduction and one elementwise pass (eager runs ~8 passes over the chunk's logits)."""
    valid = target != IGNORE_INDEX
    safe = target.clamp(min=0)
    lse = torch.logsumexp(logits, dim=-1)
    picked = logits.gather(1, safe[:, None]).squeeze(1)
    loss = ((lse - picked) * valid).sum()
    probs = torch.exp(logits - lse[:, None])
    columns = torch.arange(logits.shape[1], device=logits.device)
    grad = torch.where(columns[None, :] == safe[:, None], probs - 1.0, probs) * valid[:, None]
    return loss, grad.to(out_dtype)


_COMPILED: dict[str, object] = {}


def _compiled_chunk():
    """``chunk_loss_and_grad`` through ``torch.compile`` (one compile per process, any chunk length);
    ``None`` once compiling or running it failed, so callers fall back to the eager version."""
    if "fn" not in _COMPILED:
        _COMPILED["fn"] = torch.compile(chunk_loss_and_grad, dynamic=True)
    return _COMPILED["fn"]


class ChunkedLinearCrossEntropy(torch.autograd.Function):
    """Sum over tokens of ``CE(hidden @ weight.T, target)``; ``apply(hidden, weight, target, chunk)``.

    ``hidden``: (tokens, hidden), ``weight``: (vocab, hidden), ``target``: (tokens,) with -100 = ignored.
    """

    @staticmethod
    def forward(ctx, hidden, weight, target, chunk: int, compiled: bool = False):
        need_hidden, need_weight = hidden.requires_grad, weight.requires_grad
        acc = torch.promote_types(hidden.dtype, torch.float32)
        total = torch.zeros((), dtype=acc, device=hidden.device)
        grad_hidden = torch.empty_like(hidden) if need_hidden else None
        grad_weight = torch.zeros(weight.shape, dtype=acc, device=weight.device) if need_weight else None
        for start in range(0, hidden.shape[0], chunk):
            h = hidden[start:start + chunk]
            t = target[start:start + chunk]
            logits = _logits(h, weight, acc)
            fused = _compiled_chunk() if compiled and (need_hidden or need_weight) else None
            if fused is not None:
                try:
                    loss, g = fused(logits, t, hidden.dtype)
                except Exception as exc:  # noqa: BLE001 - any compiler failure: warn once, run eager
                    import warnings

                    warnings.warn(f"compiled cross-entropy failed, using the eager one: {exc!r:.300}", stacklevel=2)
                    _COMPILED["fn"] = None
                    loss, g = chunk_loss_and_grad(logits, t, hidden.dtype)
                total += loss
                del logits
                if need_hidden:
                    grad_hidden[start:start + chunk] = g @ weight.to(hidden.dtype)
                if need_weight:
                    grad_weight += (g.t() @ h).to(acc)
                continue
            valid = t != IGNORE_INDEX
            safe_t = t.clamp(min=0)
            lse = torch.logsumexp(logits, dim=-1)
            picked = logits.gather(1, safe_t[:, None]).squeeze(1)
            total += ((lse - picked) * valid).sum()
            if need_hidden or need_weight:
                probs = logits.sub_(lse[:, None]).exp_()  # softmax, in place of the logits
                probs[torch.arange(len(t), device=t.device), safe_t] -= 1.0
                probs.mul_(valid[:, None])
                g = probs.to(hidden.dtype)
                del probs, logits
                if need_hidden:
                    grad_hidden[start:start + chunk] = g @ weight.to(hidden.dtype)
                if need_weight:
                    grad_weight += (g.t() @ h).to(acc)
        ctx.save_for_backward(*(x for x in (grad_hidden, grad_weight) if x is not None))
        ctx.has = (need_hidden, need_weight)
        ctx.weight_dtype = weight.dtype
        return total

    @staticmethod
    def backward(ctx, grad_total):
        saved = list(ctx.saved_tensors)
        need_hidden, need_weight = ctx.has
        dh = dw = None
        if need_hidden:
            grad_hidden = saved.pop(0)
            dh = grad_hidden * grad_total.to(grad_hidden.dtype)
        if need_weight:
            dw = (saved.pop(0) * grad_total).to(ctx.weight_dtype)
        return dh, dw, None, None, None


def chunked_cross_entropy_sum(hidden, weight, target, chunk: int = 512, compiled: bool = False) -> torch.Tensor:
    """Summed CE of ``hidden @ weight.T`` (tokens x hidden, vocab x hidden) in ``chunk``-token pieces;
    ``compiled``: each chunk's softmax/gradient math through ``torch.compile`` (eager if that fails)."""
    return ChunkedLinearCrossEntropy.apply(hidden, weight, target, chunk, compiled)


def liger_cross_entropy_sum(hidden, weight, target) -> torch.Tensor:
    """The same through Liger's fused linear cross-entropy (Triton; CUDA only)."""
    from liger_kernel.ops.fused_linear_cross_entropy import LigerFusedLinearCrossEntropyFunction

    # positional: input, weight, target, bias, ce_weight, ignore_index, lse_square_scale, label_smoothing, reduction
    return LigerFusedLinearCrossEntropyFunction.apply(hidden, weight, target, None, None, IGNORE_INDEX, 0.0, 0.0,
                                                      "sum")[0]


def causal_lm_loss(hidden: torch.Tensor, weight: torch.Tensor, labels: torch.Tensor, *, num_items_in_batch=None,
                   shift: bool = True, cross_entropy_sum=chunked_cross_entropy_sum) -> torch.Tensor:
    """Mean next-token cross-entropy of ``hidden`` (batch, seq, hidden) under the LM head ``weight``.

    ``shift=False`` when ``labels`` are already aligned with ``hidden`` (transformers' ``shift_labels``).
    ``cross_entropy_sum``: :func:`chunked_cross_entropy_sum` (torch) or :func:`liger_cross_entropy_sum`.
    """
    if shift:
        hidden, labels = hidden[:, :-1], labels[:, 1:]
    hidden = hidden.reshape(-1, hidden.shape[-1])
    if torch.is_autocast_enabled(hidden.device.type):
        hidden = hidden.to(torch.get_autocast_dtype(hidden.device.type))
    weight = weight.to(hidden.dtype) if weight.dtype != hidden.dtype else weight
    target = labels.reshape(-1).to(hidden.device)
    with torch.autocast(hidden.device.type, enabled=False):
        total = cross_entropy_sum(hidden, weight, target)
    if num_items_in_batch is None:
        count = (target != IGNORE_INDEX).sum().clamp(min=1)
    else:
        count = torch.as_tensor(num_items_in_batch, device=total.device)
    return total / count.to(total.dtype)
