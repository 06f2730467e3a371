"""Concurrent generations one after another (behind the lock) vs batched (llm.batching), on the embedded model.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/batched_decode.py                      # N = 1, 4, 8, 20; ~10 min
    HF_HUB_OFFLINE=1 .venv/bin/python bench/batched_decode.py --n 1 4 --new-tokens 16 --out /tmp/bd.json

N requests (chat prompts, greedy, exactly ``--new-tokens`` each) all arrive at once from N threads, as N
sessions asking together would. ``serialised`` is the path without the scheduler (``TUTOR_BATCHING=0``):
each request runs ``generate`` alone behind ``llm.loading.GENERATE_LOCK``, streaming through a streamer;
``batched`` submits them to :class:`llm.batching.BatchScheduler`. Per mode and N: aggregate tokens/s (all
tokens over the wall time from the first submission to the last token), per-request latency p50/p95 (to
its last token) and first-token latency p50/p95, and whether both modes produced the same tokens.

Prints a table and writes JSON (``bench/results/batched_decode.json``) and a PNG beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
QUESTIONS = ["What is dropout?", "Explain overfitting.", "What does the learning rate do?", "Define precision.",
             "What is recall?", "Why normalise input features?", "What is a ReLU?", "Explain k-means clustering.",
             "What is a confusion matrix?", "What is gradient descent?", "Explain the bias-variance trade-off.",
             "What is cross-validation?", "What is a decision tree?", "What does softmax do?",
             "What is batch normalisation?", "What is an embedding?", "Explain L2 regularisation.",
             "What is a learning curve?", "What is early stopping?", "What is a loss function?"]


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by linear interpolation (statistics' 'inclusive' method)."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def run_serialised(lm, prompts: list[list[int]], new_tokens: int) -> list[dict]:
    """Each request in its own thread, ``generate`` alone behind the process-wide lock (the pre-batching path)."""
    import torch
    from transformers.generation.streamers import BaseStreamer

    from llm.loading import generating

    class Clock(BaseStreamer):  # generate() puts the prompt first, then one call per new token
        def __init__(self, row: dict):
            self.row, self.calls = row, 0

        def put(self, value):
            self.calls += 1
            if self.calls == 2:
                self.row["first"] = time.perf_counter()

        def end(self):
            pass

    def one(ids: list[int], row: dict) -> None:
        with generating(lm), torch.inference_mode():
            out = lm.model.generate(torch.tensor([ids]), max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                                    do_sample=False, pad_token_id=lm.tokenizer.pad_token_id, streamer=Clock(row))
        row["end"], row["tokens"] = time.perf_counter(), out[0, len(ids):].tolist()

    return _concurrently(prompts, one)


def run_batched(scheduler, prompts: list[list[int]], new_tokens: int) -> list[dict]:
    """Each request in its own thread, submitted to the scheduler and streamed back."""
    from transformers import MinNewTokensLengthLogitsProcessor

    eos = scheduler.lm.tokenizer.eos_token_id

    def one(ids: list[int], row: dict) -> None:
        tokens = []
        # exactly new_tokens, EOS masked as generate(min_new_tokens=...) masks it on the serialised side
        no_eos = MinNewTokensLengthLogitsProcessor(len(ids), new_tokens, eos)
        for token in scheduler.submit(ids, max_new_tokens=new_tokens, processors=[no_eos]):
            if not tokens:
                row["first"] = time.perf_counter()
            tokens.append(token)
        row["end"], row["tokens"] = time.perf_counter(), tokens

    return _concurrently(prompts, one)


def _concurrently(prompts: list[list[int]], one) -> list[dict]:
    rows = [{} for _ in prompts]
    start = threading.Barrier(len(prompts) + 1)

    def run(i: int) -> None:
        start.wait()
        one(prompts[i], rows[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(prompts))]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    for row in rows:
        row["began"] = began
    return rows


def summarise(mode: str, rows: list[dict], new_tokens: int) -> dict:
    began = rows[0]["began"]
    latency = [r["end"] - began for r in rows]
    first = [r["first"] - began for r in rows]
    wall = max(r["end"] for r in rows) - began
    return {"mode": mode, "n": len(rows), "new_tokens": new_tokens, "wall_s": round(wall, 2),
            "aggregate_tok_s": round(sum(len(r["tokens"]) for r in rows) / wall, 1),
            "latency_p50_s": round(percentile(latency, 0.5), 2), "latency_p95_s": round(percentile(latency, 0.95), 2),
            "first_token_p50_s": round(percentile(first, 0.5), 2),
            "first_token_p95_s": round(percentile(first, 0.95), 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1, 4, 8, 20], help="concurrent requests per run")
    parser.add_argument("--new-tokens", type=int, default=64, help="tokens every request generates")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "batched_decode.json"),
                        help="results JSON (a PNG is written beside it)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from common.files import write_atomic
    from common.provenance import cpu_name, load_average, package_versions
    from llm.batching import BatchScheduler
    from llm.loading import load_model

    lm = load_model()
    tok = lm.tokenizer
    prompts = [tok.apply_chat_template([{"role": "user", "content": q}], add_generation_prompt=True,
                                       tokenize=True, return_dict=True)["input_ids"] for q in QUESTIONS]
    scheduler = BatchScheduler(lm, max_batch=max(args.n))
    load_start = load_average()
    run_serialised(lm, prompts[:1], 4), run_batched(scheduler, prompts[:1], 4)  # warm-up
    rows, same = [], {}
    for n in args.n:
        batch = [prompts[i % len(prompts)] for i in range(n)]
        serial = run_serialised(lm, batch, args.new_tokens)
        batched = run_batched(scheduler, batch, args.new_tokens)
        same[n] = [s["tokens"] for s in serial] == [b["tokens"] for b in batched]
        for mode, result in (("serialised", serial), ("batched", batched)):
            rows.append(summarise(mode, result, args.new_tokens) | {"same_tokens_as_serialised": same[n]})
            print(_line(rows[-1]), flush=True)
    adapter = f"adapter {Path(lm.adapter).name}" if lm.adapter else "no adapter"
    result = {"model": f"{lm.label} + {adapter}", "weights": lm.weights, "cpu": cpu_name(),
              "cores": os.cpu_count(), "torch_threads": lm.threads or torch.get_num_threads(),
              "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(unset: libgomp default, spinning)"),
              "niceness": os.nice(0), "versions": package_versions(("torch", "transformers")),
              "load_average_start": load_start,
              "load_average_end": load_average(), "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "rows": rows}
    write_atomic(args.out, json.dumps(result, indent=2) + "\n")
    plot(result, Path(args.out).with_suffix(".png"))
    print(f"wrote {args.out} (load average {load_start} -> {result['load_average_end']})")
    return 0


def _line(row: dict) -> str:
    return (f"{row['mode']:10s} N={row['n']:2d}  {row['aggregate_tok_s']:6.1f} tok/s  latency p50 "
            f"{row['latency_p50_s']:6.2f} s p95 {row['latency_p95_s']:6.2f} s  first token p50 "
            f"{row['first_token_p50_s']:6.2f} s p95 {row['first_token_p95_s']:6.2f} s  "
            f"same tokens {row['same_tokens_as_serialised']}")


def plot(result: dict, path: Path) -> None:
    import matplotlib

    from common.files import write_png

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (speed, wait) = plt.subplots(1, 2, figsize=(10, 4))
    for mode, style in (("serialised", "o--"), ("batched", "s-")):
        rows = [r for r in result["rows"] if r["mode"] == mode]
        ns = [r["n"] for r in rows]
        speed.plot(ns, [r["aggregate_tok_s"] for r in rows], style, label=mode)
        wait.plot(ns, [r["first_token_p95_s"] for r in rows], style, label=f"{mode}, first token p95")
        wait.plot(ns, [r["latency_p95_s"] for r in rows], style, alpha=0.4, label=f"{mode}, whole answer p95")
    speed.set(xlabel="concurrent requests", ylabel="tokens/s, all requests together", title="throughput")
    wait.set(xlabel="concurrent requests", ylabel="seconds", title="waiting, per request")
    for ax in (speed, wait):
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle(f"{result['model']} on {result['cpu']} ({result['torch_threads']} torch thread(s)), "
                 f"{result['rows'][0]['new_tokens']} new tokens each", fontsize=9)
    fig.tight_layout()
    write_png(path, fig)


if __name__ == "__main__":
    raise SystemExit(main())
