"""Interleaved repeats of several training stacks in one call: the driver's side (workers: ``serve_loop``).

Each stack runs in its own long-lived worker process (Unsloth patches transformers globally, so it
cannot share a process with the project's stack). :func:`schedule` lists the measurements: every
repeat visits each batch size once and, at each, every variant once, the order rotated between
repeats so that no variant always goes first after a switch. :func:`summarise` reduces the repeats to
the median tokens/s (the issue's target statistic), its spread and the highest peak memory.
:func:`merged_start` lets a second device call add to the first's results (10 minutes a call).
Only the standard library here: the unit tier tests the pure parts.
"""

from __future__ import annotations

import json
import queue
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Variant:
    """One measured configuration: ``stack`` names the worker, ``request`` is merged into each request."""

    name: str
    stack: str
    request: dict = field(default_factory=dict)


def schedule(variants: list[Variant], batches: list[int], repeats: int) -> list[tuple[int, int, Variant]]:
    """``(repeat, batch, variant)`` in run order: repeats outermost, the variant order rotated per repeat."""
    order = []
    for repeat in range(repeats):
        shift = repeat % max(len(variants), 1)
        rotated = variants[shift:] + variants[:shift]
        for batch in batches:
            order += [(repeat, batch, variant) for variant in rotated]
    return order


def summarise(results: list[dict]) -> list[dict]:
    """One row per (variant, batch): median, min, max and spread of tokens/s over its repeats, max peak GiB.

    ``results``: ``{"variant", "batch", "tokens_per_s", "peak_gib"}`` (an ``error`` key: left out, counted).
    """
    groups: dict[tuple[str, int], list[dict]] = {}
    for result in results:
        groups.setdefault((result["variant"], int(result["batch"])), []).append(result)
    rows = []
    for (name, batch), group in groups.items():
        good = [r for r in group if "error" not in r and r.get("tokens_per_s")]
        row = {"variant": name, "batch": batch, "repeats": [r["tokens_per_s"] for r in good],
               "errors": len(group) - len(good)}
        if good:
            speeds = row["repeats"]
            median = statistics.median(speeds)
            row.update(tokens_per_s=median, min=min(speeds), max=max(speeds),
                       spread=(max(speeds) - min(speeds)) / median, peak_gib=max(r["peak_gib"] for r in good))
        rows.append(row)
    return rows


def ratio(rows: list[dict], variant: str, baseline: str, batch: int) -> float | None:
    """Median tokens/s of ``variant`` over ``baseline`` at ``batch`` (None if either is missing)."""
    found = {r["variant"]: r for r in rows if r["batch"] == batch and "tokens_per_s" in r}
    if variant not in found or baseline not in found:
        return None
    return found[variant]["tokens_per_s"] / found[baseline]["tokens_per_s"]


class Worker:
    """A worker process: JSON requests on its stdin, JSON answers (and any other chatter) on its stdout."""

    def __init__(self, name: str, cmd: list[str], env: dict, log: Path, cwd: Path):
        self.name, self.log = name, log
        self._log_file = log.open("a", encoding="utf-8")
        self._log_file.write(f"\n$ [{name}] {' '.join(cmd)}\n")
        self._log_file.flush()
        self.proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._log_file, text=True, bufsize=1)
        self._lines: queue.Queue = queue.Queue()
        self._next_id = 0
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)  # end of output

    def _next_json(self, deadline: float) -> dict | None:
        while True:
            try:
                line = self._lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                return None
            if line is None:
                self._lines.put(None)
                return None
            self._log_file.write(f"[{self.name}] {line}")
            text = line.strip()
            if text.startswith("{") and text.endswith("}"):
                try:
                    return json.loads(text)
                except json.JSONDecodeError:
                    continue

    def wait_ready(self, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        while (message := self._next_json(deadline)) is not None:
            if message.get("ready"):
                return message
        return None

    def ask(self, request: dict, timeout: float) -> dict:
        """Send one request; its answer, or ``{"error": ...}`` when the worker died or took too long."""
        self._next_id += 1
        request = {**request, "id": self._next_id}
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return {"error": f"{self.name} worker is gone (exit {self.proc.poll()})"}
        deadline = time.monotonic() + timeout
        while (message := self._next_json(deadline)) is not None:
            if message.get("id") == self._next_id:
                return message
        return {"error": f"{self.name} worker: no answer within {timeout:.0f} s (exit {self.proc.poll()})"}

    def close(self, timeout: float = 30) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=timeout)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        self._log_file.close()


def measure_all(workers: dict, plan: list[tuple[int, int, Variant]], steps: int, deadline: float,
                timeout: float = 180) -> list[dict]:
    """Ask each planned measurement of its worker, in order; one result dict each (``error`` on failure).

    Requests past ``deadline`` (``time.monotonic()``) are not sent: they come back as skipped errors.
    """
    results = []
    for repeat, batch, variant in plan:
        base = {"variant": variant.name, "stack": variant.stack, "batch": batch, "repeat": repeat}
        worker = workers.get(variant.stack)
        if worker is None:
            results.append({**base, "error": f"no {variant.stack} worker"})
            continue
        left = deadline - time.monotonic()
        if left <= 0:
            results.append({**base, "error": "skipped: time budget spent"})
            continue
        answer = worker.ask({"batch": batch, "steps": steps, **variant.request}, min(timeout, left + 30))
        answer.pop("id", None)
        results.append({**base, **answer})
        if "error" in answer:
            print(f"  {variant.name} b{batch}: {answer['error']}", flush=True)
        else:
            print(f"  r{repeat} b{batch} {variant.name:<44}{answer['tokens_per_s']:>10.0f} tok/s"
                  f"{answer['peak_gib']:>8.2f} GiB", flush=True)
    return results


# which result rows each --stacks entry of bench/train_throughput.py writes (--merge replaces only those)
ROWS_OF = {"interleaved": {"project", "project-fp8", "project-fp8-bwd", "unsloth"}, "project": {"project"},
           "unsloth": {"unsloth"}, "plain": {"plain"}}


def merged_start(work: Path, stacks: list[str], fresh: dict) -> tuple[list[dict], dict]:
    """Rows and details of an earlier call in ``work``, less the rows ``stacks`` will measure again."""
    rows_file, details_file = work / "train_throughput.json", work / "train_throughput_details.json"
    if not rows_file.is_file() or not details_file.is_file():
        print(f"note: --merge found nothing to merge in {work}", flush=True)
        return [], fresh
    redo = set().union(*(ROWS_OF.get(stack, set()) for stack in stacks))
    rows = [r for r in json.loads(rows_file.read_text()) if r["stack"] not in redo]
    details = {**json.loads(details_file.read_text()), "errors": []}
    return rows, details
