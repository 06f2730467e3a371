"""``tutor eval arc``: ARC-Challenge-style multiple-choice evaluation of a model (and its adapter).

    tutor eval arc --data ../shared/data/arc_easy_test.jsonl --mode loglik --out runs/eval/arc-easy
    tutor eval arc --data ../shared/data/openbookqa_test.jsonl --mode both --chat-template both --out runs/eval/obqa
    tutor eval arc --limit 200 --seed 0 --adapter runs/tutor/adapter --compare-base --out runs/eval/cmp
    tutor eval arc --out runs/eval/arc-challenge     # allenai/ai2_arc ARC-Challenge test (needs the hub)

Modes (prompts in :mod:`evaluation.arc_prompts`): ``loglik`` scores every choice's continuation
(acc and byte-normalised acc_norm, as lm-evaluation-harness does); ``letter`` lets the model pick
a label under an Outlines constraint, with and/or without the chat template. With
``--compare-base`` the base model and the adapter answer identical prompts, and the paired
difference is tested with McNemar's test (:mod:`evaluation.stats`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import asdict, dataclass, field
from typing import Literal

from common.provenance import cpu_name, load_average, package_versions
from evaluation.arc_data import DEFAULT_CONFIG, DEFAULT_SPLIT, ArcData, ArcItem, load_arc, select_items
from evaluation.arc_prompts import PROMPT_VERSION, loglik_context, loglik_continuations
from evaluation.scoring import loglik_prediction, summarise_letter, summarise_loglik
from evaluation.stats import paired_comparison


@dataclass(kw_only=True)
class ArcEvalConfig:
    """Settings of one ``tutor eval arc`` run (each field is a CLI flag of the same name)."""

    out: str = field(metadata={"help": "output folder (results.json, results.md, predictions.jsonl, accuracy.png)"})
    data: str | None = field(default=None, metadata={"help": "ai2_arc-format JSONL path or hub id (default allenai/ai2_arc)"})
    config: str | None = field(default=DEFAULT_CONFIG, metadata={"help": "hub dataset config"})
    split: str = field(default=DEFAULT_SPLIT, metadata={"help": "hub dataset split"})
    limit: int | None = field(default=None, metadata={"help": "score a seeded random subset of N questions"})
    seed: int = field(default=0, metadata={"help": "seed for --limit's subset and for generation"})
    model: str | None = field(default=None, metadata={"help": "model spec (embedded, folder, .gguf, hub id)"})
    adapter: str | None = field(default=None, metadata={"help": "PEFT adapter folder to evaluate"})
    compare_base: bool = field(default=False, metadata={"help": "also evaluate the base model; paired statistics"})
    mode: Literal["loglik", "letter", "both"] = field(default="both", metadata={"help": "scoring mode(s)"})
    shots: int = field(default=0, metadata={"help": "K solved examples (the first K items, never scored)"})
    chat_template: Literal["on", "off", "both"] = field(default="on", metadata={"help": "letter mode prompt format"})
    batch_size: int | None = field(default=None, metadata={"help": "questions per forward pass (default 16 CPU, 128 CUDA)"})
    device: str | None = field(default=None, metadata={"help": "cpu or cuda (default: cuda when available)"})
    dtype: Literal["auto", "float32", "bfloat16"] = field(
        default="auto", metadata={"help": "weights dtype: auto = float32 on CPU, bfloat16 on CUDA"}
    )

    def __post_init__(self) -> None:
        if self.mode not in ("loglik", "letter", "both"):
            raise ValueError(f"--mode must be loglik, letter or both, not {self.mode!r}")
        if self.chat_template not in ("on", "off", "both"):
            raise ValueError(f"--chat-template must be on, off or both, not {self.chat_template!r}")
        if self.shots < 0 or (self.limit is not None and self.limit <= 0):
            raise ValueError("--shots must be >= 0 and --limit > 0")
        if self.dtype not in ("auto", "float32", "bfloat16"):
            raise ValueError(f"--dtype must be auto, float32 or bfloat16, not {self.dtype!r}")
        if self.batch_size is not None and self.batch_size <= 0:
            raise ValueError("--batch-size must be > 0")

    def run_names(self) -> list[str]:
        """Result keys in run order: ``loglik``, ``letter_chat``, ``letter_plain``."""
        names = ["loglik"] if self.mode in ("loglik", "both") else []
        if self.mode in ("letter", "both"):
            names += {"on": ["letter_chat"], "off": ["letter_plain"], "both": ["letter_chat", "letter_plain"]}[
                self.chat_template
            ]
        return names


def default_batch_size(device: str) -> int:
    """Questions per forward pass: 16 keeps a 2-core CPU busy; a GPU wants many more (H100: 128+)."""
    return 128 if device.startswith("cuda") else 16


def loglik_requests(tokenizer, items: list[ArcItem], shots: list[ArcItem]) -> tuple[list, list[list[str]]]:
    """Token ids of every context (tokenizer's own special tokens) and continuation (none)."""
    contexts = [loglik_context(item, shots) for item in items]
    continuations = [loglik_continuations(item) for item in items]
    context_ids = tokenizer(contexts).input_ids
    flat = [c for conts in continuations for c in conts]
    flat_ids = iter(tokenizer(flat, add_special_tokens=False).input_ids)
    requests = [(ctx, [next(flat_ids) for _ in conts]) for ctx, conts in zip(context_ids, continuations)]
    return requests, continuations


def load_for_eval(config: ArcEvalConfig, adapter: str | None):
    """The model as :func:`llm.loading.load_model` gives it, cast to ``config.dtype`` if asked.

    A cast works on a private copy (``cache=False``), never on the process-wide cached model.
    """
    import torch

    from llm.loading import load_model

    lm = load_model(config.model, adapter or "none", config.device)
    if config.dtype != "auto" and lm.model.dtype != getattr(torch, config.dtype):
        lm = load_model(config.model, adapter or "none", config.device, cache=False, weights="dense")
        lm.model.to(getattr(torch, config.dtype))
    return lm


def run_mode(lm, name: str, items: list[ArcItem], shots: list[ArcItem], config: ArcEvalConfig, desc: str) -> list[dict]:
    """Prediction rows of one mode for one loaded model (with a tqdm bar)."""
    from tqdm.auto import tqdm

    batch_size = config.batch_size or default_batch_size(lm.device)
    with tqdm(total=len(items), desc=desc, unit="q", dynamic_ncols=True) as bar:
        if name == "loglik":
            from evaluation.loglik import LoglikScorer

            requests, continuations = loglik_requests(lm.tokenizer, items, shots)
            logliks = LoglikScorer(lm).score(requests, batch_size=batch_size, progress=bar.update)
            return [loglik_prediction(i, ll, c) for i, ll, c in zip(items, logliks, continuations)]
        from evaluation.letter import run_letter
        from llm.structured import StructuredRuntime

        runtime = StructuredRuntime.for_model(lm)
        return run_letter(runtime, items, shots, chat=name == "letter_chat", batch_size=batch_size,
                          seed=config.seed, progress=bar.update)


def compare(predictions: dict[tuple[str, str], list[dict]], names: list[str]) -> dict:
    """Paired base-vs-adapter statistics per mode (and for acc_norm)."""
    result = {}
    for name in names:
        base, tuned = predictions[("base", name)], predictions[("adapter", name)]
        if [r["id"] for r in base] != [r["id"] for r in tuned]:
            raise RuntimeError("base and adapter runs must cover identical questions")
        result[name] = paired_comparison([r["correct"] for r in base], [r["correct"] for r in tuned],
                                         [r["predicted"] for r in base], [r["predicted"] for r in tuned])
        if name == "loglik":
            result["loglik_norm"] = paired_comparison(
                [r["correct_norm"] for r in base], [r["correct_norm"] for r in tuned],
                [r["predicted_norm"] for r in base], [r["predicted_norm"] for r in tuned])
    return result


def data_summary(data: ArcData, items: list[ArcItem], shots: list[ArcItem]) -> dict:
    ids = "\n".join(item.id for item in items).encode()
    return {
        "source": data.source, "from_hub": data.from_hub, "sha256": data.sha256, "n_rows": data.n_rows, "n_valid": len(data.items),
        "n_skipped": data.n_skipped, "skipped": data.skipped, "n_scored": len(items), "n_shots": len(shots),
        "shot_ids": [s.id for s in shots], "scored_ids_sha256": hashlib.sha256(ids).hexdigest(),
        "chance_accuracy": sum(1 / len(i.choices) for i in items) / len(items),
    }


def run_arc(config: ArcEvalConfig) -> dict:
    """Evaluate, write the outputs under ``config.out`` and return the results dict."""
    from llm.spec import resolve_adapter, resolve_model

    started, load_start = time.perf_counter(), load_average()
    spec = resolve_model(config.model)  # fail on bad model/adapter/data before any heavy import
    adapter = resolve_adapter(config.adapter)  # None: $TUTOR_ADAPTER or no adapter
    if config.compare_base and not adapter:
        raise ValueError("--compare-base needs --adapter DIR (the adapter to compare with the base model)")
    data = load_arc(config.data, config.config, config.split)
    items, shots = select_items(data.items, shots=config.shots, limit=config.limit, seed=config.seed)
    models = ([("base", None)] if config.compare_base or not adapter else []) + ([("adapter", adapter)] if adapter else [])
    names = config.run_names()

    predictions: dict[tuple[str, str], list[dict]] = {}
    model_results: dict[str, dict] = {}
    lm = None
    for key, adapter_path in models:
        lm = load_for_eval(config, adapter_path)
        runs = {}
        for name in names:
            t0 = time.perf_counter()
            rows = run_mode(lm, name, items, shots, config, desc=f"{key} {name}")
            seconds = time.perf_counter() - t0
            summary = summarise_loglik(rows) if name == "loglik" else summarise_letter(rows)
            runs[name] = {**summary, "wall_seconds": round(seconds, 2), "questions_per_second": round(len(rows) / seconds, 2)}
            predictions[(key, name)] = rows
        model_results[key] = {"label": lm.label, "model_spec": spec.value, "adapter": adapter_path, "runs": runs}

    settings = {**asdict(config), "device": lm.device, "dtype": str(lm.model.dtype).replace("torch.", ""),
                "weights": lm.weights,
                "batch_size": config.batch_size or default_batch_size(lm.device), "runs": names,
                "versions": package_versions(("torch", "transformers", "peft", "outlines"))}
    if not data.from_hub:  # config/split only mean something for a hub dataset
        settings["config"] = settings["split"] = None
    results = {
        "task": "arc",
        "prompt_version": PROMPT_VERSION,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "settings": settings,
        "seed": config.seed,
        "data": data_summary(data, items, shots),
        "models": model_results,
        "comparison": compare(predictions, names) if len(models) == 2 else {},
        "wall_seconds": round(time.perf_counter() - started, 2),
        # Wall times on a small shared CPU depend on what else runs: record how busy it was.
        "machine": {"cpu": cpu_name(), "torch_threads": _torch_threads(), "load_average_start": load_start,
                    "load_average_end": load_average()},
    }
    from evaluation.report import write_outputs

    rows = [{"model": key, "mode": name, **row} for (key, name), runs in predictions.items() for row in runs]
    results["files"] = {k: str(v) for k, v in write_outputs(config.out, results, rows).items()}
    return results


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()
