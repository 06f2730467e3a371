"""A PEFT LoRA adapter as a llama.cpp LoRA GGUF, written once into the cache for :mod:`llm.llamacpp_runtime`.

The file is what llama.cpp's own ``convert_lora_to_gguf.py`` writes for a Llama-architecture adapter:
``general.type = adapter``, ``adapter.type = lora``, ``adapter.lora.alpha``, and per target weight a pair
``blk.N.<name>.weight.lora_a`` (PEFT's ``lora_A``, ``[r, in]``) and ``.lora_b`` (``lora_B``, ``[out, r]``), in F32.
Tensor names come from ``gguf``'s own name map. The base GGUF stores q/k rows permuted for ggml's rotary layout,
so ``lora_B`` of ``q_proj``/``k_proj`` gets the same row permutation (``lora_A`` acts on the input side and is
left alone), as the converter does. llama.cpp scales by ``alpha / r``, PEFT by ``lora_alpha / r``: the same.

    path = ensure_lora_gguf(Path("llm/adapters/tutor-smollm2"), base_gguf)   # cached by the adapter's sha256
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from common.files import atomic_path

PEFT_PREFIX = "base_model.model."
PARTS = {"lora_A": "lora_a", "lora_B": "lora_b"}


class LoraConversionError(ValueError):
    """The adapter cannot be written as a llama.cpp LoRA; the message says why."""


@dataclass(frozen=True)
class BaseShape:
    """What the conversion needs to know about the base model (read from its GGUF)."""

    arch: str
    n_blocks: int
    n_head: int
    n_kv_head: int


def base_shape(gguf_path: Path) -> BaseShape:
    """The base GGUF's architecture, block count and head counts."""
    import gguf

    reader = gguf.GGUFReader(str(gguf_path))

    def value(key: str):
        field = reader.fields[key]
        part = field.parts[field.data[0]]
        return bytes(part).decode("utf-8") if field.types[0] == gguf.GGUFValueType.STRING else int(part[0])

    arch = value("general.architecture")
    return BaseShape(arch, value(f"{arch}.block_count"), value(f"{arch}.attention.head_count"),
                     value(f"{arch}.attention.head_count_kv"))


def permute_rows(weights, n_head: int):
    """llama.cpp's q/k row permutation (per head: interleaved rotary halves -> ggml's layout)."""
    return weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:]).swapaxes(1, 2).reshape(
        weights.shape)


def split_key(key: str) -> tuple[str, str]:
    """``base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight`` -> (``model.layers.3.self_attn.q_proj``,
    ``lora_a``)."""
    if not key.startswith(PEFT_PREFIX) or not key.endswith(".weight"):
        raise LoraConversionError(f"unexpected tensor {key!r} in the adapter (not a PEFT LoRA weight)")
    module, _, part = key[len(PEFT_PREFIX):-len(".weight")].rpartition(".")
    if not module or part not in PARTS:
        raise LoraConversionError(f"unsupported adapter tensor {key!r}: only lora_A/lora_B weights convert")
    return module, PARTS[part]


def check_config(config: dict) -> float:
    """The adapter's ``lora_alpha``; :class:`LoraConversionError` for LoRA variants llama.cpp does not run."""
    if config.get("peft_type", "LORA") != "LORA":
        raise LoraConversionError(f"adapter type {config.get('peft_type')!r} is not LoRA")
    for flag in ("use_dora", "use_rslora"):
        if config.get(flag):
            raise LoraConversionError(f"{flag} adapters have no llama.cpp LoRA equivalent")
    if config.get("rank_pattern") or config.get("alpha_pattern"):
        raise LoraConversionError("per-module rank or alpha patterns are not supported")
    if config.get("modules_to_save"):
        raise LoraConversionError("modules_to_save (fully trained layers) cannot be a llama.cpp LoRA")
    return float(config["lora_alpha"])


def lora_tensors(adapter_dir: Path, shape: BaseShape) -> Iterator[tuple[str, object]]:
    """(GGUF name, float32 array) for every LoRA factor of the adapter, in file order."""
    import gguf
    from safetensors import safe_open

    arch = next((a for a, n in gguf.MODEL_ARCH_NAMES.items() if n == shape.arch), None)
    if arch is None:
        raise LoraConversionError(f"gguf has no architecture {shape.arch!r}")
    names = gguf.get_tensor_name_map(arch, shape.n_blocks)
    with safe_open(str(adapter_dir / "adapter_model.safetensors"), framework="pt") as handle:
        for key in sorted(handle.keys()):
            module, part = split_key(key)
            name = names.get_name(module)
            if name is None:
                raise LoraConversionError(f"no llama.cpp tensor for adapter module {module!r}")
            data = handle.get_tensor(key).float().numpy()
            if part == "lora_b" and name.endswith((".attn_q", ".attn_k")):
                data = permute_rows(data, shape.n_head if name.endswith(".attn_q") else shape.n_kv_head)
            yield f"{name}.weight.{part}", data


def write_lora_gguf(adapter_dir: Path, base_gguf: Path, out: Path) -> Path:
    """Write the adapter in ``adapter_dir`` as a llama.cpp LoRA GGUF for ``base_gguf`` at ``out`` (atomically)."""
    import gguf
    import numpy as np

    config = json.loads((adapter_dir / "adapter_config.json").read_text(encoding="utf-8"))
    alpha = check_config(config)
    shape = base_shape(base_gguf)
    with atomic_path(out) as staging:
        writer = gguf.GGUFWriter(str(staging), shape.arch)
        writer.add_type(gguf.GGUFType.ADAPTER)
        writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
        writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, alpha)
        for name, data in lora_tensors(adapter_dir, shape):
            writer.add_tensor(name, np.ascontiguousarray(data, dtype=np.float32))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
    return out


def adapter_digest(adapter_dir: Path) -> str:
    """sha256 over the adapter's config and weights (the cache key of its GGUF)."""
    digest = hashlib.sha256()
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        digest.update((adapter_dir / name).read_bytes())
    return digest.hexdigest()


def ensure_lora_gguf(adapter_dir: Path, base_gguf: Path, cache: Path) -> Path:
    """The adapter's LoRA GGUF under ``cache/adapters/``, written on first use."""
    adapter_dir = Path(adapter_dir)
    if not (adapter_dir / "adapter_model.safetensors").is_file():
        raise LoraConversionError(f"{adapter_dir} holds no adapter_model.safetensors (not a PEFT adapter folder)")
    out = cache / "adapters" / f"{adapter_dir.name}-{adapter_digest(adapter_dir)[:12]}.lora.gguf"
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        write_lora_gguf(adapter_dir, base_gguf, out)
    return out
