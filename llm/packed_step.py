"""The lean decode step for packed models (:mod:`llm.packed`): the same kernel calls, with less around them.

Why: with packed weights the kernels of one decode step of the embedded model take ~7 ms on 2 threads (30
layers' int4 products ~3.5 ms, the head ~1.6 ms, LoRA products ~1 ms, attention and norms the rest; timed one
by one), yet a step of :func:`llm.fast_decode.decode_step` took 17.5 ms (torch.profiler, 2 threads): the rest was
hundreds of small operations around them (module calls, slicing q/k/v into copies, the rotary embedding
applied to q and k apart, the ``DynamicCache``'s ``torch.cat`` of the whole cache, each layer, each token).
This step calls the same kernels on the same values, so its logits equal
:func:`~llm.fast_decode.decode_step`'s bit for bit (``tests/integration/test_packed.py`` and, on the embedded
model, ``test_llm_runtime.py``), and:

* reads each layer's packed codes, scales and LoRA factors from one tuple built once (no module calls);
* applies the rotary embedding to q and k heads in one go, with a roll for transformers' ``rotate_half``;
* keeps the keys and values in preallocated buffers (:class:`StaticKV`) and hands the ``DynamicCache``
  views of them, so a step writes one position instead of copying the cache, and every other user of the
  cache (transformers' own forward, :mod:`llm.batching`) still sees an ordinary ``DynamicCache``.

Measured by hand on the shared 2-core machine, both steps interleaved in one process on the same packed weights:
2 threads (load average 3.4), best step 13.6 ms against 17.9 ms, lower quartile 14.7 against 19.3 ms; one thread
(load 4.5), best step 18.4 against 21.6 ms. Other machines' loads make these upper bounds of a quiet step.
``bench/decode_variants.py`` lists both (``packed + lean decode step (default)``, ``packed + generic lean step``).

It applies only to models whose every layer :func:`llm.packed.pack_model` packed the usual way (q/k/v in one
call, gate/up in one call, no biases); :func:`plan` returns ``None`` otherwise and the generic step runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from transformers.cache_utils import DynamicLayer

from llm.packed import GROUP, PackedLinear, PackedMatmul

_INT4 = torch.ops.aten._weight_int4pack_mm_for_cpu
_SPARE = 256  # positions allocated beyond the current length; the buffers double when full


@dataclass(frozen=True)
class Plan:
    """Per-layer tensors of a packed Llama model, in the order the step reads them."""

    layers: tuple[tuple, ...]  # (norm1, eps1, qkv, o, norm2, eps2, gate_up, down) per layer
    heads: int  # query heads
    kv_heads: int
    head_dim: int
    intermediate: int
    scaling: float


def plan(model) -> Plan | None:
    """The step's view of ``model``, or ``None`` when a layer is not packed as this step expects."""
    body, config = model.model, model.config
    layers = []
    for layer in body.layers[: config.num_hidden_layers]:
        attn, mlp = layer.self_attn, layer.mlp
        qkv = _shared(attn.q_proj, attn.k_proj, attn.v_proj)
        gate_up = _shared(mlp.gate_proj, mlp.up_proj)
        o, down = _shared(attn.o_proj), _shared(mlp.down_proj)
        if None in (qkv, gate_up, o, down):
            return None
        norm1, norm2 = layer.input_layernorm, layer.post_attention_layernorm
        layers.append((norm1.weight.detach(), norm1.variance_epsilon, qkv, o,
                       norm2.weight.detach(), norm2.variance_epsilon, gate_up, down))
    attn = body.layers[0].self_attn
    heads = config.num_attention_heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads
    return Plan(tuple(layers), heads, kv_heads, attn.head_dim, config.intermediate_size, attn.scaling)


def _shared(*modules) -> tuple | None:
    """``(packed codes, scales/zeros, lora A or None, lora B or None)`` of one packed call computing
    ``modules``' outputs side by side, in their order and nothing else; ``None`` if they are not that."""
    if not all(isinstance(m, PackedLinear) and m.bias is None for m in modules):
        return None
    matmul: PackedMatmul = modules[0].matmul
    start = 0
    for module in modules:
        if module.matmul is not matmul or module.start != start:
            return None
        start = module.stop
    if start != matmul.scales_zeros.shape[1] or matmul.shared != (len(modules) > 1):
        return None
    return matmul.packed, matmul.scales_zeros, matmul.lora_a, matmul.lora_b


def _matmul(x: torch.Tensor, call: tuple) -> torch.Tensor:
    """What :class:`llm.packed.PackedMatmul` computes for rows ``x``: the int4 product, + the LoRA product."""
    packed, scales_zeros, lora_a, lora_b = call
    y = _INT4(x.to(torch.bfloat16), packed, GROUP, scales_zeros).float()
    return y if lora_a is None else torch.addmm(y, x @ lora_a, lora_b)


def _rotary(cos: torch.Tensor, sin: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``cos`` and ``sin`` with the first half of ``sin`` negated, both ``[1, 1, 1, head_dim]``.

    transformers computes ``x * cos + rotate_half(x) * sin`` with ``rotate_half(x) = cat(-x2, x1)``;
    ``x.roll(half) * signed_sin`` multiplies the same numbers up to sign, so the result is the same bit for bit
    (checked in the tests), in one operation instead of three (half the time, 9 against 17 us a layer measured).
    """
    half = sin.shape[-1] // 2
    return cos.unsqueeze(1), torch.cat((-sin[..., :half], sin[..., half:]), dim=-1).unsqueeze(1)


class StaticKV:
    """Key/value buffers with room to grow, whose prefixes are the ``DynamicCache`` layers' tensors.

    Adopted per layer when a layer's tensors are not the views it handed out last (a prefill, another
    step's ``torch.cat``, a crop): those are copied in once, then each step writes one position.
    """

    def __init__(self, n_layers: int):
        self.keys: list[torch.Tensor | None] = [None] * n_layers
        self.values: list[torch.Tensor | None] = [None] * n_layers
        self.views: list[torch.Tensor | None] = [None] * n_layers  # the keys each layer was handed last

    @staticmethod
    def of(cache) -> "StaticKV | None":
        """The buffers of ``cache`` (made on first use), or ``None`` if a layer is not a plain ``DynamicLayer``."""
        state = getattr(cache, "_tutor_static_kv", None)
        if state is None:
            if not all(type(layer) is DynamicLayer and layer.is_initialized for layer in cache.layers):
                return None
            state = cache._tutor_static_kv = StaticKV(len(cache.layers))
        return state

    def append(self, cache, index: int, length: int, key: torch.Tensor, value: torch.Tensor):
        """Write position ``length`` of layer ``index`` and return its keys/values ``[:length + 1]``."""
        layer = cache.layers[index]
        buf_k, buf_v = self.keys[index], self.values[index]
        if buf_k is None or layer.keys is not self.views[index] or length + 1 > buf_k.shape[2]:
            buf_k, buf_v = self._adopt(layer, index, length)
        buf_k[:, :, length] = key
        buf_v[:, :, length] = value
        layer.keys = self.views[index] = buf_k[:, :, : length + 1]
        layer.values = buf_v[:, :, : length + 1]
        return layer.keys, layer.values

    def _adopt(self, layer, index: int, length: int) -> tuple[torch.Tensor, torch.Tensor]:
        keys, values = layer.keys, layer.values
        if keys.shape[2] != length or values.shape[2] != length:
            raise ValueError(f"cache layer {index} holds {keys.shape[2]} positions, expected {length}")
        old = self.keys[index]
        capacity = max(length + _SPARE, 2 * old.shape[2] if old is not None and length >= old.shape[2] else 0)
        shape = (keys.shape[0], keys.shape[1], capacity, keys.shape[3])
        buf_k = keys.new_empty(shape)
        buf_v = values.new_empty(shape[:3] + values.shape[3:])
        buf_k[:, :, :length] = keys
        buf_v[:, :, :length] = values
        self.keys[index], self.values[index] = buf_k, buf_v
        return buf_k, buf_v


def step(plan_: Plan, model, input_ids: torch.Tensor, cache, kv: StaticKV,
         position_ids: torch.Tensor | None = None) -> torch.Tensor:
    """Logits ``[1, 1, V]`` for one new token (batch 1); ``cache`` extended by it through ``kv``."""
    body = model.model
    length = cache.get_seq_length()
    hidden = body.embed_tokens(input_ids)  # [1, 1, hidden]
    if position_ids is None:
        position_ids = torch.tensor([[length]], device=hidden.device)
    cos, signed_sin = _rotary(*body.rotary_emb(hidden, position_ids=position_ids))
    width = hidden.shape[-1:]
    h = hidden.view(1, -1)
    heads, kv_heads, dim = plan_.heads, plan_.kv_heads, plan_.head_dim
    q_width, qk_heads, inter = heads * dim, heads + kv_heads, plan_.intermediate
    for index, (norm1, eps1, qkv_call, o_call, norm2, eps2, gu_call, down_call) in enumerate(plan_.layers):
        x = F.rms_norm(h, width, norm1, eps1)
        qkv = _matmul(x, qkv_call)
        qk = qkv[:, : qk_heads * dim].view(1, qk_heads, 1, dim)
        qk = qk * cos + qk.roll(dim // 2, -1) * signed_sin
        value = qkv[:, qk_heads * dim:].view(1, kv_heads, dim)
        keys, values = kv.append(cache, index, length, qk[:, heads:, 0], value)
        out = F.scaled_dot_product_attention(qk[:, :heads], keys, values, scale=plan_.scaling, enable_gqa=True)
        h = h + _matmul(out.view(1, q_width), o_call)
        x = F.rms_norm(h, width, norm2, eps2)
        gate_up = _matmul(x, gu_call)
        h = h + _matmul(F.silu(gate_up[:, :inter]) * gate_up[:, inter:], down_call)
    h = F.rms_norm(h, width, body.norm.weight, body.norm.variance_epsilon)
    return model.lm_head(h.view(1, 1, -1))
