"""The fast training forward of Llama-family decoder layers and of the causal-LM head.

:func:`patch_model` swaps each decoder layer's class for a subclass whose ``forward`` runs
:func:`layer_body` (fused LoRA projections, fused kernels, SDPA attention) under offloaded
checkpointing, and wraps the causal LM's ``forward`` so that a training call with ``labels``
gets its loss from :func:`finetune.fast.cross_entropy.causal_lm_loss` (no logits). Anything the
fast forward does not cover (evaluation, generation with a KV cache, 2-D attention masks of
flash-attention, an adapter on the LM head) runs the original transformers code.

The subclass reports ``gradient_checkpointing = False`` to transformers whatever the trainer sets,
since the fast forward does its own (offloaded) checkpointing: otherwise each layer would be
checkpointed twice.
"""

from __future__ import annotations

import functools
from typing import Any

import torch
import torch.nn.functional as F

from finetune.fast import fp8, lora
from finetune.fast.checkpoint import checkpoint
from finetune.fast.dequant import lean_dense_weight
from finetune.fast.cross_entropy import causal_lm_loss, chunked_cross_entropy_sum
from finetune.fast.kernels import Kernels
from finetune.fast.options import FastOptions

SUPPORTED_MODEL_TYPES = ("llama", "mistral")
_FAST_CLASSES: dict[type, type] = {}


def _attention(attn, q, k, v, mask):
    """Causal SDPA (flash kernel when there is no mask); ``mask`` is transformers' 4-D SDPA mask or None."""
    groups = attn.num_key_value_groups
    if mask is None:
        return F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=attn.scaling, enable_gqa=groups > 1)
    if groups > 1:
        k = k.repeat_interleave(groups, dim=1)
        v = v.repeat_interleave(groups, dim=1)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=attn.scaling)


@functools.lru_cache(maxsize=None)
def _base_matmul(direct_dequant: bool, fp8_mode: str, cuda: bool) -> lora.DenseMatmul:
    """The base-product strategy for these options (one object each: options may change between steps)."""
    dequant = lean_dense_weight if direct_dequant else lora.dense_weight
    if fp8_mode == "off":
        return lora.DenseMatmul(dequant)
    return fp8.Fp8Matmul(dequant, forward=fp8_mode in ("forward", "all"), backward=fp8_mode in ("backward", "all"),
                         compiled=cuda)


def base_matmul(options: FastOptions, device: torch.device) -> lora.DenseMatmul:
    return _base_matmul(options.direct_dequant, options.fp8_base, device.type == "cuda")


def layer_body(layer, hidden: torch.Tensor, mask, position_embeddings, options: FastOptions,
               kernels: Kernels) -> torch.Tensor:
    """One Llama decoder layer (pre-norm attention + SwiGLU MLP, residuals) for training."""
    attn, fused = layer.self_attn, options.fused_lora
    matmul = base_matmul(options, hidden.device)
    batch, seq = hidden.shape[:2]
    normed = kernels.rms_norm(layer.input_layernorm, hidden)
    q, k, v = lora.project(normed, [attn.q_proj, attn.k_proj, attn.v_proj], fused, matmul)
    q = q.view(batch, seq, -1, attn.head_dim).transpose(1, 2)
    k = k.view(batch, seq, -1, attn.head_dim).transpose(1, 2)
    v = v.view(batch, seq, -1, attn.head_dim).transpose(1, 2)
    cos, sin = position_embeddings
    q, k = kernels.rope(q, k, cos.to(q.dtype), sin.to(q.dtype))
    out = _attention(attn, q, k, v, mask).transpose(1, 2).reshape(batch, seq, -1)
    hidden = hidden + lora.project(out, [attn.o_proj], fused, matmul)[0]
    normed = kernels.rms_norm(layer.post_attention_layernorm, hidden)
    return hidden + lora.mlp(normed, layer.mlp, kernels.swiglu, kernels.swiglu_backward, fused, matmul)


def _fast_layer_forward(self, hidden_states, *args, attention_mask=None, position_embeddings=None, **kwargs):
    options: FastOptions = self._fast_options
    mask_ok = attention_mask is None or (torch.is_tensor(attention_mask) and attention_mask.dim() == 4)
    usable = mask_ok and position_embeddings is not None and not args
    if not (options.enabled and usable and self.training and torch.is_grad_enabled()):
        return self._fast_original_forward(hidden_states, *args, attention_mask=attention_mask,
                                           position_embeddings=position_embeddings, **kwargs)
    kernels = self._fast_kernels
    if self.__dict__.get("_fast_first_layer"):
        lora.begin_pass(options.cache_lora_casts)

    def run(hidden):
        return layer_body(self, hidden, attention_mask, position_embeddings, options, kernels)

    if options.checkpointing == "none":
        return run(hidden_states)
    return checkpoint(run, hidden_states, offload=options.checkpointing == "offload")


def _fast_class(cls: type) -> type:
    """A subclass of a decoder-layer class with the fast forward and checkpointing switched off for transformers."""
    if cls not in _FAST_CLASSES:
        original = cls.forward

        def _original_forward(self, *args, **kwargs):
            return original(self, *args, **kwargs)

        def _get(self):
            # transformers' own checkpointing only runs when the fast path is switched off
            options = self.__dict__.get("_fast_options")
            return options is not None and not options.enabled and self.__dict__.get("_fast_hf_checkpointing", False)

        def _set(self, value):
            self.__dict__["_fast_hf_checkpointing"] = value

        _FAST_CLASSES[cls] = type(f"Fast{cls.__name__}", (cls,), {
            "forward": _fast_layer_forward,
            "_fast_original_forward": _original_forward,
            "gradient_checkpointing": property(_get, _set),
        })
    return _FAST_CLASSES[cls]


def _fast_causal_lm_forward(self, *args, labels=None, **kwargs):
    """Training calls with labels: loss from hidden states (no logits). Everything else: the previous forward."""
    previous = self._fast_previous_forward
    options: FastOptions = self._fast_options
    head_has_adapter = hasattr(self.lm_head, "base_layer")
    unsupported = ("fused_lm_head", "logits_to_keep", "return_dict", "output_attentions", "output_hidden_states")
    training = self.training and torch.is_grad_enabled()
    if (labels is None or not options.enabled or not options.fused_cross_entropy or not training
            or head_has_adapter or any(kwargs.get(key) for key in unsupported)):
        return previous(*args, labels=labels, **kwargs)
    from transformers.modeling_outputs import CausalLMOutputWithPast

    if args:
        kwargs["input_ids"] = args[0]
    num_items_in_batch = kwargs.pop("num_items_in_batch", None)
    shift_labels = kwargs.pop("shift_labels", None)
    kwargs.pop("use_cache", None)
    for key in unsupported:
        kwargs.pop(key, None)
    outputs = self.model(use_cache=False, **kwargs)
    kernels: Kernels = self.model.layers[0]._fast_kernels
    if options.cross_entropy == "liger" and kernels.name == "liger":
        cross_entropy_sum = kernels.cross_entropy_sum
    else:
        cross_entropy_sum = functools.partial(chunked_cross_entropy_sum, chunk=options.cross_entropy_chunk,
                                              compiled=options.cross_entropy == "compiled")
    loss = causal_lm_loss(outputs.last_hidden_state, self.lm_head.weight,
                          labels if shift_labels is None else shift_labels, num_items_in_batch=num_items_in_batch,
                          shift=shift_labels is None, cross_entropy_sum=cross_entropy_sum)
    return CausalLMOutputWithPast(loss=loss, logits=None)


def find_causal_lm(model) -> Any:
    """The transformers causal LM inside ``model`` (a PEFT wrapper, or the model itself)."""
    base = model
    while hasattr(base, "get_base_model") and base.get_base_model() is not base:
        base = base.get_base_model()
    return base


def unsupported_reason(causal_lm) -> str | None:
    """Why the fast forward cannot run on ``causal_lm`` (None when it can)."""
    config = getattr(causal_lm, "config", None)
    model_type = getattr(config, "model_type", None)
    if model_type not in SUPPORTED_MODEL_TYPES:
        return f"model type {model_type!r} is not supported (only {', '.join(SUPPORTED_MODEL_TYPES)})"
    if getattr(config, "sliding_window", None):
        return "sliding-window attention is not supported"
    if getattr(config, "hidden_act", "silu") != "silu":
        return f"activation {config.hidden_act!r} is not SiLU"
    layers = getattr(getattr(causal_lm, "model", None), "layers", None)
    if not layers:
        return "no decoder layers found at model.model.layers"
    return None


def patch_model(causal_lm, options: FastOptions, kernels: Kernels) -> dict:
    """Install the fast forwards on ``causal_lm`` (in place); returns counts for the report."""
    layers = causal_lm.model.layers
    fused = 0
    for index, layer in enumerate(layers):
        if not isinstance(type(layer), type) or type(layer) not in _FAST_CLASSES.values():
            layer.__class__ = _fast_class(type(layer))
        layer._fast_first_layer = index == 0  # starts each pass (lora.begin_pass)
        layer._fast_options = options
        layer._fast_kernels = kernels
        attn, mlp = layer.self_attn, layer.mlp
        modules = [attn.q_proj, attn.k_proj, attn.v_proj, attn.o_proj, mlp.gate_proj, mlp.up_proj, mlp.down_proj]
        fused += sum(lora.lora_parts(m) is not None for m in modules)
    if not hasattr(causal_lm, "_fast_previous_forward"):
        previous = causal_lm.forward
        causal_lm._fast_previous_forward = previous

        # Keep the previous signature: Trainer keeps only the dataset columns that forward names
        @functools.wraps(previous)
        def forward(*args, **kwargs):
            return _fast_causal_lm_forward(causal_lm, *args, **kwargs)

        causal_lm.forward = forward
    causal_lm._fast_options = options
    return {"layers": len(layers), "fused_lora_projections": fused, "projections": 7 * len(layers)}
