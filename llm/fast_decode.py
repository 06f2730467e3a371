"""A lean single-token decode step for Llama-family models on CPU, used by ``generate`` transparently.

Why: with packed weights (:mod:`llm.packed`) the matrix products of a decode step of the embedded
model take ~10 ms, and transformers' generic layer code around them (hooks, kwargs plumbing, mask
building, attention dispatch, five-op RMSNorm) takes about as long again on one core. This step runs the
same math with far fewer Python-level operations: for each layer RMSNorm (one fused op), the q/k/v
projections, rotary embedding (transformers' own functions), the cache update (the model's own
``DynamicCache``), one ``scaled_dot_product_attention`` call, o-projection, RMSNorm and the SwiGLU MLP.

It only takes over the calls it is built for: batch 1, one new token, a non-empty ``DynamicCache``, no
gradients, no attention-mask zeros, no labels or extra outputs requested; everything else (prefill,
scoring, batched generation, training) goes to the model's own ``forward``. The projections are the
model's modules, so packed and dense weights, and merged adapters, all behave as in the normal path.
``tests/integration/test_llm_runtime.py`` checks its logits against transformers' step by step.

    from llm.fast_decode import install
    install(model)      # -> True when the model is supported (loading.load_model does this on CPU)
"""

from __future__ import annotations

import types

import torch
import torch.nn.functional as F
from transformers import DynamicCache
from transformers.modeling_outputs import CausalLMOutputWithPast
from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

from llm import packed_step

_SUPPORTED = ("llama",)


def supported(model) -> bool:
    """A Llama-architecture causal LM with SiLU MLPs and the modules this step reads."""
    config = getattr(model, "config", None)
    body = getattr(model, "model", None)
    if config is None or body is None or getattr(config, "model_type", None) not in _SUPPORTED:
        return False
    if getattr(config, "hidden_act", None) != "silu" or not hasattr(body, "rotary_emb"):
        return False
    needed = ("self_attn", "mlp", "input_layernorm", "post_attention_layernorm")
    return all(all(hasattr(layer, name) for name in needed) for layer in body.layers)


def install(model) -> bool:
    """Route ``model``'s single-token decode calls through :func:`decode_step`; ``False`` if unsupported."""
    if not supported(model) or getattr(model, "_tutor_fast_decode", False):
        return bool(getattr(model, "_tutor_fast_decode", False))
    original = model.forward

    def forward(self, input_ids=None, attention_mask=None, position_ids=None, cache=None, inputs_embeds=None,
                labels=None, use_cache=None, logits_to_keep=0, **kwargs):
        past = cache if cache is not None else kwargs.get("past_key_values")
        if _applies(input_ids, attention_mask, past, inputs_embeds, labels, use_cache, kwargs):
            return decode_step(self, input_ids, past, position_ids)
        if cache is not None:
            kwargs["cache"] = cache
        return original(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                        inputs_embeds=inputs_embeds, labels=labels, use_cache=use_cache,
                        logits_to_keep=logits_to_keep, **kwargs)

    model.forward = types.MethodType(forward, model)
    model._tutor_fast_decode = True
    model._tutor_packed_plan = packed_step.plan(model)  # None unless every layer is packed (llm.packed)
    return True


def _applies(input_ids, attention_mask, past, inputs_embeds, labels, use_cache, kwargs) -> bool:
    if torch.is_grad_enabled() or input_ids is None or inputs_embeds is not None or labels is not None:
        return False
    if tuple(input_ids.shape) != (1, 1) or input_ids.device.type != "cpu" or use_cache is False:
        return False
    if kwargs.get("output_attentions") or kwargs.get("output_hidden_states") or kwargs.get("return_dict") is False:
        return False
    if type(past) is not DynamicCache or past.get_seq_length() == 0:
        return False
    return attention_mask is None or bool(attention_mask.all())


def decode_step(model, input_ids: torch.Tensor, cache, position_ids: torch.Tensor | None = None):
    """Logits for one new token (batch 1) and ``cache`` extended by it: transformers' Llama math, leaner."""
    plan = getattr(model, "_tutor_packed_plan", None)
    kv = None if plan is None else packed_step.StaticKV.of(cache)
    if kv is not None:  # packed weights: the same kernels, far fewer operations around them
        logits = packed_step.step(plan, model, input_ids, cache, kv, position_ids)
        return CausalLMOutputWithPast(logits=logits, cache=cache)
    body = model.model
    hidden = body.embed_tokens(input_ids)
    if position_ids is None:
        position_ids = torch.tensor([[cache.get_seq_length()]], device=hidden.device)
    cos, sin = body.rotary_emb(hidden, position_ids=position_ids)
    width = hidden.shape[-1:]
    for index, layer in enumerate(body.layers[: model.config.num_hidden_layers]):
        attn, mlp = layer.self_attn, layer.mlp
        norm = layer.input_layernorm
        x = F.rms_norm(hidden, width, norm.weight, norm.variance_epsilon)
        q = attn.q_proj(x).view(1, 1, -1, attn.head_dim).transpose(1, 2)
        k = attn.k_proj(x).view(1, 1, -1, attn.head_dim).transpose(1, 2)
        v = attn.v_proj(x).view(1, 1, -1, attn.head_dim).transpose(1, 2)
        q, k = apply_rotary_pos_emb(q, k, cos, sin)
        k, v = cache.update(k, v, index)
        out = F.scaled_dot_product_attention(q, k, v, scale=attn.scaling, enable_gqa=True)
        hidden = hidden + attn.o_proj(out.transpose(1, 2).reshape(1, 1, -1))
        norm = layer.post_attention_layernorm
        x = F.rms_norm(hidden, width, norm.weight, norm.variance_epsilon)
        hidden = hidden + mlp.down_proj(F.silu(mlp.gate_proj(x)) * mlp.up_proj(x))
    hidden = F.rms_norm(hidden, width, body.norm.weight, body.norm.variance_epsilon)
    return CausalLMOutputWithPast(logits=model.lm_head(hidden), cache=cache)
