"""Switches of the fast CUDA training path (pure data: no torch import).

Every lever is a field, so the benchmark can turn them off one at a time on one loaded model
(``bench/train_throughput.py`` measures each) and the trainer can map its own flags onto them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass
class FastOptions:
    """Levers of :func:`finetune.fast.apply`; each is read on every forward, so it can be changed live."""

    enabled: bool = field(
        default=True,
        metadata={"help": "Master switch: False runs the original transformers/PEFT forward (with the trainer's own "
                          "gradient checkpointing), e.g. to compare both paths on one loaded model."},
    )
    checkpointing: Literal["offload", "recompute", "none"] = field(
        default="offload",
        metadata={"help": "'offload': keep each decoder layer's input in pinned CPU memory and recompute the layer "
                          "in backward; 'recompute': the same with the input kept on the GPU; 'none': keep all "
                          "activations (fastest, most memory)."},
    )
    fused_lora: bool = field(
        default=True,
        metadata={"help": "Hand-written autograd for NF4/LoRA projections (q/k/v share one input pass, gate/up/down "
                          "fused with SwiGLU); no dequantised weight or fp32 copy is kept for backward."},
    )
    direct_dequant: bool = field(
        default=True,
        metadata={"help": "Dequantise NF4 weights by calling bitsandbytes' CUDA kernels directly (two launches, "
                          "arguments precomputed per weight) instead of through bitsandbytes.functional, whose "
                          "host-side overhead over ~600 calls a step leaves the GPU idle at small batches. "
                          "Self-checked bit-exact against bitsandbytes at start-up."},
    )
    fp8_base: Literal["off", "forward", "backward", "all"] = field(
        default="off",
        metadata={"help": "Frozen base products in FP8 (e4m3, row-wise scales) through torch._scaled_mm on cards of "
                          "compute capability >= 8.9: 'forward' (forward and its recomputation), 'backward' (the "
                          "input gradient only), 'all' (both) or 'off'. LoRA and all trainable maths stay bf16. Off by "
                          "default until a device run measures its speed and loss (finetune/fast/fp8.py)."},
    )
    cache_lora_casts: bool = field(
        default=False,
        metadata={"help": "Cast the fp32 LoRA weights to the compute dtype once per forward pass and reuse the copies "
                          "in recomputation and backward (784 fewer cast kernels a step for Llama-3.2-3B, host time "
                          "at batch 2); +1 bf16 adapter copy. Off until a device run measures it."},
    )
    kernels: Literal["auto", "liger", "torch"] = field(
        default="auto",
        metadata={"help": "RMSNorm/RoPE/SwiGLU implementation: Liger's Triton kernels when installed and they pass "
                          "a start-up self-check ('auto'), or plain torch ops."},
    )
    fused_cross_entropy: bool = field(
        default=True,
        metadata={"help": "Loss from hidden states in token chunks (LM head fused with cross-entropy): the "
                          "(tokens x vocab) logits are never materialised. Liger's kernel when available."},
    )
    cross_entropy: Literal["chunked", "compiled", "liger"] = field(
        default="liger",
        metadata={"help": "Fused LM-head loss implementation: 'liger' (Liger's Triton kernel when the Liger kernels "
                          "are in use, else 'chunked'; one pass over each chunk's logits, faster at batch 4 on an "
                          "H100), 'chunked' (torch, ``cross_entropy_chunk`` tokens at a time, ~8 elementwise passes "
                          "over each chunk's logits) or 'compiled' (the same, that math fused by torch.compile; eager "
                          "if compiling fails). Measured in bench/results/train_throughput_details.json (notes: "
                          "train_throughput_notes.md)."},
    )
    cross_entropy_chunk: int = field(
        default=256,
        metadata={"help": "Tokens per chunk of the 'chunked' loss: at most chunk x vocab fp32 logits exist at once "
                          "(128 MiB for 256 x 128k)."},
    )
    cast_frozen_to_bf16: bool = field(
        default=True,
        metadata={"help": "Cast frozen fp32 norms/embeddings (prepare_model_for_kbit_training upcasts them) back "
                          "to the bf16 compute dtype: the tied 128k x 3072 embedding alone is 1.47 GiB in fp32, "
                          "0.73 GiB in bf16."},
    )
    force: bool = field(default=False, metadata={"help": "Apply without CUDA too (tests on CPU)."})

    @classmethod
    def from_config(cls, config: Any | None) -> "FastOptions":
        """Options for a :class:`finetune.config.FinetuneConfig` (or None: defaults).

        ``gradient_checkpointing`` off means no recomputation at all; on means offloaded checkpointing.
        """
        options = cls()
        train = getattr(config, "train", None)
        if train is not None and not getattr(train, "gradient_checkpointing", True):
            options.checkpointing = "none"
        return options
