"""Merge a LoRA adapter into its base model, streaming tensor by tensor, into a plain HF folder.

    tutor export merge --model embedded --adapter runs/tutor/adapter --out runs/tutor/merged

For each base weight ``W`` with a LoRA pair, ``W + scale * (B @ A)`` is computed in fp32 and stored
in ``W``'s dtype (``scale = alpha / r``, or ``alpha / sqrt(r)`` with rsLoRA; per-module rank/alpha
patterns honoured); every other tensor is copied. Tensors are read one at a time (no mmap) and
appended to pre-planned shards (:mod:`finetune.safetensors_stream`), so peak RSS is the interpreter
+ torch + about one tensor, not a model copy -- PEFT's ``merge_and_unload`` path needs the whole
model in memory (``--method peft``, kept as a fallback for adapter kinds not handled here: DoRA,
trainable tokens). The folder is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import time
from pathlib import Path
from typing import Any

from common.files import atomic_path
from finetune.memory import current_rss_mb, peak_rss_mb, reset_peak_rss
from finetune.safetensors_stream import ShardedWriter, TensorEntry, list_tensors, load_tensor, read_header

ADAPTER_PREFIX = "base_model.model."
WEIGHT_FILES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
SKIP_FILES = {"COMPLETE", "model.safetensors.index.json", "merge_metrics.json"}


class MergeError(ValueError):
    """The adapter cannot be merged by the streaming path; the message says what to do."""


def _pattern_value(patterns: dict, module: str, default: float) -> float:
    """PEFT's rank/alpha pattern lookup: a key matches the module name or its dotted suffix."""
    for key, value in patterns.items():
        if re.match(rf"(.*\.)?({key})$", module):
            return value
    return default


def lora_pairs(adapter_dir: Path) -> tuple[dict[str, dict[str, TensorEntry]], dict[str, TensorEntry], dict]:
    """``({module: {"A": entry, "B": entry, "kind": ...}}, {base key: replacement entry}, adapter config)``."""
    config = json.loads((adapter_dir / "adapter_config.json").read_text(encoding="utf-8"))
    if config.get("peft_type", "LORA") != "LORA":
        raise MergeError(f"adapter type {config.get('peft_type')} is not LoRA; use --method peft")
    if config.get("use_dora") or config.get("fan_in_fan_out") or config.get("lora_bias"):
        raise MergeError("DoRA / fan_in_fan_out / lora_bias adapters are not handled by the streaming merge; use --method peft")
    entries, _ = read_header(adapter_dir / "adapter_model.safetensors")
    pairs: dict[str, dict[str, Any]] = {}
    replacements: dict[str, TensorEntry] = {}
    for key, entry in entries.items():
        if not key.startswith(ADAPTER_PREFIX):
            raise MergeError(f"unexpected adapter tensor {key!r}; use --method peft")
        name = key[len(ADAPTER_PREFIX):]
        match = re.match(r"^(.*)\.(lora_A|lora_B|lora_embedding_A|lora_embedding_B)(\.weight)?$", name)
        if match:
            module, part = match.group(1), match.group(2)
            slot = pairs.setdefault(module, {"kind": "embedding" if "embedding" in part else "linear"})
            slot["A" if part.endswith("A") else "B"] = entry
        elif "trainable_tokens" in name or "lora_magnitude" in name:
            raise MergeError(f"adapter tensor {key!r} is not handled by the streaming merge; use --method peft")
        else:  # modules_to_save: a full replacement weight, saved under the base name
            replacements[name] = entry
    for module, slot in pairs.items():
        if "A" not in slot or "B" not in slot:
            raise MergeError(f"adapter module {module!r} lacks its lora_A or lora_B weight")
    return pairs, replacements, config


def lora_delta(slot: dict, module: str, config: dict):
    """``scale * (B @ A)`` in fp32, shaped like the base weight."""
    a, b = load_tensor(slot["A"]).float(), load_tensor(slot["B"]).float()
    rank = _pattern_value(config.get("rank_pattern") or {}, module, config["r"])
    alpha = _pattern_value(config.get("alpha_pattern") or {}, module, config["lora_alpha"])
    scale = alpha / math.sqrt(rank) if config.get("use_rslora") else alpha / rank
    if slot["kind"] == "embedding":  # A: (r, vocab), B: (dim, r) -> delta (vocab, dim)
        return (b @ a).T * scale
    return (b @ a) * scale


def merge_streaming(base_dir: Path, adapter_dir: Path, out_dir: Path, max_shard_mb: int = 2000) -> dict:
    """Write the merged model into ``out_dir`` (a fresh folder); returns what was done."""
    base = list_tensors(base_dir)
    pairs, replacements, config = lora_pairs(adapter_dir)
    targets = {f"{module}.weight": module for module in pairs}
    missing = sorted(set(targets) - set(base)) + sorted(set(replacements) - set(base))
    if missing:
        raise MergeError(f"adapter modules not found in the base checkpoint (wrong base model?): {missing[:5]}")
    plan = [(entry.name, entry.dtype, entry.shape) for entry in base.values()]
    writer = ShardedWriter(out_dir, plan, max_shard_mb * 1024 * 1024)
    for name, entry in base.items():
        if name in replacements:
            tensor = load_tensor(replacements[name]).to(_torch_dtype(entry))
        else:
            tensor = load_tensor(entry)
            if name in targets:
                delta = lora_delta(pairs[targets[name]], targets[name], config)
                if tuple(delta.shape) != tuple(tensor.shape):
                    raise MergeError(f"{name}: LoRA update {tuple(delta.shape)} does not fit weight {tuple(tensor.shape)}")
                tensor = (tensor.float() + delta).to(tensor.dtype)
                del delta
        writer.write(name, tensor)
        del tensor
    writer.close()
    return {"merged_modules": len(pairs), "replaced": len(replacements), "tensors": len(base),
            "shards": len(writer.names), "model_bytes": writer.total_bytes}


def _torch_dtype(entry: TensorEntry):
    import torch

    from finetune.safetensors_stream import DTYPES

    return getattr(torch, DTYPES[entry.dtype][0])


def merge_peft(base_dir: Path, adapter_dir: Path, out_dir: Path, max_shard_mb: int = 2000) -> dict:
    """Fallback: load base + adapter, ``merge_and_unload`` and ``save_pretrained`` (whole model in RAM)."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(base_dir), dtype="auto")
    merged = PeftModel.from_pretrained(model, str(adapter_dir)).merge_and_unload()
    merged.save_pretrained(str(out_dir), max_shard_size=f"{max_shard_mb}MB")
    total = sum(p.numel() * p.element_size() for p in merged.parameters())
    return {"merged_modules": None, "replaced": None, "tensors": len(merged.state_dict()), "model_bytes": total}


def copy_side_files(base_dir: Path, out_dir: Path) -> None:
    """Config, generation config, tokenizer and chat template: everything but weights and markers."""
    for path in base_dir.iterdir():
        if path.is_file() and not path.name.endswith(WEIGHT_FILES) and path.name not in SKIP_FILES:
            if not (out_dir / path.name).exists():
                shutil.copy2(path, out_dir / path.name)


def check_base(base_dir: Path) -> None:
    config_path = base_dir / "config.json"
    if not config_path.is_file():
        raise MergeError(f"{base_dir} has no config.json: not a Hugging Face model folder")
    if "quantization_config" in json.loads(config_path.read_text(encoding="utf-8")):
        raise MergeError("the base checkpoint is quantised; merge into an unquantised (bf16/fp32) base")


def merge(model: str | None, adapter: str, out: str | Path, method: str = "stream", max_shard_mb: int = 2000) -> dict:
    """Merge ``adapter`` into the base named by ``model`` (any model spec) and write ``out``."""
    from finetune.base_model import local_folder
    from llm.spec import resolve_adapter

    adapter_path = resolve_adapter(adapter)
    if adapter_path is None:
        raise MergeError("--adapter is required")
    base_dir = local_folder(model)
    check_base(base_dir)
    import torch  # noqa: F401  -- imported before the baseline so rss_before includes it

    reset_peak_rss()  # the peak reported is the merge's own, not an earlier one in this process
    rss_before = current_rss_mb()
    started = time.perf_counter()
    with atomic_path(out, is_dir=True) as staging:
        if method == "stream":
            info = merge_streaming(base_dir, Path(adapter_path), staging, max_shard_mb)
        elif method == "peft":
            info = merge_peft(base_dir, Path(adapter_path), staging, max_shard_mb)
        else:
            raise ValueError(f"unknown merge method {method!r}")
        copy_side_files(base_dir, staging)
        info.update(
            method=method, base=str(base_dir), adapter=adapter_path, out=str(Path(out).resolve()),
            seconds=round(time.perf_counter() - started, 2), rss_before_mb=round(rss_before, 1),
            peak_rss_mb=round(peak_rss_mb(), 1), model_mb=round(info["model_bytes"] / (1 << 20), 1),
        )
        info["peak_rss_over_model"] = round(info["peak_rss_mb"] / max(info["model_mb"], 1e-9), 3)
        info["peak_above_baseline_mb"] = round(info["peak_rss_mb"] - rss_before, 1)
        (staging / "merge_metrics.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info
