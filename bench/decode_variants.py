"""Decode speed *and* answer quality of CPU weight formats for the embedded model, side by side.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/decode_variants.py            # ~10 min, as the tutor runs
    HF_HUB_OFFLINE=1 .venv/bin/python bench/decode_variants.py --arc-n 100 --threads 1 --out /tmp/dv.json
    HF_HUB_OFFLINE=1 .venv/bin/python bench/decode_variants.py --only "fp32,packed,llama.cpp" --threads 2

Run it in the tutor's own setting (no ``OMP_WAIT_POLICY``; threads as ``llm.loading.generate_threads``
picks them): with ``OMP_WAIT_POLICY=PASSIVE`` every small kernel pays a thread wake-up and two threads
decode slower than one, so the default here is one thread under PASSIVE and torch's otherwise.

``bench/quiz_speed.py`` measures how fast each variant decodes; a faster format is only worth keeping
if the tutor still answers the same, so here every variant of the embedded model (+ the shipped
adapter, merged) also scores the first ``--arc-n`` ARC-Easy questions in loglik mode and is compared
with fp32 token by token. Variants:

* ``fp32``: the default on CPU;
* ``bf16``: weights and activations in bfloat16;
* ``int8 dynamic``: ``torch.ao.quantization.quantize_dynamic`` (int8 weights per output channel, int8
  activations quantised per call);
* ``int8 weights, bf16 activations``: weight-only int8 (per output channel) through
  ``torch._weight_int8pack_mm`` for single-token steps, dequantised for prefill;
* ``fp32, lean decode step``: dense weights, single-token steps through :mod:`llm.fast_decode`;
* ``packed``: the runtime's default on CPU (:mod:`llm.packed`): the GGUF's own Q4_1 codes for every
  linear layer (int4 kernel, bf16 inputs) and its Q8_0 codes for the LM head (the int4 kernel on two 4-bit halves), the
  adapter's LoRA factors in fp32 beside them. Decoding and greedy outputs use it as the tutor does
  (prefill dense); for the ARC columns *every* call goes through the packed kernels, so they measure
  the format, not the dense prefill; its decode steps run through :mod:`llm.packed_step`;
* ``packed + generic lean step``: the same packed weights through :mod:`llm.fast_decode`'s generic step
  (module calls, ``DynamicCache`` concatenation), as the default decoded before :mod:`llm.packed_step`;
* ``llama.cpp``: the same Q4_1 GGUF and adapter (as a LoRA GGUF) run by llama.cpp (``bench/llamacpp_rows.py``:
  its own sampler, and the tutor's ``TUTOR_BACKEND=llamacpp`` loop), when llama-cpp-python is installed
  (``bash scripts/install.sh --llamacpp``); same prompt token ids, same token count, same ARC requests.

Every row reports decode-only tok/s (``(n - 1) / (time(n) - time(1))``) and tok/s including the prompt
(``n / time(n)``), best of 3. Prints a table and writes JSON (``bench/results/decode_variants.json``) and a PNG beside it.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PROMPTS = ["Explain overfitting in machine learning.", "What is the role of the learning rate in gradient descent?",
           "Describe k-means clustering in simple terms."]


def int8_weight_only(model, act_dtype):
    """A copy of ``model`` whose Linear layers keep int8 weights (per-row scales) and run in ``act_dtype``."""
    import torch
    from torch import nn

    class Int8WeightLinear(nn.Module):
        def __init__(self, linear: nn.Linear):
            super().__init__()
            weight = linear.weight.detach().float()
            scale = weight.abs().amax(dim=1).clamp(min=1e-8) / 127
            self.register_buffer("qweight", torch.round(weight / scale[:, None]).clamp(-127, 127).to(torch.int8))
            self.register_buffer("scale", scale.to(act_dtype))
            self.bias = linear.bias

        def forward(self, x):
            shape = x.shape
            x2 = x.reshape(-1, shape[-1]).to(act_dtype)
            if x2.shape[0] > 4:  # prefill: the int8 kernel is a matrix-vector product
                y = x2 @ (self.qweight.to(act_dtype) * self.scale[:, None]).t()
            else:
                y = torch._weight_int8pack_mm(x2, self.qweight, self.scale)
            y = y.reshape(*shape[:-1], -1).to(x.dtype)
            return y if self.bias is None else y + self.bias

    copy_ = copy.deepcopy(model)
    for module in list(copy_.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, nn.Linear):
                setattr(module, name, Int8WeightLinear(child))
    return copy_


def variants(fp32):
    """(name, build) of every torch variant; ``build()`` makes the model (only for the variants that run)."""
    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    from llm.fast_decode import install
    from llm.loading import load_model

    def lean():
        model = copy.deepcopy(fp32)
        install(model)
        return model

    def generic_packed():
        model = load_model(cache=False, weights="auto").model
        model._tutor_packed_plan = None  # llm.fast_decode's generic step instead of llm.packed_step
        return model

    yield "fp32", lambda: fp32
    yield "fp32, lean decode step", lean
    yield "packed + lean decode step (default)", lambda: load_model(cache=False, weights="auto").model
    yield "packed + generic lean step", generic_packed
    yield "bf16", lambda: copy.deepcopy(fp32).to(torch.bfloat16)
    yield "int8 dynamic (torch.ao, per channel)", lambda: quantize_dynamic(
        copy.deepcopy(fp32), {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)
    yield "int8 weights, bf16 activations", lambda: int8_weight_only(fp32, torch.bfloat16)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: as the tutor generates, llm.loading.generate_threads)")
    parser.add_argument("--arc-n", type=int, default=400, help="ARC-Easy questions scored per variant")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "arc_easy_test.jsonl"))
    parser.add_argument("--new-tokens", type=int, default=128, help="new tokens per timed generation")
    parser.add_argument("--only", default=None,
                        help="comma-separated parts of variant names to run (e.g. 'fp32,packed,llama.cpp'); all by default")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "decode_variants.json"))
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from common.provenance import cpu_name
    from evaluation.arc import loglik_requests
    from evaluation.arc_data import read_jsonl
    from evaluation.loglik import LoglikScorer
    from common.files import write_atomic
    from llm.loading import LoadedModel, load_model
    from llm.packed import MAX_ROWS, set_max_rows

    from llm.loading import generate_threads

    args.threads = args.threads or generate_threads("cpu") or torch.get_num_threads()
    torch.set_num_threads(args.threads)
    base = load_model(weights="dense")
    tok = base.tokenizer
    encoded = [tok.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True,
                                       return_tensors="pt", return_dict=True) for p in PROMPTS]

    def generate(model, inputs, n):
        with torch.inference_mode():
            return model.generate(**inputs, max_new_tokens=n, min_new_tokens=n, do_sample=False,
                                  pad_token_id=tok.pad_token_id)[0, inputs["input_ids"].shape[1]:]

    items = read_jsonl(args.data).items[: args.arc_n]
    requests, continuations = loglik_requests(tok, items, [])
    wanted = [part.strip() for part in args.only.split(",")] if args.only else None
    load_start = [round(x, 2) for x in os.getloadavg()]
    scored = Scored(items, continuations)
    for name, build in variants(base.model):
        if wanted and name != "fp32" and not any(part in name for part in wanted):  # fp32 is the reference
            continue
        model = build()
        timing = speed(lambda ids, n: generate(model, ids, n), encoded[0], args.new_tokens)
        outputs = [generate(model, inputs, 64).tolist() for inputs in encoded]
        started = time.perf_counter()
        lm = LoadedModel(model, tok, base.spec, base.adapter, "cpu")
        set_max_rows(model, 1 << 30)  # packed models: every scoring call through the packed kernels
        logliks = LoglikScorer(lm, threads=args.threads).score(requests, batch_size=16) if items else []
        set_max_rows(model, MAX_ROWS)
        scored.add(name, timing, outputs, logliks, time.perf_counter() - started)
    if not wanted or any("llama.cpp" in part for part in wanted):
        add_llamacpp_rows(scored, [inputs["input_ids"][0].tolist() for inputs in encoded], requests, args)
    result = {"model": base.label + " + " + str(base.adapter), "cpu": cpu_name(), "threads": args.threads,
              "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "(unset: libgomp default, spinning)"),
              "torch": torch.__version__, "load_average_start": load_start,
              "load_average_end": [round(x, 2) for x in os.getloadavg()], "target_decode_tok_s": 40,
              "new_tokens": args.new_tokens, "prompt": PROMPTS[0], "llamacpp": scored.llamacpp,
              "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "rows": scored.rows}
    write_atomic(args.out, json.dumps(result, indent=2) + "\n")
    plot(result, Path(args.out).with_suffix(".png"))
    print(f"wrote {args.out}")
    return 0


class Scored:
    """The rows so far; the first (fp32) is the reference for greedy outputs and ARC picks."""

    def __init__(self, items, continuations):
        self.items, self.continuations = items, continuations
        self.rows: list[dict] = []
        self.reference = self.reference_picks = None
        self.llamacpp: str = "not run"

    def add(self, name: str, timing: dict, outputs: list[list[int]], logliks, arc_s: float) -> None:
        from evaluation.scoring import loglik_prediction

        self.reference = self.reference or outputs
        preds = [loglik_prediction(i, ll, c) for i, ll, c in zip(self.items, logliks, self.continuations)]
        picks = [p["predicted"] for p in preds]
        self.reference_picks = self.reference_picks or picks
        n = max(len(preds), 1)
        row = {"variant": name, **timing,
               "greedy_prefix_share": [round(_prefix(a, b) / len(b), 2) for a, b in zip(outputs, self.reference)],
               "arc_n": len(preds), "arc_acc": round(sum(p["correct"] for p in preds) / n, 4),
               "arc_acc_norm": round(sum(p["correct_norm"] for p in preds) / n, 4),
               "arc_same_pick_as_fp32": round(sum(a == b for a, b in zip(picks, self.reference_picks)) / n, 4),
               "arc_seconds": round(arc_s, 1)}
        self.rows.append(row)
        print(f"{name:44s} decode {row['decode_tok_s']:5.1f} tok/s, with prompt {row['total_tok_s']:5.1f}  "
              f"greedy prefix {row['greedy_prefix_share']}  ARC-Easy[{len(preds)}] acc {row['arc_acc']:.3f} "
              f"norm {row['arc_acc_norm']:.3f} same picks {row['arc_same_pick_as_fp32']:.1%}  ({arc_s:.0f} s)",
              flush=True)


def add_llamacpp_rows(scored: Scored, prompts: list[list[int]], requests, args) -> None:
    """The same GGUF through llama.cpp (bench/llamacpp_rows.py): its own sampler, and the tutor runtime's loop."""
    from bench import llamacpp_rows

    scored.llamacpp = llamacpp_rows.available() or ""
    if scored.llamacpp:
        print(f"llama.cpp rows skipped: {scored.llamacpp}", flush=True)
        return
    import llama_cpp

    scored.llamacpp = f"llama-cpp-python {llama_cpp.__version__}"
    lm, runtime = llamacpp_rows.load(args.threads)
    started = time.perf_counter()
    logliks = llamacpp_rows.logliks(lm, requests, args.threads) if requests else []
    arc_s = time.perf_counter() - started
    for name, generate in (("llama.cpp (its own sampler)", lambda ids, n: llamacpp_rows.generate_native(lm, ids, n)),
                           ("llama.cpp, tutor runtime (TUTOR_BACKEND=llamacpp)",
                            lambda ids, n: llamacpp_rows.generate_runtime(runtime, ids, n))):
        timing = speed(generate, prompts[0], args.new_tokens)
        scored.add(name, timing, [generate(ids, 64) for ids in prompts], logliks, arc_s)


def speed(generate, prompt, n: int, repeats: int = 3) -> dict:
    """Best of ``repeats``: decode-only tok/s ((n - 1) / (t(n) - t(1))) and tok/s with the prompt (n / t(n))."""
    generate(prompt, 4)  # warm-up
    best = min(_timed(lambda: generate(prompt, n)) for _ in range(repeats))
    prefill = min(_timed(lambda: generate(prompt, 1)) for _ in range(repeats))
    return {"decode_tok_s": round((n - 1) / (best - prefill), 1), "total_tok_s": round(n / best, 1)}


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _prefix(a, b) -> int:
    n = 0
    while n < min(len(a), len(b)) and int(a[n]) == int(b[n]):
        n += 1
    return n


def plot(result: dict, path: Path) -> None:
    import matplotlib

    from common.files import write_png

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for row in result["rows"]:
        ax.scatter(row["decode_tok_s"], 100 * row["arc_acc"], s=60)
        ax.annotate(row["variant"], (row["decode_tok_s"], 100 * row["arc_acc"]), textcoords="offset points",
                    xytext=(5, 5), fontsize=8)
    ax.axvline(result["target_decode_tok_s"], color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel(f"decode tokens/s ({result['threads']} thread(s), {result['cpu']})")
    ax.set_ylabel(f"ARC-Easy loglik accuracy, first {result['rows'][0]['arc_n']} (%)")
    ax.set_title("Embedded model on CPU: speed vs answers, per weight format")
    fig.tight_layout()
    write_png(path, fig)


if __name__ == "__main__":
    raise SystemExit(main())
