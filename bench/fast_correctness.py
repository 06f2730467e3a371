"""Does the fast path train the same model? Loss curves and LoRA gradients on a small real model.

    python3 bench/fast_correctness.py --model /tmp/smol.gguf --json /tmp/correctness.json     # GPU machine
    HF_HUB_OFFLINE=1 .venv/bin/python bench/fast_correctness.py --steps 2 --seq 64 --json /tmp/c.json  # CPU plumbing

Model: SmolLM2-135M-Instruct (Llama architecture, the project's embedded model; a ``.gguf`` is converted
by the project's own loader), NF4 + LoRA r16 exactly as ``tutor finetune`` builds it. Data: the
repository's own prose (README, knowledge cards), tokenised into fixed rows; both runs see the same
batches in the same order with the same seed.

* loss: ``--steps`` AdamW steps of the plain path (PEFT + bitsandbytes, transformers' checkpointing,
  bf16 autocast, as under SFTTrainer) and of the fast path; goal: every step within 1%.
* gradients: one step from identical non-zero LoRA weights, against an fp32 reference of the same
  NF4 model (compute dtype fp32, no autocast); the fast path should be as close to it as the plain bf16
  path is (relative L2 over all LoRA gradients, and the worst tensor).
* FP8 (``--fp8-modes``, default 'backward,all'): the same loss curve and gradient error for the fast path
  with each ``FastOptions.fp8_base`` mode (``result["fp8"][mode]``; ``fp8_products_ran`` says whether the
  FP8 products ran or fell back to bf16).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def text_rows(tokenizer, seq: int, rows: int) -> "list":
    """``rows`` token rows of length ``seq`` from the repository's prose (cycled if short)."""
    import torch

    files = [ROOT / "README.md", *sorted((ROOT / "knowledge" / "cards").glob("*.yaml"))]
    text = "\n\n".join(f.read_text(encoding="utf-8") for f in files if f.is_file())
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    need = seq * rows
    ids = (ids * (need // max(len(ids), 1) + 1))[:need]
    return torch.tensor(ids).view(rows, seq)




def _model(folder: str, fast: bool, reference: bool = False, changes: dict | None = None):
    import torch

    from throughput_project import load_project_model

    model, _options, report = load_project_model(Path(folder), fast=fast, force=fast and not torch.cuda.is_available(),
                                                 changes=changes)
    if reference:  # same NF4 weights, everything computed in fp32
        for module in model.modules():
            if hasattr(module, "compute_dtype") and type(module).__name__ == "Linear4bit":
                module.compute_dtype = torch.float32
        for param in model.parameters():
            if param.is_floating_point() and type(param).__name__ != "Params4bit":
                param.data = param.data.float()
    return model, report


def _lora(model) -> dict:
    return {n: p for n, p in model.named_parameters() if p.requires_grad}


def train_losses(folder: str, fast: bool, data, batch: int, steps: int, device: str,
                 changes: dict | None = None) -> tuple[list[float], dict]:
    import torch

    model, report = _model(folder, fast, changes=changes)
    optimizer = torch.optim.AdamW(list(_lora(model).values()), lr=2e-4)
    losses = []
    for step in range(steps):
        rows = data[(step * batch) % len(data):][:batch].to(device)
        with torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda"):
            loss = model(input_ids=rows, labels=rows).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
    del model, optimizer
    return losses, report


def gradients(folder: str, variant: str, rows, device: str) -> dict:
    """LoRA gradients of one step from fixed non-zero LoRA weights ('plain', 'fast', 'fast_fp8_<mode>' or
    'reference')."""
    import torch

    model, _ = _model(folder, fast=variant.startswith("fast"), reference=variant == "reference",
                      changes={"fp8_base": variant.removeprefix("fast_fp8_")} if "fp8" in variant else None)
    gen = torch.Generator().manual_seed(7)
    for name, param in sorted(_lora(model).items()):
        values = torch.randn(param.shape, generator=gen) * (0.02 if "lora_B" in name else 0.05)
        param.data.copy_(values.to(param.dtype))
    with torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda" and variant != "reference"):
        loss = model(input_ids=rows.to(device), labels=rows.to(device)).loss
    loss.backward()
    grads = {n: p.grad.detach().float().cpu() for n, p in _lora(model).items()}
    del model
    return {"loss": float(loss.detach()), "grads": grads}


def fp8_ran() -> bool:
    """Whether the FP8 products ran and passed their self-check (False: the variant fell back to bf16)."""
    from finetune.fast import fp8

    return fp8._STATE.get("checked") is True


def compare(grads, reference) -> dict:
    import torch

    names = sorted(reference)
    flat = torch.cat([grads[n].flatten() for n in names])
    ref = torch.cat([reference[n].flatten() for n in names])
    per = [float((grads[n] - reference[n]).norm() / reference[n].norm().clamp_min(1e-30)) for n in names]
    return {"relative_l2": float((flat - ref).norm() / ref.norm()), "worst_tensor": max(per),
            "median_tensor": sorted(per)[len(per) // 2], "tensors": len(names)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="embedded", help="model spec: 'embedded', an HF folder or a .gguf file")
    p.add_argument("--steps", type=int, default=200, help="training steps per path (issue 16: >= 200)")
    p.add_argument("--fp8-modes", default="backward,all",
                   help="FastOptions.fp8_base modes to check beside the fast path ('' for none)")
    p.add_argument("--batch", type=int, default=4, help="rows per step")
    p.add_argument("--seq", type=int, default=256, help="tokens per row")
    p.add_argument("--json", required=True, help="where to write the results")
    a = p.parse_args(argv)

    import torch
    from transformers import AutoTokenizer

    from finetune.base_model import hf_source
    from llm.spec import resolve_model

    device = "cuda" if torch.cuda.is_available() else "cpu"
    started = time.perf_counter()
    folder = hf_source(resolve_model(a.model))
    data = text_rows(AutoTokenizer.from_pretrained(folder), a.seq, max(a.steps * a.batch, a.batch))
    torch.manual_seed(0)
    plain, _ = train_losses(folder, False, data, a.batch, a.steps, device)
    torch.manual_seed(0)
    fast, report = train_losses(folder, True, data, a.batch, a.steps, device)
    rel = [abs(f - q) / abs(q) for f, q in zip(fast, plain)]
    modes = [m for m in a.fp8_modes.split(",") if m]
    variants = ("reference", "plain", "fast") + tuple(f"fast_fp8_{m}" for m in modes)
    grads = {v: gradients(folder, v, data[:a.batch], device) for v in variants}
    fast_err = compare(grads["fast"]["grads"], grads["reference"]["grads"])
    plain_err = compare(grads["plain"]["grads"], grads["reference"]["grads"])
    result = {
        "model": a.model, "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
        "apply_report": report, "steps": a.steps, "batch": a.batch, "seq": a.seq,
        "loss_plain": plain, "loss_fast": fast, "max_rel_loss_diff": max(rel),
        "mean_rel_loss_diff": sum(rel) / len(rel),
        "loss_within_1pct": max(rel) <= 0.01,
        "grad_loss": {v: grads[v]["loss"] for v in grads},
        "grad_fast_vs_fp32": fast_err, "grad_plain_bf16_vs_fp32": plain_err,
        "grad_fast_vs_plain": compare(grads["fast"]["grads"], grads["plain"]["grads"]),
        "grads_within_bf16_tolerance": fast_err["relative_l2"] <= max(2 * plain_err["relative_l2"], 1e-2),
    }
    result["fp8"] = {}
    for mode in modes:
        torch.manual_seed(0)
        losses, fp8_report = train_losses(folder, True, data, a.batch, a.steps, device, changes={"fp8_base": mode})
        fp8_rel = [abs(f - q) / abs(q) for f, q in zip(losses, plain)]
        result["fp8"][mode] = {"apply_report": fp8_report, "loss": losses, "max_rel_loss_diff": max(fp8_rel),
                               "mean_rel_loss_diff": sum(fp8_rel) / len(fp8_rel), "loss_within_1pct": max(fp8_rel) <= 0.01,
                               "fp8_products_ran": fp8_ran(),
                               "grad_vs_fp32": compare(grads[f"fast_fp8_{mode}"]["grads"], grads["reference"]["grads"])}
    result["seconds"] = round(time.perf_counter() - started, 1)
    Path(a.json).write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k not in ("loss_plain", "loss_fast", "fp8")}), flush=True)
    for mode, checked in result["fp8"].items():
        print(json.dumps({"fp8": mode, **{k: v for k, v in checked.items() if k != "loss"}}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
