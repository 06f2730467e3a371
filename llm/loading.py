"""Load a model spec (see :mod:`llm.spec`) into a transformers model + tokenizer, once per process.

CPU by default here; CUDA when present (bf16 there). A PEFT adapter is applied on top when given.

    from llm.loading import load_model
    lm = load_model()                      # the embedded default, cached
    lm = load_model("meta-llama/Llama-3.2-3B-Instruct", adapter="runs/tutor/adapter")
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llm.spec import ModelSpec, ModelSpecError, hub_offline_message, resolve_adapter, resolve_model

_LOCK = threading.Lock()
# One generate() at a time per process: the CPU has 2 cores and interleaving only slows both;
# Outlines' logits processors also hold per-call state.
GENERATE_LOCK = threading.RLock()
_CACHE: dict[tuple, "LoadedModel"] = {}


@dataclass
class LoadedModel:
    """A ready model: the transformers objects plus what to record about them."""

    model: Any
    tokenizer: Any
    spec: ModelSpec
    adapter: str | None
    device: str
    extras: dict = field(default_factory=dict)  # per-process caches (e.g. Outlines generators)

    @property
    def label(self) -> str:
        return self.spec.label


def pick_device(device: str | None = None) -> str:
    """``cuda`` when available unless ``device``/``TUTOR_DEVICE`` says otherwise."""
    choice = device or os.environ.get("TUTOR_DEVICE")
    if choice:
        return choice
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def model_source(spec: ModelSpec) -> tuple[str, dict]:
    """``from_pretrained`` arguments for a spec (the embedded model is converted on first use)."""
    if spec.kind == "embedded":
        from llm.embedded import ensure_converted

        return str(ensure_converted()), {}
    if spec.kind == "gguf":
        path = Path(spec.value)
        return str(path.parent), {"gguf_file": path.name}
    return spec.value, {}


def load_model(
    model: str | None = None, adapter: str | None = None, device: str | None = None, *, cache: bool = True
) -> LoadedModel:
    """Load (or return the cached) model for ``model``/``adapter`` on ``device``."""
    spec = resolve_model(model)
    adapter_path = resolve_adapter(adapter, spec)
    dev = pick_device(device)
    key = (spec, adapter_path, dev)
    with _LOCK:
        if cache and key in _CACHE:
            return _CACHE[key]
        loaded = _load(spec, adapter_path, dev)
        if cache:
            _CACHE[key] = loaded
        return loaded


def _load(spec: ModelSpec, adapter_path: str | None, device: str) -> LoadedModel:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source, kwargs = model_source(spec)
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        hf_model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, **kwargs)
    except OSError as exc:
        if spec.kind == "hub":
            raise ModelSpecError(hub_offline_message(spec.value)) from exc
        raise ModelSpecError(f"could not load model from {source}: {exc}") from exc
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if adapter_path:
        from peft import PeftModel

        # Merged once at load: inference then costs the same as the base model (no LoRA branches).
        hf_model = PeftModel.from_pretrained(hf_model, adapter_path).merge_and_unload()
    hf_model.to(device)
    hf_model.eval()
    return LoadedModel(hf_model, tokenizer, spec, adapter_path, device)


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()
