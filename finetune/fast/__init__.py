"""Fast QLoRA training path for CUDA: patches applied in place to a PEFT/bitsandbytes Llama model.

    from finetune.fast import apply
    report = apply(peft_model, config)       # after LoRA is attached (e.g. on SFTTrainer's model)

What it changes (each lever is a :class:`FastOptions` field, measured by ``bench/train_throughput.py``):

* decoder layers run a hand-written forward: q/k/v and gate/up/down LoRA projections as single
  autograd nodes over dequantised NF4 weights (:mod:`finetune.fast.lora`), Liger's Triton RMSNorm,
  RoPE and SwiGLU kernels when installed (:mod:`finetune.fast.kernels`), SDPA flash attention;
* checkpointing keeps only each layer's input, in pinned CPU memory (:mod:`finetune.fast.checkpoint`);
* NF4 weights are dequantised by direct calls into bitsandbytes' CUDA kernels
  (:mod:`finetune.fast.dequant`, self-checked bit-exact against ``bitsandbytes.functional``);
* the loss is computed from hidden states, never building the full logits (:mod:`finetune.fast.cross_entropy`):
  by default Liger's fused linear cross-entropy kernel when the Liger kernels are in use, else torch in token
  chunks (``FastOptions.cross_entropy``); under TRL's ``SFTTrainer`` its own fused LM head is kept;
* frozen fp32 norms/embeddings (``prepare_model_for_kbit_training`` upcasts them) go back to bf16;
* off by default until a GPU run measures them: FP8 (e4m3) base products (``fp8_base``,
  :mod:`finetune.fast.fp8`) and LoRA weights cast once per pass (``cache_lora_casts``).

Without CUDA (or for an unsupported architecture) nothing is changed and the report says why.
Tokens/s and peak memory against Unsloth and the plain stack, and each lever on and off, are in
``bench/results/train_throughput.json`` and ``train_throughput_details.json`` (notes beside them).
"""

from __future__ import annotations

from typing import Any

from finetune.fast.options import FastOptions

__all__ = ["FastOptions", "apply"]


def _cast_frozen(model, dtype) -> int:
    """Cast frozen floating parameters of higher precision to ``dtype``; returns how many bytes were freed."""
    freed = 0
    for param in model.parameters():
        if not param.requires_grad and param.is_floating_point() and param.element_size() > dtype.itemsize:
            if type(param).__name__ in ("Params4bit", "Int8Params"):
                continue
            freed += param.numel() * (param.element_size() - dtype.itemsize)
            param.data = param.data.to(dtype)
    return freed


def apply(model: Any, config: Any | None = None, *, options: FastOptions | None = None) -> dict:
    """Patch ``model`` (a PEFT model or a transformers causal LM) for fast training; returns a report dict.

    ``config``: a :class:`finetune.config.FinetuneConfig` (maps ``gradient_checkpointing``), or None.
    ``options``: explicit levers (wins over ``config``). The options object stays attached to the
    model: changing its fields later switches levers on the fly (the benchmark does).
    """
    import torch

    from finetune.fast import kernels as kernel_impls
    from finetune.fast.llama import find_causal_lm, patch_model, unsupported_reason

    options = options or FastOptions.from_config(config)
    if not torch.cuda.is_available() and not options.force:
        return {"applied": False, "reason": "CUDA is not available"}
    causal_lm = find_causal_lm(model)
    reason = unsupported_reason(causal_lm)
    if reason:
        return {"applied": False, "reason": reason}
    device = next(causal_lm.parameters()).device
    compute_dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    freed = _cast_frozen(causal_lm, compute_dtype) if options.cast_frozen_to_bf16 and device.type == "cuda" else 0
    kernels = kernel_impls.select(options.kernels, device)
    counts = patch_model(causal_lm, options, kernels)
    return {"applied": True, "kernels": kernels.name, "checkpointing": options.checkpointing,
            "fused_cross_entropy": options.fused_cross_entropy, "cast_freed_mib": round(freed / 2**20, 1), **counts}
