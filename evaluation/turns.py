"""``tutor eval turns``: how well the turn reader reads labelled chat messages (rules, model, or both).

    tutor eval turns --data evaluation/data/turns_test.jsonl --out runs/eval/turns-rules --reader rules
    tutor eval turns --data evaluation/data/turns_dev.jsonl --out runs/eval/turns-dev --reader both --limit 20
    tutor eval turns --data evaluation/data/turns_test.jsonl --out runs/eval/turns-v2 --adapter runs/tutor/adapter

Writes ``DIR/predictions.jsonl`` (one line per row: text, expected, predicted) and ``DIR/results.json``
(per-field accuracy, topic exact match and token F1, detail fields predicted where none was said,
seconds per turn cold/p50/p95, all of it also without the rows whose topic the adapter trains on).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from common.files import write_atomic, write_json
from common.provenance import cpu_name, load_average, package_versions
from evaluation.turn_scoring import load_rows, latency, score


@dataclass(kw_only=True)
class TurnEvalConfig:
    """Settings of one ``tutor eval turns`` run (each field is a CLI flag of the same name)."""

    data: str = field(metadata={"help": "labelled turns, JSONL (evaluation/data/turns_test.jsonl)"})
    out: str = field(metadata={"help": "output folder (predictions.jsonl, results.json)"})
    reader: Literal["rules", "model", "both"] = field(
        default="both", metadata={"help": "rules alone, the model alone, or the model with rule guard rails"}
    )
    model: str | None = field(default=None, metadata={"help": "model spec (embedded, folder, .gguf, hub id)"})
    adapter: str | None = field(default=None, metadata={"help": "PEFT adapter folder (default: the shipped tutor adapter)"})
    limit: int | None = field(default=None, metadata={"help": "read only the first N rows"})

    def __post_init__(self) -> None:
        if self.reader not in ("rules", "model", "both"):
            raise ValueError(f"--reader must be rules, model or both, not {self.reader!r}")
        if self.limit is not None and self.limit <= 0:
            raise ValueError("--limit must be > 0")


def run_turns(config: TurnEvalConfig) -> dict:
    """Read every row, write predictions and results; returns the results."""
    from tqdm import tqdm

    from agent.turns.reader import Reader

    rows = load_rows(config.data)[: config.limit]
    lm = runtime = None
    if config.reader != "rules":
        from llm.backend import load_backend, runtime_for

        lm = load_backend(config.model, config.adapter)  # TUTOR_BACKEND picks transformers, llama.cpp or a server
        runtime = runtime_for(lm)
    reader = Reader(runtime, config.reader)
    pairs, seconds, lines = [], [], []
    for row in tqdm(rows, desc=f"turns ({config.reader})", unit="turn"):
        started = time.perf_counter()
        request = reader(row.text, row.options)
        seconds.append(time.perf_counter() - started)
        predicted = request.model_dump()
        pairs.append((row, predicted))
        lines.append(json.dumps({"text": row.text, "expected": row.expected(), "predicted": predicted}, ensure_ascii=False))
    results = {
        "reader": config.reader,
        "model": lm.label if lm else None,
        "adapter": lm.adapter if lm else None,
        "weights": lm.weights if lm else None,
        "model_failures": reader.failures,
        "metrics": score(pairs),
        "metrics_unseen_topics": score([(r, p) for r, p in pairs if not r.seen_concept]),
        "seconds_per_turn": latency(seconds),
        "data": {"path": config.data, "rows": len(rows), "sha256": _sha256(config.data)},
        "config": asdict(config),
        "machine": machine_info(),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    from prompts.turns import PROMPT_VERSION

    results["prompt_version"] = PROMPT_VERSION
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    write_atomic(out / "predictions.jsonl", "\n".join(lines) + "\n")
    write_json(out / "results.json", results)
    results["files"] = {"predictions": str(out / "predictions.jsonl"), "results": str(out / "results.json")}
    return results


def machine_info() -> dict:
    """Where the run happened (the shared provenance helpers, plus torch's thread count and card)."""
    info = {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
            "cpu": cpu_name(), "load_average": load_average(), "versions": package_versions(("torch", "transformers"))}
    from llm.settings import LLMSettings

    info["model_nice"] = LLMSettings.from_env().model_nice  # the reader's threads run this much below the process
    try:
        import torch

        info |= {"torch_threads": torch.get_num_threads(),
                 "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    except ImportError:
        pass
    return info


def summary(results: dict) -> str:
    """A few lines for the terminal."""
    m = results["metrics"]
    t = m["topic"]
    s = results["seconds_per_turn"]
    return (
        f"reader {results['reader']}: intent {m['intent_accuracy']}, topic exact {t['exact_match']} F1 {t['token_f1']}, "
        f"questions {m['questions']['accuracy']} (extra {m['questions']['predicted_where_none']}), "
        f"difficulty {m['difficulty']['accuracy']} (extra {m['difficulty']['predicted_where_none']}), "
        f"letter {m['letter']['accuracy']} (extra {m['letter']['predicted_where_none']}); "
        f"s/turn p50 {s.get('p50')} p95 {s.get('p95')} cold {s.get('cold')}"
    )


def _sha256(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
