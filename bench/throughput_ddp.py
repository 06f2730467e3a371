"""Multi-GPU scaling of the project's fast QLoRA path through accelerate (DDP), Llama-3.2-3B architecture.

    accelerate launch --num_processes 1 bench/throughput_ddp.py --json /tmp/ddp1.json     # 1 GPU baseline
    accelerate launch --num_processes 2 bench/throughput_ddp.py --json /tmp/ddp2.json     # 2 GPUs
    (or: torchrun --nproc_per_node N bench/throughput_ddp.py ...)

Each process holds the whole NF4 model and trains on its own batch (``--bs`` per GPU); LoRA gradients
are all-reduced by DDP. Scaling = tokens/s with N GPUs over tokens/s with one (goal >= 1.85x on 2).
Rank 0 builds the random-weight folder once; the others wait for it.
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
sys.path.insert(0, str(ROOT / "bench"))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bs", type=int, default=2, help="rows per GPU per step")
    p.add_argument("--seq", type=int, default=2048, help="tokens per row")
    p.add_argument("--steps", type=int, default=12, help="steps (the first 2 are warm-up)")
    p.add_argument("--folder", default="/tmp/ddp_llama3b", help="where rank 0 writes the random model")
    p.add_argument("--json", required=True, help="where rank 0 writes the result")
    p.add_argument("--tiny", action="store_true", help="tiny config on CPU (gloo): plumbing check only")
    p.add_argument("--profile", help="after timing, profile 2 more steps and write rank 0's op table here")
    a = p.parse_args(argv)

    import torch
    from accelerate import Accelerator

    from throughput_project import LLAMA32_3B, TINY, build_folder, load_project_model

    device = "cpu" if a.tiny else "cuda"
    config = dict(TINY, num_hidden_layers=2) if a.tiny else LLAMA32_3B
    seq = min(a.seq, 32) if a.tiny else a.seq
    accelerator = Accelerator(cpu=a.tiny)
    if not a.tiny:
        torch.cuda.set_device(accelerator.local_process_index)
    folder = Path(a.folder)
    if accelerator.is_main_process and not (folder / "config.json").is_file():
        build_folder(config, folder, device)
    accelerator.wait_for_everyone()
    model, _options, report = load_project_model(folder, fast=True, force=a.tiny)
    optimizer = torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=2e-4)
    model, optimizer = accelerator.prepare(model, optimizer)
    model.train()
    cuda = device == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(a.steps):
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        loss = train_step(model, optimizer, accelerator, config["vocab_size"], a.bs, seq, device)
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    if a.profile:
        profile_steps(model, optimizer, accelerator, config["vocab_size"], a.bs, seq, device, Path(a.profile))
    step = torch.tensor(statistics.median(times[2:]), device=device)
    step = accelerator.reduce(step, reduction="max") if accelerator.num_processes > 1 else step
    world = accelerator.num_processes
    result = {"gpus": world, "bs_per_gpu": a.bs, "seq": seq, "median_step_s": round(float(step), 4),
              "tokens_per_s": round(world * a.bs * seq / float(step), 1),
              "peak_gib_rank0": round(torch.cuda.max_memory_allocated() / 2**30, 3) if cuda else None,
              "gpu": torch.cuda.get_device_name(0) if cuda else "cpu", "apply_report": report,
              "loss": round(float(loss.detach()), 4)}
    if accelerator.is_main_process:
        Path(a.json).write_text(json.dumps(result, indent=1), encoding="utf-8")
        print(json.dumps(result), flush=True)
    accelerator.wait_for_everyone()
    return 0


def train_step(model, optimizer, accelerator, vocab: int, bs: int, seq: int, device: str):
    """One optimiser step on random tokens (speed does not depend on their values); returns the loss."""
    import torch

    x = torch.randint(0, vocab, (bs, seq), device=device)
    with torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda"):
        loss = model(input_ids=x, labels=x).loss
    accelerator.backward(loss)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return loss


def profile_steps(model, optimizer, accelerator, vocab: int, bs: int, seq: int, device: str, out: Path) -> None:
    """Two training steps under torch.profiler; rank 0 writes the ops sorted by device (or CPU) time."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    cuda = device == "cuda"
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as prof:
        for _ in range(2):
            train_step(model, optimizer, accelerator, vocab, bs, seq, device)
        if cuda:
            torch.cuda.synchronize()
    if accelerator.is_main_process:
        key = "self_cuda_time_total" if cuda else "self_cpu_time_total"
        out.write_text(prof.key_averages().table(sort_by=key, row_limit=60, max_name_column_width=90),
                       encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
