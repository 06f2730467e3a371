"""How fast is ``tutor eval arc``? Times loglik and letter mode on ARC-Easy (not a test).

    HF_HUB_OFFLINE=1 .venv/bin/python bench/eval_speed.py                      # 1172 loglik + 200 letter
    HF_HUB_OFFLINE=1 .venv/bin/python bench/eval_speed.py --n 300 --letter-n 50 --dtypes float32,bfloat16

Variants, each on the same questions, after one warm-up batch (model loading is not timed):

* ``loglik packed``: what ``tutor eval arc`` does (one packed row per question, see
  :mod:`evaluation.loglik`), for each ``--batch-sizes`` and ``--dtypes`` value;
* ``loglik naive``: the textbook way for comparison (every ``context + choice`` its own padded
  row, full-vocabulary log-softmax everywhere), on ``--naive-n`` questions;
* ``letter``: Outlines-constrained labels, chat template on and off, one-by-one and batched.

Prints a table and writes ``bench/results/eval_speed.json`` (with the machine's load average
before and after, since other processes on a 2-core machine change the numbers a lot).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "arc_easy_test.jsonl"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default=str(DEFAULT_DATA), help="ai2_arc-format JSONL (default ARC-Easy test)")
    p.add_argument("--n", type=int, default=1172, help="questions for loglik mode (the issue's goal: 1172 in 60 s)")
    p.add_argument("--naive-n", type=int, default=100, help="questions for the unpacked baseline (0: skip)")
    p.add_argument("--letter-n", type=int, default=200, help="questions for letter mode (0: skip)")
    p.add_argument("--batch-sizes", default="16", help="comma-separated loglik batch sizes")
    p.add_argument("--letter-batch-sizes", default="1,8", help="comma-separated letter batch sizes")
    p.add_argument("--dtypes", default="float32", help="comma-separated: float32, bfloat16")
    p.add_argument("--model", default=None, help="model spec (default: the embedded SmolLM2-135M-Instruct)")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: every core)")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "eval_speed.json"), help="JSON output")
    return p.parse_args()


def naive_logliks(lm, requests, batch_size: int = 8) -> list[list[float]]:
    """Reference scorer: one right-padded row per (context, continuation), full logits."""
    import torch

    flat = [(ctx, cont) for ctx, conts in requests for cont in conts]
    scores = []
    with torch.inference_mode():
        for start in range(0, len(flat), batch_size):
            chunk = flat[start : start + batch_size]
            length = max(len(c) + len(k) for c, k in chunk)
            ids = torch.full((len(chunk), length), lm.tokenizer.pad_token_id)
            mask = torch.zeros((len(chunk), length), dtype=torch.long)
            for b, (c, k) in enumerate(chunk):
                ids[b, : len(c) + len(k)] = torch.tensor(c + k)
                mask[b, : len(c) + len(k)] = 1
            logprobs = torch.log_softmax(lm.model(ids.to(lm.device), attention_mask=mask.to(lm.device)).logits.float(), -1)
            for b, (c, k) in enumerate(chunk):
                positions = torch.arange(len(c) - 1, len(c) + len(k) - 1)
                scores.append(logprobs[b, positions, torch.tensor(k)].sum().item())
    it = iter(scores)
    return [[next(it) for _ in conts] for _, conts in requests]


def accuracy(items, logliks, continuations) -> tuple[float, float]:
    from evaluation.scoring import loglik_prediction

    rows = [loglik_prediction(i, ll, c) for i, ll, c in zip(items, logliks, continuations)]
    return sum(r["correct"] for r in rows) / len(rows), sum(r["correct_norm"] for r in rows) / len(rows)


def main() -> int:
    args = parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from common.provenance import cpu_name
    from evaluation.arc import loglik_requests
    from evaluation.arc_data import read_jsonl
    from evaluation.loglik import LoglikScorer, set_threads
    from llm.loading import load_model

    threads = set_threads(args.threads)
    data = read_jsonl(args.data)
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    base = load_model(args.model, "none", device=args.device)
    load_seconds = time.perf_counter() - t0
    rows = []

    def record(name, n, seconds, **extra):
        rows.append({"variant": name, "n": n, "seconds": round(seconds, 2), "questions_per_second": round(n / seconds, 2), **extra})
        print(f"{name:<40} n={n:<5} {seconds:7.1f} s  {n / seconds:7.2f} q/s  {extra}", flush=True)

    items = data.items[: args.n]  # the first N: the same questions in every run
    requests, continuations = loglik_requests(base.tokenizer, items, [])
    tokens = sum(len(c) + sum(len(x) - 1 for x in k) for c, k in requests)  # tokens fed (see loglik.pack)
    for dtype in args.dtypes.split(","):
        lm = base
        if dtype != str(base.model.dtype).replace("torch.", ""):
            lm = load_model(args.model, "none", device=args.device, cache=False)
            lm.model.to(getattr(torch, dtype))
        scorer = LoglikScorer(lm, threads=threads)
        for batch_size in [int(b) for b in args.batch_sizes.split(",")]:
            scorer.score(requests[:batch_size], batch_size=batch_size)  # warm-up
            t = time.perf_counter()
            logliks = scorer.score(requests, batch_size=batch_size)
            seconds = time.perf_counter() - t
            acc, acc_norm = accuracy(items, logliks, continuations)
            record(f"loglik packed {dtype} bs={batch_size}", len(items), seconds, acc=round(acc, 4),
                   acc_norm=round(acc_norm, 4), tokens_per_second=round(tokens / seconds))
    if args.naive_n:
        sub = slice(0, min(args.naive_n, len(items)))
        naive_logliks(base, requests[:2])
        t = time.perf_counter()
        logliks = naive_logliks(base, requests[sub])
        seconds = time.perf_counter() - t
        acc, acc_norm = accuracy(items[sub], logliks, continuations[sub])
        record("loglik naive float32 (per choice)", len(logliks), seconds, acc=round(acc, 4), acc_norm=round(acc_norm, 4))
    if args.letter_n:
        from evaluation.letter import run_letter
        from llm.structured import StructuredRuntime

        runtime = StructuredRuntime.for_model(base)
        letter_items = items[: args.letter_n]
        for chat in (True, False):
            run_letter(runtime, letter_items[:2], [], chat, batch_size=2)  # builds the generator
            for batch_size in [int(b) for b in args.letter_batch_sizes.split(",")]:
                t = time.perf_counter()
                preds = run_letter(runtime, letter_items, [], chat, batch_size=batch_size)
                seconds = time.perf_counter() - t
                record(f"letter chat={'on' if chat else 'off'} bs={batch_size}", len(preds), seconds,
                       acc=round(sum(p["correct"] for p in preds) / len(preds), 4),
                       parse_failures=sum(p["parse_failure"] for p in preds))
    result = {
        "data": str(Path(args.data).resolve()), "sha256": data.sha256, "device": base.device, "threads": threads,
        "cpu": cpu_name(), "torch": torch.__version__,
        "model": base.label, "model_load_seconds": round(load_seconds, 2), "loglik_tokens": tokens,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()], "rows": rows,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    from common.files import write_atomic

    write_atomic(args.out, json.dumps(result, indent=2) + "\n")
    print(f"load average before {result['load_average_before']}, after {result['load_average_after']}; wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
