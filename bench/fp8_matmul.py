"""How much can FP8 base products save? One Llama-3.2-3B layer's frozen products, bf16 vs FP8, on one GPU.

    python3 bench/fp8_matmul.py --json $OUT/fp8_matmul.json          # GPU machine (~30 s, torch only)
    HF_HUB_OFFLINE=1 .venv/bin/python bench/fp8_matmul.py --cpu --tokens 64 --json /tmp/f.json   # CPU plumbing

For each projection shape of the layer (q, k, v, o, gate, up, down) and each token count (batch 2 and 4
at seq 2048) it times, with CUDA events, median of ``--repeats``: the bf16 product ``x W^T``; the FP8
product alone (operands already quantised); and the FP8 product with its quantisations as the fast
path runs them (``finetune.fast.fp8``: activation and weight, through torch.compile, and eagerly). The
layer totals say whether ``FastOptions.fp8_base`` can pay for its quantisation before a full training
run is spent on it; the input-gradient product has the same shapes transposed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SHAPES = {"q": (3072, 3072), "k": (1024, 3072), "v": (1024, 3072), "o": (3072, 3072),
          "gate": (8192, 3072), "up": (8192, 3072), "down": (3072, 8192)}  # (out, in) of Llama-3.2-3B


def timed(fn, repeats: int, cuda: bool) -> float:
    """Median seconds of ``fn()`` (CUDA events on a GPU, wall clock on CPU), after one warm-up call."""
    import torch

    fn()
    times = []
    for _ in range(repeats):
        if cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1000)
        else:
            begin = time.perf_counter()
            fn()
            times.append(time.perf_counter() - begin)
    return statistics.median(times)


def measure_shape(tokens: int, out_features: int, in_features: int, repeats: int, device: str, quantizers) -> dict:
    import torch

    from finetune.fast import fp8

    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    x = torch.randn(tokens, in_features, device=device, dtype=dtype)
    w = torch.randn(out_features, in_features, device=device, dtype=dtype) / in_features ** 0.5
    xq, wq = fp8.quantize_rows(x), fp8.quantize_rows(w)
    cuda = device == "cuda"
    row = {"tokens": tokens, "out": out_features, "in": in_features,
           "dense_s": timed(lambda: x @ w.t(), repeats, cuda),
           "fp8_product_s": timed(lambda: fp8.scaled_product(xq, wq, dtype), repeats, cuda)}
    for name, quantize in quantizers.items():
        row[f"fp8_with_{name}_quantisation_s"] = timed(lambda: fp8.scaled_product(quantize(x), quantize(w), dtype),
                                                       repeats, cuda)
    flops = 2 * tokens * out_features * in_features
    row["dense_tflops"] = flops / row["dense_s"] / 1e12
    row["fp8_product_tflops"] = flops / row["fp8_product_s"] / 1e12
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tokens", default="4096,8192", help="token counts (batch x seq) to time")
    p.add_argument("--repeats", type=int, default=20, help="timed calls per measurement")
    p.add_argument("--cpu", action="store_true", help="run on CPU (plumbing only: numbers meaningless)")
    p.add_argument("--json", required=True, help="where to write the results")
    a = p.parse_args(argv)

    import torch

    from finetune.fast import fp8

    device = "cpu" if a.cpu or not torch.cuda.is_available() else "cuda"
    if not fp8.device_supported(torch.device(device)):
        print(json.dumps({"error": f"torch._scaled_mm does not run on {device}"}))
        return 1
    quantizers = {"eager": fp8.quantize_rows}
    if device == "cuda":
        quantizers["compiled"] = fp8._compiled(fp8.quantize_rows)
    rows = [{"projection": name, **measure_shape(tokens, out_f, in_f, a.repeats, device, quantizers)}
            for tokens in (int(t) for t in a.tokens.split(",")) for name, (out_f, in_f) in SHAPES.items()]
    totals = {}
    for tokens in {r["tokens"] for r in rows}:
        layer = [r for r in rows if r["tokens"] == tokens]
        totals[str(tokens)] = {key: sum(r[key] for r in layer) for key in layer[0] if key.endswith("_s")}
    result = {"device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu", "torch": torch.__version__,
              "rows": rows, "layer_totals_s": totals}
    Path(a.json).write_text(json.dumps(result, indent=1), encoding="utf-8")
    for tokens, total in sorted(totals.items()):
        print(f"{tokens} tokens, one layer's 7 products: " + ", ".join(f"{k} {v * 1e3:.3f} ms" for k, v in total.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
