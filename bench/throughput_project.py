"""Throughput of the project's QLoRA trainer path (``finetune.fast``) on the Llama-3.2-3B architecture.

One process, one loaded model: the full fast path at each batch size, then (``--levers``) each
lever switched off in turn at the first batch size. Run by ``bench/train_throughput.py``; alone:

    python3 bench/throughput_project.py --bs 2,4 --levers --json /tmp/project.json     # GPU machine
    HF_HUB_OFFLINE=1 .venv/bin/python bench/throughput_project.py --tiny --steps 3 --json /tmp/p.json  # CPU plumbing

The model is built like ``qlora_reference_bench.py`` (random weights, seed 0, bf16, saved and
reloaded in NF4 with double quantisation) but loaded through the project's own
``finetune.base_model.load_for_training`` + ``lora_config`` (r16, all 7 projections) and timed
with the same loop (AdamW, median of the steps after 2 warm-up steps), under bf16 autocast as the
trainer runs. Speed does not depend on weight values.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LLAMA32_3B = dict(hidden_size=3072, intermediate_size=8192, num_hidden_layers=28, num_attention_heads=24,
                  num_key_value_heads=8, head_dim=128, vocab_size=128256, max_position_embeddings=131072,
                  rms_norm_eps=1e-5, rope_theta=500000.0, tie_word_embeddings=True,
                  rope_scaling={"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                                "original_max_position_embeddings": 8192, "rope_type": "llama3"})
TINY = dict(LLAMA32_3B, hidden_size=128, intermediate_size=256, num_attention_heads=4, num_key_value_heads=2,
            head_dim=32, vocab_size=512)

# (name, FastOptions changes, kernels override): each lever off in turn, the rest as in the full path
LEVERS = [
    ("torch kernels (no Liger)", {}, "torch"),
    ("no fused LoRA (PEFT+bnb modules)", {"fused_lora": False}, None),
    ("dequantise through bitsandbytes.functional", {"direct_dequant": False}, None),
    ("no fused cross-entropy (full logits)", {"fused_cross_entropy": False}, None),
    ("CE: chunked torch, 256-token chunks (instead of Liger)", {"cross_entropy": "chunked"}, None),
    ("CE: chunked, chunk math compiled (torch.compile)", {"cross_entropy": "compiled"}, None),
    ("CE: chunked torch, 512-token chunks", {"cross_entropy": "chunked", "cross_entropy_chunk": 512}, None),
    ("checkpoint kept on GPU (no offload)", {"checkpointing": "recompute"}, None),
    ("no checkpointing", {"checkpointing": "none"}, None),
    ("+ LoRA casts cached per pass (cache_lora_casts)", {"cache_lora_casts": True}, None),
    ("+ FP8 base products, forward only (fp8_base='forward')", {"fp8_base": "forward"}, None),
    ("+ FP8 base products, input gradient only (fp8_base='backward')", {"fp8_base": "backward"}, None),
    ("+ FP8 base products, forward and input gradient (fp8_base='all')", {"fp8_base": "all"}, None),
]


def parameter_count(config: dict) -> int:
    """Parameters of the architecture, the tied embedding counted once (it is also the LM head)."""
    h, i, layers = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]
    q = config["num_attention_heads"] * config["head_dim"]
    kv = config["num_key_value_heads"] * config["head_dim"]
    per_layer = h * q + 2 * h * kv + q * h + 3 * h * i + 2 * h
    return config["vocab_size"] * h + layers * per_layer + h


def build_folder(config: dict, folder: Path, device: str) -> None:
    """Random bf16 weights (seed 0) and a word-level tokenizer, saved as an HF folder."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaForCausalLM(LlamaConfig(**config)).to(torch.bfloat16)
    model.save_pretrained(folder)
    del model
    vocab = {f"t{i}": i for i in range(config["vocab_size"])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="t0"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="t1", eos_token="t2", pad_token="t3")
    tokenizer.save_pretrained(folder)
    if device == "cuda":
        torch.cuda.empty_cache()


def load_project_model(folder: Path, fast: bool, force: bool = False, changes: dict | None = None):
    """The model exactly as ``tutor finetune`` builds it, plus ``finetune.fast.apply`` when ``fast``
    (``changes``: FastOptions fields set away from their defaults)."""
    import torch
    from peft import get_peft_model

    from finetune.base_model import load_for_training, lora_config
    from finetune.config import ModelArguments
    from finetune.fast import FastOptions, apply

    args = ModelArguments(model=str(folder), quantization="qlora")
    model, _tokenizer, _info = load_for_training(args, gradient_checkpointing=True)
    torch.manual_seed(42)
    model = get_peft_model(model, lora_config(args))
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})  # as SFTConfig
    model.train()
    report = {"applied": False}
    options = FastOptions(force=force, **(changes or {}))
    if fast:
        report = apply(model, options=options)
    return model, options, report


def time_steps(model, optimizer, batch: int, seq: int, vocab: int, steps: int, device: str) -> dict:
    """The reference loop; returns median step time, tokens/s, peak GiB and the last loss."""
    import torch

    cuda = device == "cuda"
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    times, launches, loss = [], [], None
    for _ in range(steps):
        x = torch.randint(0, vocab, (batch, seq), device=device)
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        with torch.autocast(device, dtype=torch.bfloat16, enabled=cuda):
            loss = model(input_ids=x, labels=x).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        launches.append(time.perf_counter() - start)  # host done queueing the step
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    steady = statistics.median(times[2:]) if len(times) > 2 else statistics.median(times)
    peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else float("nan")
    # ~1: the host queued until the end (host-bound, or a sync inside the step); well below 1: GPU-bound
    host = statistics.median(launches[2:]) if len(launches) > 2 else statistics.median(launches)
    return {"median_step_s": round(steady, 4), "tokens_per_s": round(batch * seq / steady, 1),
            "host_queue_fraction": round(host / steady, 3),
            "peak_gib": round(peak, 3), "loss": round(float(loss.detach()), 4),
            "step_times": [round(t, 4) for t in times]}


def set_kernels(model, kernels) -> None:
    from finetune.fast.llama import find_causal_lm

    for layer in find_causal_lm(model).model.layers:
        layer._fast_kernels = kernels


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bs", default="2,4", help="comma-separated batch sizes for the full fast path")
    p.add_argument("--seq", type=int, default=2048, help="tokens per row")
    p.add_argument("--steps", type=int, default=12, help="steps per measurement (the first 2 are warm-up)")
    p.add_argument("--levers", action="store_true", help="also time each lever switched off (first batch size)")
    p.add_argument("--lever-steps", type=int, default=6, help="steps per lever measurement (first 2 warm-up)")
    p.add_argument("--lever-batches", default="", help="batch sizes for the levers (default: the first of --bs)")
    p.add_argument("--layers", type=int, default=28, help="decoder layers (28 = Llama-3.2-3B)")
    p.add_argument("--tiny", action="store_true", help="tiny config on CPU (plumbing check, numbers meaningless)")
    p.add_argument("--serve", action="store_true",
                   help="after loading, time what JSON lines on stdin ask for (bench/serve_loop.py) instead of --bs")
    p.add_argument("--json", default=None, help="where to write the results (required without --serve)")
    a = p.parse_args(argv)
    if not a.serve and not a.json:
        p.error("--json is required without --serve")

    import dataclasses

    import torch

    from finetune.fast import kernels as kernel_impls

    device = "cuda" if torch.cuda.is_available() and not a.tiny else "cpu"
    config = dict(TINY if a.tiny else LLAMA32_3B, num_hidden_layers=a.layers)
    seq = min(a.seq, 64) if a.tiny else a.seq
    out: dict = {"gpu": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
                 "parameters": parameter_count(config), "seq": seq, "rows": [], "levers": []}
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        build_folder(config, Path(tmp), device)
        model, options, report = load_project_model(Path(tmp), fast=True, force=a.tiny)
        out["setup_s"] = round(time.perf_counter() - started, 1)
        out["apply_report"] = report
        print(json.dumps({"apply": report}), flush=True)
        optimizer = torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=2e-4)
        if a.serve:
            return serve_measurements(model, optimizer, options, config, seq, device, out)
        batches = [int(b) for b in a.bs.split(",")]
        for batch in batches:
            result = time_steps(model, optimizer, batch, seq, config["vocab_size"], a.steps, device)
            out["rows"].append({"batch": batch, **result})
            print(json.dumps({"batch": batch, **{k: v for k, v in result.items() if k != "step_times"}}), flush=True)
        if a.levers:
            selected = _layers(model)[0]._fast_kernels
            full = dataclasses.asdict(options)
            lever_batches = [int(b) for b in a.lever_batches.split(",")] if a.lever_batches else batches[:1]
            for batch in lever_batches:
                for name, changes, kernels in LEVERS:
                    for key, value in changes.items():
                        setattr(options, key, value)
                    if kernels == "torch":
                        set_kernels(model, kernel_impls.TORCH)
                    try:
                        result = time_steps(model, optimizer, batch, seq, config["vocab_size"], a.lever_steps, device)
                    except torch.OutOfMemoryError as exc:
                        result = {"error": f"out of memory: {str(exc)[:120]}"}
                    out["levers"].append({"lever_off": name, "batch": batch, **result})
                    print(json.dumps({"lever_off": name, "batch": batch,
                                      **{k: v for k, v in result.items() if k != "step_times"}}), flush=True)
                    for key, value in full.items():
                        setattr(options, key, value)
                    set_kernels(model, selected)
    Path(a.json).write_text(json.dumps(out, indent=1), encoding="utf-8")
    return 0


def serve_measurements(model, optimizer, options, config: dict, seq: int, device: str, info: dict) -> int:
    """Answer ``{"batch", "steps", "options", "kernels"}`` lines on stdin with one timing each (see serve_loop)."""
    import dataclasses

    from finetune.fast import fp8
    from finetune.fast import kernels as kernel_impls
    from serve_loop import serve

    selected = _layers(model)[0]._fast_kernels
    defaults = dataclasses.asdict(options)

    def measure(command: dict) -> dict:
        for key, value in command.get("options", {}).items():
            setattr(options, key, value)
        if command.get("kernels") == "torch":
            set_kernels(model, kernel_impls.TORCH)
        try:
            result = time_steps(model, optimizer, int(command["batch"]), seq, config["vocab_size"],
                                int(command.get("steps", 12)), device)
            if options.fp8_base != "off":  # ran in FP8, or fell back to bf16 (then the log says why)
                result["fp8_ran"] = fp8._STATE.get("checked") is True
            return result
        finally:
            for key, value in defaults.items():
                setattr(options, key, value)
            set_kernels(model, selected)

    serve(measure, {"stack": "project", **{k: info[k] for k in ("gpu", "setup_s", "apply_report")}})
    return 0


def _layers(model):
    from finetune.fast.llama import find_causal_lm

    return find_causal_lm(model).model.layers


if __name__ == "__main__":
    raise SystemExit(main())
