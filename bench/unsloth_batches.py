"""``unsloth_reference_bench.py`` for several batch sizes on one loaded model (saves a model build per size).

    PYTHONPATH=/tmp/u/site-uns python3 bench/unsloth_batches.py --tools .gpu9/tools --bs 2,4

Same workload and code as the shared reference script (random Llama-3.2-3B weights, NF4, LoRA r16 on
all 7 projections, Unsloth's offloaded checkpointing, AdamW, median of 10 steps after 2 warm-up); only
the model is built once and the peak-memory counter is reset before each batch size. Prints one JSON
line per batch size.
"""

import argparse
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
import torch  # noqa: E402
import unsloth  # noqa: E402,F401  (before transformers/peft so that all its patches apply)
from unsloth import FastLanguageModel  # noqa: E402


def measure(model, opt, vocab: int, bs: int, seq: int, steps: int) -> dict:
    """The reference loop at one batch size: median step after 2 warm-up steps, peak memory, last loss."""
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(steps):
        x = torch.randint(10, vocab, (bs, seq), device="cuda")
        torch.cuda.synchronize()
        t = time.time()
        loss = model(input_ids=x, labels=x).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        times.append(time.time() - t)
    st = sorted(times[2:])[len(times[2:]) // 2]
    return dict(bs=bs, batch=bs, median_step_s=round(st, 4), tokens_per_s=round(bs * seq / st),
                peak_mem_gib=round(torch.cuda.max_memory_allocated() / 2**30, 2),
                peak_gib=round(torch.cuda.max_memory_allocated() / 2**30, 3), loss=float(loss.detach()),
                step_times=[round(t, 4) for t in times])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tools", required=True, help="folder holding qlora_reference_bench.py (for LLAMA32_3B)")
    p.add_argument("--bs", default="2,4", help="comma-separated batch sizes")
    p.add_argument("--seq", type=int, default=2048, help="tokens per row")
    p.add_argument("--steps", type=int, default=12, help="steps per batch size (first 2 are warm-up)")
    p.add_argument("--serve", action="store_true",
                   help="after loading, time what JSON lines on stdin ask for (bench/serve_loop.py) instead of --bs")
    a = p.parse_args()
    sys.path.insert(0, a.tools)
    from qlora_reference_bench import LLAMA32_3B
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    cfg = LlamaConfig(**LLAMA32_3B)
    d = tempfile.mkdtemp()
    with torch.device("cuda"):
        m = LlamaForCausalLM(cfg).to(torch.bfloat16)
    m.save_pretrained(d)
    del m
    torch.cuda.empty_cache()
    tok = Tokenizer(models.WordLevel({f"t{i}": i for i in range(cfg.vocab_size)}, unk_token="t0"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="t1", eos_token="t2", pad_token="t3").save_pretrained(d)
    model, _ = FastLanguageModel.from_pretrained(d, max_seq_length=a.seq, load_in_4bit=True, dtype=torch.bfloat16)
    model = FastLanguageModel.get_peft_model(
        model, r=16, lora_alpha=16, lora_dropout=0, bias="none",
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        use_gradient_checkpointing="unsloth")
    FastLanguageModel.for_training(model)
    opt = torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=2e-4)
    if a.serve:
        from serve_loop import serve

        serve(lambda request: measure(model, opt, cfg.vocab_size, int(request["batch"]), a.seq,
                                      int(request.get("steps", a.steps))),
              {"stack": "unsloth", "unsloth": getattr(unsloth, "__version__", "?")})
        return 0
    for bs in (int(b) for b in a.bs.split(",")):
        print(json.dumps(dict(tool="unsloth", seq=a.seq, **measure(model, opt, cfg.vocab_size, bs, a.seq, a.steps))),
              flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
