"""Base models for training and export: a model spec becomes a trainable HF folder.

A GGUF-loaded transformers model can be neither trained nor saved, so any ``.gguf`` spec is first
converted (dequantised) into a plain HF folder in the cache, like the embedded model
(:func:`llm.embedded.ensure_converted`). Training loads that folder:

* ``quantization="qlora"`` (``auto`` on CUDA): 4-bit NF4 with double quantisation and bf16 compute
  (bitsandbytes), then ``prepare_model_for_kbit_training``; LoRA adapters on top;
* ``quantization="none"`` (``auto`` on CPU): the base in fp32 (bf16 on CUDA) + LoRA. On CPU, NF4
  runs but is slower and, for the embedded model whose weights were already Q4_1, costs quality
  (ENVIRONMENT.md: loss 3.87 dense vs 4.78 NF4 on the same batch).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any

from common.files import atomic_path
from finetune.config import ModelArguments
from llm.spec import ModelSpec, ModelSpecError, hub_error_message, resolve_model

_MARKER = "COMPLETE"


def gguf_cache_dir(gguf: Path) -> Path:
    """Cache folder for a converted GGUF, keyed by name, size and mtime (hashing GBs would be slow)."""
    from llm.embedded import cache_root

    stat = gguf.stat()
    key = hashlib.sha256(f"{gguf.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    return cache_root() / "models" / f"{gguf.stem}-{key}"


def ensure_gguf_converted(gguf: Path) -> Path:
    """Dequantise ``gguf`` once into an HF folder (write-then-rename, ``COMPLETE`` marker)."""
    from llm.embedded import convert_gguf  # the embedded model's converter; the same steps apply to any GGUF

    target = gguf_cache_dir(gguf)
    if (target / _MARKER).is_file():
        return target
    print(f"converting {gguf.name} to a trainable HF folder in {target.parent} (once) ...", file=sys.stderr)
    with atomic_path(target, is_dir=True) as staging:
        convert_gguf(gguf, staging)
        (staging / _MARKER).write_text(str(gguf) + "\n", encoding="utf-8")
    return target


def hf_source(spec: ModelSpec) -> str:
    """What ``from_pretrained`` should load for ``spec``: a local folder, or a hub id."""
    if spec.kind == "embedded":
        from llm.embedded import ensure_converted

        return str(ensure_converted())
    if spec.kind == "gguf":
        return str(ensure_gguf_converted(Path(spec.value)))
    return spec.value


def local_folder(spec_text: str | None) -> Path:
    """A local HF folder holding safetensors for ``spec_text`` (hub ids: from the local HF cache)."""
    spec = resolve_model(spec_text)
    if spec.kind != "hub":
        return Path(hf_source(spec))
    try:
        from huggingface_hub import snapshot_download

        # huggingface_hub honours HF_HUB_OFFLINE itself (cached files only, no request).
        return Path(snapshot_download(spec.value,
                                      allow_patterns=["*.json", "*.safetensors", "*.jinja", "*.model", "*.txt"]))
    except Exception as exc:
        raise ModelSpecError(hub_error_message(spec.value, exc)) from exc


def resolve_quantization(args: ModelArguments, cuda: bool) -> str:
    if args.quantization == "auto":
        return "qlora" if cuda else "none"
    return args.quantization


def lora_config(args: ModelArguments):
    from peft import LoraConfig

    targets: Any = args.target_modules.strip()
    if targets != "all-linear":
        targets = [name.strip() for name in targets.split(",") if name.strip()]
    return LoraConfig(
        r=args.lora_r, lora_alpha=args.lora_alpha, lora_dropout=args.lora_dropout, target_modules=targets,
        use_rslora=args.use_rslora, bias="none", task_type="CAUSAL_LM",
    )


def load_for_training(args: ModelArguments, gradient_checkpointing: bool = True) -> tuple[Any, Any, dict]:
    """``(model, tokenizer, info)``: the base ready for LoRA (quantised and prepared for QLoRA)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    spec = resolve_model(args.model)
    source = hf_source(spec)
    cuda = torch.cuda.is_available()
    quantization = resolve_quantization(args, cuda)
    kwargs: dict[str, Any] = {"dtype": torch.bfloat16 if cuda else torch.float32}
    if quantization == "qlora":
        from transformers import BitsAndBytesConfig

        if not cuda:
            print("note: QLoRA on CPU works but is slow and re-quantises the weights; "
                  "--quantization none is the CPU path", file=sys.stderr)
        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
        kwargs["dtype"] = torch.bfloat16
        if cuda:
            kwargs["device_map"] = {"": torch.cuda.current_device()}
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    except OSError as exc:
        if spec.kind == "hub":
            raise ModelSpecError(hub_error_message(spec.value, exc)) from exc
        raise ModelSpecError(f"could not load model from {source}: {exc}") from exc
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    # No KV cache in training. Besides saving memory this matters for packing / padding-free
    # batches: with a cache object present, transformers (5.24, sdpa/eager) skips the
    # block-diagonal mask it derives from position_ids, and packed sequences attend to each other
    # (measured: padding-free loss 5.09 vs 4.75 padded on the same two rows; equal without cache).
    model.config.use_cache = False
    if quantization == "qlora":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=gradient_checkpointing)
    info = {
        "model": spec.label, "model_source": source, "quantization": quantization,
        "device": "cuda" if cuda else "cpu", "dtype": str(kwargs["dtype"]).replace("torch.", ""),
    }
    return model, tokenizer, info
