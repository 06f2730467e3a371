"""How far llama.cpp's own rounding moves the tutor model's next-token distribution, against how far a wrong LoRA
conversion would: the yardstick of ``tests/integration/test_llamacpp_runtime.py``, measured without llama.cpp.

llama.cpp runs the GGUF's Q4_1 weights as stored; ggml's CPU dot products quantise each activation row to 8 bits
per block of 32 (Q8_1 against Q4_1 weights, Q8_0 against the Q8_0 output head), the LoRA terms run in F32 on the
raw activations, and Q/K/V meet in fp16 (the F16 KV cache). This script emulates that in torch on the same weights
(the base dequantised from the GGUF, the adapter unmerged through PEFT) and compares it with the fp32 merged model
the torch path runs:

* teacher-forced along fp32's greedy tokens of the test's prompts: mean and max KL(fp32 || variant) per step, and
  argmax agreement on the steps where fp32's top two logits are at least ``MARGIN`` apart;
* free-running greedy: tokens shared before the first difference, and fp32's top-2 gap at the first 8 steps (a
  near-tie ends a free-running comparison however close the two runtimes are);
* ARC-Easy loglik picks, as ``bench/decode_variants.py`` scores its llama.cpp rows.

Variants: the emulated rounding alone, then with plausible conversion bugs (LoRA scale x0.9, q/k ``lora_B`` rows
in the wrong layout, no LoRA on q/k, no adapter).

    HF_HUB_OFFLINE=1 PYTHONPATH=$PWD python bench/llamacpp_emulation.py   # writes bench/results/llamacpp_emulation.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
QUESTIONS = ("Explain overfitting in machine learning.", "What is the role of the learning rate in gradient descent?",
             "Describe k-means clustering in simple terms.", "What does dropout do?")  # the test's prompts
MARGIN = 1.0  # logits between fp32's top two: below it the emulated rounding moved the gap by up to 0.7
N = 32


def step_metrics(reference, other, margin: float = MARGIN) -> dict:
    """KL(reference || other) per step and argmax agreement where the reference is not near a tie; both ``[steps,
    vocab]`` logits (numpy or torch) of the same positions."""
    ref, oth = (np.asarray(x, dtype=np.float64) for x in (reference, other))
    logp = ref - ref.max(-1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(-1, keepdims=True))
    logq = oth - oth.max(-1, keepdims=True)
    logq -= np.log(np.exp(logq).sum(-1, keepdims=True))
    kl = (np.exp(logp) * (logp - logq)).sum(-1)
    top2 = np.sort(ref, -1)[:, -2:]
    confident = (top2[:, 1] - top2[:, 0]) >= margin
    agree = ref.argmax(-1) == oth.argmax(-1)
    return {"steps": len(kl), "kl_sum": float(kl.sum()), "kl_max": float(kl.max()),
            "confident": int(confident.sum()), "confident_agree": int(agree[confident].sum())}


def merge_metrics(parts: list[dict]) -> dict:
    steps = sum(p["steps"] for p in parts)
    confident = sum(p["confident"] for p in parts)
    return {"mean_kl": round(sum(p["kl_sum"] for p in parts) / steps, 4),
            "max_kl": round(max(p["kl_max"] for p in parts), 3), "steps": steps, "confident_steps": confident,
            "confident_agreement": round(sum(p["confident_agree"] for p in parts) / max(confident, 1), 3)}


def q8_blocks(x):
    """``x`` as ggml's Q8 activation blocks hold it: 32 values, one fp16 scale, 8-bit integers."""
    import torch

    blocks = x.reshape(*x.shape[:-1], x.shape[-1] // 32, 32)
    scale = (blocks.abs().amax(-1, keepdim=True) / 127).half().float()
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))
    return (torch.round(blocks / safe) * scale).reshape(x.shape)


def emulate_llamacpp(peft_model) -> None:
    """Hooks that give ``peft_model`` (adapter unmerged) llama.cpp's CPU rounding (see the module docstring)."""
    for name, module in peft_model.named_modules():
        if name.endswith("base_layer"):  # the quantised base matmul; the LoRA branch sees the raw activations
            module.register_forward_pre_hook(lambda m, args: (q8_blocks(args[0]),))
        if name.endswith(("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj")):
            module.register_forward_hook(lambda m, args, out: out.half().float())
    peft_model.get_output_embeddings().register_forward_pre_hook(lambda m, args: (q8_blocks(args[0]),))


def step_logits(model, tokenizer, prompt: str, ids: list[int]):
    """The logits that predict each of ``ids`` after ``prompt`` (one forward: teacher forcing)."""
    import torch

    p = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).input_ids
    with torch.inference_mode():
        logits = model(torch.cat([p, torch.tensor([ids])], 1)).logits[0]
    return logits[p.shape[1] - 1: p.shape[1] - 1 + len(ids)].float().numpy()


def greedy(model, tokenizer, prompt: str, n: int = N) -> list[int]:
    import torch

    inputs = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=n, do_sample=False, pad_token_id=tokenizer.pad_token_id)
    return out[0, inputs.input_ids.shape[1]:].tolist()


def shared_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def bugs(n_head: int, n_kv_head: int) -> dict:
    """Edits of each ``lora_B`` weight (PEFT module name, tensor) that a wrong conversion amounts to."""
    from llm.lora_gguf import permute_rows

    qk = lambda name: ".q_proj." in name or ".k_proj." in name  # noqa: E731
    heads = lambda name: n_head if ".q_proj." in name else n_kv_head  # noqa: E731
    return {"emulated llama.cpp rounding": lambda name, w: w,
            "+ LoRA scale x0.9": lambda name, w: 0.9 * w,
            "+ q/k lora_B rows in the wrong layout": lambda name, w: permute_rows(w, heads(name)) if qk(name) else w,
            "+ no LoRA on q/k": lambda name, w: 0 * w if qk(name) else w,
            "+ no adapter": lambda name, w: 0 * w}


def arc_picks(lm, requests, items, continuations, threads: int) -> list[int]:
    from evaluation.loglik import LoglikScorer
    from evaluation.scoring import loglik_prediction

    logliks = LoglikScorer(lm, threads=threads).score(requests, batch_size=16)
    return [loglik_prediction(i, ll, c)["predicted"] for i, ll, c in zip(items, logliks, continuations)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--arc-n", type=int, default=400, help="ARC-Easy questions (as bench/decode_variants.py)")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "arc_easy_test.jsonl"))
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "llamacpp_emulation.json"))
    args = parser.parse_args(argv)

    import torch
    from peft import PeftModel

    from common.files import write_atomic
    from common.provenance import cpu_name
    from evaluation.arc import loglik_requests
    from evaluation.arc_data import read_jsonl
    from llm.loading import LoadedModel, load_model

    torch.set_num_threads(args.threads)
    load_start = [round(x, 2) for x in os.getloadavg()]
    fp32 = load_model(weights="dense", cache=False)  # the torch path: adapter merged, fp32
    tok = fp32.tokenizer
    prompts = [tok.apply_chat_template([{"role": "user", "content": q}], tokenize=False, add_generation_prompt=True)
               for q in QUESTIONS]
    refs = [greedy(fp32.model, tok, p) for p in prompts]
    ref_logits = [step_logits(fp32.model, tok, p, r) for p, r in zip(prompts, refs)]
    items = read_jsonl(args.data).items[: args.arc_n]
    requests, continuations = loglik_requests(tok, items, [])
    ref_picks = arc_picks(fp32, requests, items, continuations, args.threads)

    peft = PeftModel.from_pretrained(load_model(adapter="none", weights="dense", cache=False).model, fp32.adapter)
    peft.eval()
    emulate_llamacpp(peft)
    config = peft.get_base_model().config
    original = {n: m.weight.data.clone() for n, m in peft.named_modules() if n.endswith("lora_B.default")}
    rows = []
    for label, edit in bugs(config.num_attention_heads, config.num_key_value_heads).items():
        for name, module in peft.named_modules():
            if name in original:
                module.weight.data = edit(name, original[name].clone())
        parts = [step_metrics(r, step_logits(peft, tok, p, ids)) for p, ids, r in zip(prompts, refs, ref_logits)]
        rows.append({"variant": label, **merge_metrics(parts)})
        print(rows[-1], flush=True)
        if not rows[1:]:  # the emulation itself: free-running greedy and ARC picks too
            rows[0]["greedy_shared_prefix"] = [shared_prefix(greedy(peft, tok, p), r) for p, r in zip(prompts, refs)]
            lm = LoadedModel(peft, tok, fp32.spec, fp32.adapter, "cpu")
            picks = arc_picks(lm, requests, items, continuations, args.threads)
            rows[0]["arc_same_pick_as_fp32"] = round(sum(a == b for a, b in zip(picks, ref_picks)) / len(picks), 4)
            print(rows[0], flush=True)
    top2 = [np.sort(r[:8], -1)[:, -2:] for r in ref_logits]
    gaps = [[round(float(hi - lo), 3) for lo, hi in pairs] for pairs in top2]
    result = {"model": f"{fp32.label} + {fp32.adapter}", "cpu": cpu_name(), "threads": args.threads,
              "torch": torch.__version__, "load_average_start": load_start,
              "load_average_end": [round(x, 2) for x in os.getloadavg()], "questions": list(QUESTIONS),
              "new_tokens": N, "margin": MARGIN, "arc_n": len(items), "fp32_top2_gap_first_8_steps": gaps,
              "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "rows": rows}
    write_atomic(args.out, json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
