"""Where does FP8's gradient error come from? LoRA gradients of one step, FP8 variants vs an fp32 reference.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/fp8_grad_error.py --json bench/results/fp8_grad_error_cpu.json
    python3 bench/fp8_grad_error.py --model /tmp/smol.gguf --json $OUT/fp8_grad_error.json     # GPU machine

Same model, data and LoRA initialisation as the gradient part of ``bench/fast_correctness.py`` (an NF4
SmolLM2-135M, fixed non-zero LoRA weights). Variants: the fast path as it is, with ``fp8_base`` 'forward',
'backward' and 'all' (the real ``torch._scaled_mm`` products), and simulations that round only some operands to e4m3
and multiply in the compute dtype (weights only, activations only, finer 1 x ``block`` scale groups), to
tell the rounding of e4m3 itself from the choice of scales.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]


def rounded(t, block: int = 0):
    """``t`` rounded through e4m3 with one scale per row, or per 1 x ``block`` group along the row."""
    from finetune.fast import fp8

    rows, width = t.shape
    if block and width % block == 0:
        return rounded(t.reshape(rows * width // block, block)).reshape(rows, width)
    return fp8.dequantize_rows(*fp8.quantize_rows(t), t.dtype)


def simulated(round_x, round_w):
    """A base-product strategy that rounds the chosen operands and multiplies in the compute dtype."""
    from finetune.fast import lora

    class Simulated(lora.DenseMatmul):
        def forward(self, prepared, base):
            weight = self.dequant(base, prepared.dtype)
            return round_x(prepared) @ round_w(weight).t()

    return Simulated(lora.dense_weight)


def variants(block: int) -> dict:
    def same(t):
        return t

    return {"fast": None, "fast, fp8_base='forward'": {"fp8_base": "forward"},
            "fast, fp8_base='backward'": {"fp8_base": "backward"}, "fast, fp8_base='all'": {"fp8_base": "all"},
            "simulated: weights only rounded (row scales)": simulated(same, rounded),
            "simulated: activations only rounded (row scales)": simulated(rounded, same),
            f"simulated: activations only, 1x{block} groups": simulated(lambda t: rounded(t, block), same),
            f"simulated: both, 1x{block} groups": simulated(lambda t: rounded(t, block), lambda t: rounded(t, block))}


def gradients(folder: str, rows, device: str, variant) -> tuple[float, dict]:
    import torch

    import fast_correctness
    from finetune.fast import llama

    changes = variant if isinstance(variant, dict) else None
    model, _ = fast_correctness._model(folder, fast=variant != "reference", reference=variant == "reference",
                                       changes=changes)
    original = llama._base_matmul
    if variant not in ("reference", None) and not isinstance(variant, dict):
        llama._base_matmul = lambda *args: variant  # every layer uses the simulated products
    try:
        gen = torch.Generator().manual_seed(7)
        for name, param in sorted(fast_correctness._lora(model).items()):
            values = torch.randn(param.shape, generator=gen) * (0.02 if "lora_B" in name else 0.05)
            param.data.copy_(values.to(param.dtype))
        autocast = device == "cuda" and variant != "reference"
        with torch.autocast(device, dtype=torch.bfloat16, enabled=autocast):
            loss = model(input_ids=rows.to(device), labels=rows.to(device)).loss
        loss.backward()
    finally:
        llama._base_matmul = original
    return float(loss.detach()), {n: p.grad.detach().float().cpu() for n, p in fast_correctness._lora(model).items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="embedded", help="model spec: 'embedded', an HF folder or a .gguf file")
    p.add_argument("--batch", type=int, default=2, help="rows")
    p.add_argument("--seq", type=int, default=64, help="tokens per row")
    p.add_argument("--block", type=int, default=32, help="scale group width of the finer simulations")
    p.add_argument("--json", required=True, help="where to write the results")
    a = p.parse_args(argv)

    import torch
    from transformers import AutoTokenizer

    import fast_correctness
    from finetune.base_model import hf_source
    from llm.spec import resolve_model

    device = "cuda" if torch.cuda.is_available() else "cpu"
    started = time.perf_counter()
    folder = hf_source(resolve_model(a.model))
    rows = fast_correctness.text_rows(AutoTokenizer.from_pretrained(folder), a.seq, a.batch)
    ref_loss, reference = gradients(folder, rows, device, "reference")
    result = {"model": a.model, "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
              "torch": torch.__version__, "batch": a.batch, "seq": a.seq, "reference_loss": ref_loss, "variants": []}
    for name, variant in variants(a.block).items():
        loss, grads = gradients(folder, rows, device, variant)
        result["variants"].append({"variant": name, "loss": loss, **fast_correctness.compare(grads, reference)})
        print(json.dumps(result["variants"][-1]), flush=True)
    result["seconds"] = round(time.perf_counter() - started, 1)
    Path(a.json).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
