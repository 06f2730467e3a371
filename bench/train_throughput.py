"""QLoRA training speed on one GPU: the project's trainer vs the plain stack vs Unsloth, in one run.

    python3 bench/train_throughput.py --tools .gpu9/tools --site /tmp/site --correctness-model /tmp/smol.gguf  # GPU
    HF_HUB_OFFLINE=1 .venv/bin/python bench/train_throughput.py --dry-run --out /tmp/tt   # CPU plumbing
    .venv/bin/python bench/train_throughput.py --replot                                 # redraw the PNG

On the device machine: ``bash bench/gpu/pack.sh BUNDLE`` here builds the git-ignored ``.gpu9/`` (the Unsloth
bundle, which also supplies bitsandbytes; the 98 MB GGUF for the correctness check in four parts; the
liger-kernel/gguf wheels; copies of the shared reference scripts), then three calls back to back on the
warm machine: ``bash .gpu9/tools/stage.sh .gpu9/a`` (carry .gpu9/a, .gpu9/tools), ``... stage.sh .gpu9/b``,
``STACKS=interleaved,plain bash .gpu9/tools/run.sh .gpu9/c``, then ``STACKS=correctness MERGE=1 bash ...run.sh
.gpu9/c`` (one call carries at most 64 MiB with the working tree and runs at most 10 minutes; ``--merge`` adds
the second call's results to the first's, kept in ``--work``).

Workload (the issue's anchors): Llama-3.2-3B architecture with random weights, seq 2048, LoRA r16 on
all 7 projections, NF4 double quantisation, bf16 compute, AdamW, median step time after 2 warm-up
steps of 12. Each stack runs in its own process on the same card:

* ``interleaved`` (default): the project (``finetune.base_model`` + ``finetune.fast.apply``,
  :mod:`bench.throughput_project`), the project with ``fp8_base`` 'all' and 'backward', Unsloth (the code of
  ``unsloth_reference_bench.py``, :mod:`bench.unsloth_batches`, its bundle on PYTHONPATH) loaded at once in
  two worker processes and measured in turn, ``--repeats`` times each at every ``--batches`` value, in
  rotated order (:mod:`bench.interleave`); rows hold the median, the repeats and their spread. Then each
  lever of ``throughput_project.LEVERS`` once at each ``--lever-batches`` value (``project`` / ``unsloth``:
  the older one-process-per-stack runs, single measurements);
* ``plain``: ``qlora_reference_bench.py`` (transformers + PEFT + bitsandbytes, gradient checkpointing),
  at ``--plain-batches`` (default 2, its anchor);
* ``correctness``: :mod:`bench.fast_correctness` on a small real model (200 steps, FP8 variant included).

FLOPs per token = 6 N with N = 3.21e9 parameters of the architecture (tied embedding counted once, as
the LM head); attention's own FLOPs are left out. MFU = tokens/s x 6N / 989.4e12 (H100 SXM dense bf16
peak). At the ~790 TFLOP/s a large bf16 matmul reaches on these cards, 6N caps training at ~41k tok/s.

Writes ``train_throughput.json`` (rows: stack, batch, seq, tokens_per_s, peak_gib, mfu, gpu[, repeats, spread])
and ``train_throughput_details.json`` (levers, correctness, ratios) to ``--out``, ``--work`` and ``bench/results/``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common.files import write_json, write_png  # noqa: E402 (after the path insert: runs as a script)

PEAK_FLOPS = 989.4e12
PARAMS_3B = 3_212_749_824  # bench.throughput_project.parameter_count(LLAMA32_3B)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--stacks", default="interleaved,correctness,plain",
                   help="what to run, in this order: 'interleaved' (project, project+FP8 and Unsloth workers "
                        "alternating, then the levers), or the older one-process-per-stack 'project', 'unsloth'; "
                        "'correctness'; 'plain'")
    p.add_argument("--repeats", type=int, default=3, help="interleaved repeats of each stack and batch size")
    p.add_argument("--steps", type=int, default=12, help="steps per interleaved measurement (first 2 warm-up)")
    p.add_argument("--batches", default="2,4", help="comma-separated batch sizes")
    p.add_argument("--seq", type=int, default=2048, help="tokens per row")
    p.add_argument("--plain-batches", default="2", help="batch sizes for the plain stack (its anchor is batch 2)")
    p.add_argument("--lever-steps", type=int, default=6, help="steps per lever measurement (first 2 warm-up)")
    p.add_argument("--lever-batches", default="2,4", help="batch sizes at which each lever is switched in turn")
    p.add_argument("--tools", default=None, help="folder with the reference scripts (default .gpu9/tools, "
                                                  "else ../shared/tools)")
    p.add_argument("--site", default="", help="extra PYTHONPATH for project/plain (bitsandbytes, liger-kernel)")
    p.add_argument("--unsloth-site", default="/tmp/u/site-uns", help="PYTHONPATH of the Unsloth bundle")
    p.add_argument("--correctness-model", default="embedded", help="model spec for the correctness check")
    p.add_argument("--budget-s", type=float, default=540, help="start no new stack after this many seconds")
    p.add_argument("--dry-run", action="store_true", help="tiny CPU configs, no reference stacks")
    p.add_argument("--out", default=os.environ.get("OUT", "/tmp/train_throughput"), help="output folder")
    p.add_argument("--work", default=None, help="folder for per-stack files (default: a temporary folder)")
    p.add_argument("--replot", action="store_true", help="only redraw the PNG from bench/results/*.json")
    p.add_argument("--merge", action="store_true",
                   help="start from the JSON an earlier call left in --work and replace only what these --stacks "
                        "measure (split one benchmark over two device calls: the 10-minute limit)")
    return p.parse_args(argv)


def run_json(cmd: list[str], env: dict, log: Path, timeout: float) -> tuple[list[dict], int]:
    """Run ``cmd``; returns the JSON objects it printed one per line, and its exit code (-9: timed out)."""
    started = time.perf_counter()
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=max(timeout, 30), cwd=ROOT)
        text, code = proc.stdout + proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:
        text, code = f"{exc.stdout or ''}{exc.stderr or ''}\nTIMEOUT", -9
    with log.open("a", encoding="utf-8") as f:
        f.write(f"\n$ {' '.join(cmd)}  ({time.perf_counter() - started:.0f} s, exit {code})\n{text[-6000:]}\n")
    objects = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                objects.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    if code != 0:
        print(f"  exit {code}: {text.strip().splitlines()[-1] if text.strip() else ''}", flush=True)
    return objects, code


def row(stack: str, batch: int, seq: int, tokens_per_s: float, peak_gib: float, gpu: str, **extra) -> dict:
    return {"stack": stack, "batch": batch, "seq": seq, "tokens_per_s": round(float(tokens_per_s), 1),
            "peak_gib": round(float(peak_gib), 3), "mfu": round(tokens_per_s * 6 * PARAMS_3B / PEAK_FLOPS, 4),
            "gpu": gpu, **extra}


# the interleaved stacks (bench/interleave.py): the project with FastOptions.fp8_base 'all' and 'backward' too
VARIANTS = [("project", "project", {}), ("project-fp8", "project", {"options": {"fp8_base": "all"}}),
            ("project-fp8-bwd", "project", {"options": {"fp8_base": "backward"}}),
            ("unsloth", "unsloth", {})]


def interleaved(a, site_env: dict, unsloth_env: dict, tools: Path, log: Path, deadline: float, gpu: str):
    """Both workers loaded at once, each variant x batch measured ``--repeats`` times in rotated order, then
    each project lever once per lever batch; returns (rows, details)."""
    from interleave import Variant, Worker, measure_all, ratio, schedule, summarise
    from throughput_project import LEVERS

    python, batches = sys.executable, [int(b) for b in a.batches.split(",")]
    workers = {"project": Worker("project", [python, "bench/throughput_project.py", "--serve", "--seq", str(a.seq)]
                                 + (["--tiny", "--layers", "2"] if a.dry_run else []), site_env, log, ROOT)}
    if not a.dry_run:
        workers["unsloth"] = Worker("unsloth", [python, "bench/unsloth_batches.py", "--serve", "--tools", str(tools),
                                                "--seq", str(a.seq)], unsloth_env, log, ROOT)
    ready = {name: w.wait_ready(max(deadline - time.monotonic(), 1)) for name, w in workers.items()}
    details = {"ready": ready, "repeats": a.repeats, "steps": a.steps}
    for name in [name for name, message in ready.items() if message is None]:
        workers.pop(name).close()  # never got ready: its log says why; its variants come back as errors
    variants = [Variant(*v) for v in VARIANTS if not a.dry_run or v[1] == "project"]
    measured = measure_all(workers, schedule(variants, batches, a.repeats), a.steps, deadline)
    lever_plan = [(0, int(b), Variant(name, "project", {"options": changes, "kernels": kernels,
                                                          "steps": a.lever_steps}))
                  for b in a.lever_batches.split(",") for name, changes, kernels in LEVERS]
    levers = measure_all(workers, lever_plan, a.lever_steps, deadline)
    for worker in workers.values():
        worker.close()
    summary = summarise(measured)
    details.update(measurements=measured, summary=summary,
                   levers=[{"lever_off": r.pop("variant"), **r} for r in levers],
                   ratios={f"{v}/unsloth b{b}": ratio(summary, v, "unsloth", b)
                           for v in ("project", "project-fp8", "project-fp8-bwd") for b in batches})
    rows = [row(r["variant"], r["batch"], a.seq, r["tokens_per_s"], r["peak_gib"], gpu,
                repeats=r["repeats"], spread=round(r["spread"], 4)) for r in summary if "tokens_per_s" in r]
    return rows, details


def gpu_name() -> str:
    try:
        return subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                              text=True, timeout=30).stdout.strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "cpu"


def print_table(rows: list[dict], levers: list[dict]) -> None:
    print(f"\n{'stack':<16}{'batch':>6}{'tok/s':>10}{'peak GiB':>10}{'MFU':>8}  gpu")
    for r in sorted(rows, key=lambda r: (r["batch"], r["stack"])):
        spread = f"  {len(r['repeats'])} repeats, spread {r['spread']:.1%}" if "repeats" in r else ""
        print(f"{r['stack']:<16}{r['batch']:>6}{r['tokens_per_s']:>10.0f}{r['peak_gib']:>10.2f}{r['mfu']:>8.1%}"
              f"  {r['gpu']}{spread}")
    if levers:
        print("\nproject, one lever changed at a time:")
        for lever in levers:
            label = f"b{lever.get('batch', '?')} {lever['lever_off']}"
            if "error" in lever:
                print(f"  {label:<52} {lever['error']}")
            else:
                print(f"  {label:<52}{lever['tokens_per_s']:>10.0f} tok/s{lever['peak_gib']:>8.2f} GiB")
    print(f"MFU = tok/s x 6 x {PARAMS_3B / 1e9:.2f}e9 / {PEAK_FLOPS / 1e12:.1f} TFLOP/s")


def plot(rows: list[dict], details: dict, path: Path) -> None:
    """Tokens/s per stack and batch (peak GiB on the bars, min-max of repeats as error bars) and, if present,
    the correctness loss curves."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    correctness = details.get("correctness")
    fig, axes = plt.subplots(1, 2 if correctness else 1, figsize=(12 if correctness else 6, 4.2), squeeze=False)
    ax = axes[0][0]
    stacks = [s for s in ("plain", "project", "project-fp8", "project-fp8-bwd", "unsloth")
              if any(r["stack"] == s for r in rows)]
    batches = sorted({r["batch"] for r in rows})
    width = 0.8 / max(len(stacks), 1)
    for offset, stack in enumerate(stacks):
        for index, batch in enumerate(batches):
            match = [r for r in rows if r["stack"] == stack and r["batch"] == batch]
            if match:
                r = match[0]
                x = index + (offset - (len(stacks) - 1) / 2) * width
                error = ([[r["tokens_per_s"] - min(r["repeats"])], [max(r["repeats"]) - r["tokens_per_s"]]]
                         if r.get("repeats") else None)
                bar = ax.bar(x, r["tokens_per_s"], width * 0.92, yerr=error, capsize=3, color=f"C{offset}",
                             label=stack if index == 0 else None)
                ax.bar_label(bar, [f"{r['peak_gib']:.2f} GiB"], fontsize=7)
    ax.set_xticks(range(len(batches)), [f"batch {b}" for b in batches])
    repeats = max((len(r.get("repeats", [])) for r in rows), default=0)
    ax.set_ylabel("tokens/s (seq 2048)" + (f", median of {repeats} interleaved" if repeats > 1 else ""))
    ax.set_title(f"QLoRA Llama-3.2-3B arch., {rows[0]['gpu'] if rows else ''}", fontsize=10)
    ax.legend(fontsize=8)
    if correctness:
        ax = axes[0][1]
        ax.plot(correctness["loss_plain"], label="plain (PEFT + bnb)")
        ax.plot(correctness["loss_fast"], "--", label="fast path")
        title = f"max difference {correctness['max_rel_loss_diff']:.2%}"
        for mode, checked in correctness.get("fp8", {}).items():
            ax.plot(checked["loss"], ":", label=f"fast path, fp8_base='{mode}'")
            title += f", FP8 {mode} {checked['max_rel_loss_diff']:.2%}"
        ax.set_xlabel("step")
        ax.set_ylabel("training loss")
        ax.set_title(f"SmolLM2-135M, {title}", fontsize=10)
        ax.legend(fontsize=8)
    fig.tight_layout()
    write_png(path, fig, dpi=110)


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    results = ROOT / "bench" / "results"
    if a.replot:
        plot(json.loads((results / "train_throughput.json").read_text()),
             json.loads((results / "train_throughput_details.json").read_text()), results / "train_throughput.png")
        return 0
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    log = out / "train_throughput.log"
    work = Path(a.work or tempfile.mkdtemp(prefix="train_throughput_"))
    work.mkdir(parents=True, exist_ok=True)
    tools = Path(a.tools) if a.tools else next((d for d in (ROOT / ".gpu9" / "tools", ROOT.parent / "shared" / "tools")
                                                   if d.is_dir()), ROOT / ".gpu9" / "tools")
    plain_batches = [int(b) for b in a.plain_batches.split(",")]
    gpu = gpu_name()
    base_env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    shm = Path("/dev/shm")
    if shm.is_dir() and os.statvfs(shm).f_bavail * os.statvfs(shm).f_frsize > 40 * 2**30:
        base_env["TMPDIR"] = str(shm)  # the 6.4 GB random checkpoints are written and read back from RAM
    site_env = {**base_env, "PYTHONPATH": os.pathsep.join(x for x in (a.site, str(ROOT)) if x)}
    python = sys.executable
    started = time.perf_counter()
    rows, details = [], {"gpu": gpu, "flops_per_token": 6 * PARAMS_3B, "peak_flops": PEAK_FLOPS, "seq": a.seq,
                         "levers": [], "errors": []}
    if a.merge:
        from interleave import merged_start

        rows, details = merged_start(work, a.stacks.split(","), details)

    def left() -> float:
        return a.budget_s - (time.perf_counter() - started)

    for stack in a.stacks.split(","):
        if left() <= 0:
            details["errors"].append(f"{stack}: skipped, time budget spent")
            continue
        print(f"[{time.perf_counter() - started:5.0f} s] {stack}", flush=True)
        if stack == "interleaved":
            unsloth_env = {**base_env, "PYTHONPATH": a.unsloth_site}
            got, info = interleaved(a, site_env, unsloth_env, tools, log, time.monotonic() + left(), gpu)
            rows += got
            details["interleaved"] = info
            details["levers"] = info["levers"]
            details["errors"] += [f"{m['variant']} b{m['batch']}: {m['error']}"
                                  for m in info["measurements"] + info["levers"] if "error" in m]
        elif stack == "project":
            result_file = work / "project.json"
            cmd = [python, "bench/throughput_project.py", "--bs", a.batches, "--seq", str(a.seq), "--levers",
                   "--lever-steps", str(a.lever_steps), "--lever-batches", a.lever_batches,
                   "--json", str(result_file)] + (["--tiny", "--layers", "2", "--steps", "3"] if a.dry_run else [])
            _, code = run_json(cmd, site_env, log, left())
            if result_file.is_file():
                project = json.loads(result_file.read_text())
                details["project"] = project
                details["levers"] = project["levers"]
                for r in project["rows"]:
                    rows.append(row("project", r["batch"], project["seq"], r["tokens_per_s"], r["peak_gib"],
                                    project["gpu"]))
            else:
                details["errors"].append(f"project: exit {code}")
        elif stack == "plain" and not a.dry_run:
            for batch in plain_batches:
                objs, code = run_json([python, str(tools / "qlora_reference_bench.py"), "--bs", str(batch), "--seq",
                                       str(a.seq), "--out", str(work)], site_env, log, left())
                res = next((o for o in objs if "tokens_per_s" in o), None)
                if res:
                    rows.append(row("plain", batch, a.seq, res["tokens_per_s"], res["peak_mem_gib"],
                                    res.get("gpu", gpu)))
                else:
                    details["errors"].append(f"plain bs{batch}: exit {code}")
        elif stack == "unsloth" and not a.dry_run:
            # one process, one model build, every batch size (bench/unsloth_batches.py mirrors the shared script)
            env = {**base_env, "PYTHONPATH": a.unsloth_site}
            objs, code = run_json([python, "bench/unsloth_batches.py", "--tools", str(tools), "--bs", a.batches,
                                   "--seq", str(a.seq)], env, log, left())
            for res in (o for o in objs if "tokens_per_s" in o):
                rows.append(row("unsloth", res["bs"], a.seq, res["tokens_per_s"], res["peak_mem_gib"], gpu))
            if not any("tokens_per_s" in o for o in objs):
                details["errors"].append(f"unsloth: exit {code}")
        elif stack == "correctness":
            result_file = work / "correctness.json"
            cmd = [python, "bench/fast_correctness.py", "--model", a.correctness_model, "--json", str(result_file)]
            cmd += ["--steps", "2", "--seq", "32", "--batch", "2"] if a.dry_run else []
            _, code = run_json(cmd, site_env, log, left())
            if result_file.is_file():
                details["correctness"] = json.loads(result_file.read_text())
            else:
                details["errors"].append(f"correctness: exit {code}")
        for folder in (out, work):  # work: what a later --merge call on the same machine starts from
            write_json(folder / "train_throughput.json", rows, indent=1)
            write_json(folder / "train_throughput_details.json", details, indent=1)

    print_table(rows, details["levers"])
    if "correctness" in details:
        c = details["correctness"]
        print(f"\ncorrectness ({c['model']}, {c['steps']} steps): max loss diff {c['max_rel_loss_diff']:.2%} "
              f"(within 1%: {c['loss_within_1pct']}); LoRA grads vs fp32: fast "
              f"{c['grad_fast_vs_fp32']['relative_l2']:.2e}, "
              f"plain bf16 {c['grad_plain_bf16_vs_fp32']['relative_l2']:.2e}")
    for error in details["errors"]:
        print(f"error: {error}")
    plot(rows, details, out / "train_throughput.png")
    if not a.dry_run:
        for name in ("train_throughput.json", "train_throughput_details.json"):
            write_json(results / name, json.loads((out / name).read_text()), indent=1)
        plot(rows, details, results / "train_throughput.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
