"""Read training rows (local file or hub dataset), normalise them and tokenise them with labels.

    rows, source = read_rows("runs/tutor_sft/train.jsonl")          # or a hub id such as mlabonne/FineTome-100k
    dataset, report = build_dataset(config.data, tokenizer)          # a datasets.Dataset of input_ids/labels

Malformed rows -- bad JSON lines, unknown formats or roles, empty turns, conversations left without
a target token after truncation -- are skipped and counted by reason in :class:`DataReport`, which
the training run writes into ``metrics.json``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from finetune.config import DataArguments
from finetune.formats import MalformedRow, normalise_rows

LOCAL_SUFFIXES = (".jsonl", ".json", ".parquet")
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class DataError(ValueError):
    """The training data cannot be read; the message says what to pass instead."""


@dataclass
class DataReport:
    """What went into training, recorded in metrics.json."""

    source: str
    data_sha256: str  # of the file's bytes; for a hub dataset, of the rows as canonical JSON
    rows_read: int = 0
    rows_used: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    formats: dict[str, int] = field(default_factory=dict)
    tokens: int = 0
    target_tokens: int = 0
    last_turn_only: int = 0  # rows trained on their last reply only (see finetune.masking)

    @property
    def rows_skipped(self) -> int:
        return sum(self.skipped.values())

    def to_dict(self) -> dict:
        return {**asdict(self), "rows_skipped": self.rows_skipped}


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _read_jsonl(path: Path, bad: Counter) -> list:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                bad["invalid_json"] += 1
    return rows


def read_rows(source: str, split: str = "train", max_rows: int | None = None) -> tuple[list, str, Counter]:
    """``(rows, data_sha256, unreadable-row counts)`` from a local file or a hub dataset id."""
    bad: Counter = Counter()
    if not source:
        raise DataError("no training data: pass --dataset FILE.jsonl|FILE.parquet (or a hub dataset id)")
    path = Path(source).expanduser()
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            rows = pq.read_table(path).to_pylist()
        elif suffix == ".jsonl":
            rows = _read_jsonl(path, bad)
        elif suffix == ".json":
            text = path.read_text(encoding="utf-8")
            try:
                loaded = json.loads(text)
                rows = loaded if isinstance(loaded, list) else [loaded]
            except json.JSONDecodeError:  # a .json file holding JSON lines
                rows = _read_jsonl(path, bad)
        else:
            raise DataError(f"{path}: unsupported data file type {suffix!r} (use {', '.join(LOCAL_SUFFIXES)})")
        return rows[:max_rows] if max_rows else rows, _sha256_file(path), bad
    if path.exists() or source.startswith((".", "/", "~")) or path.suffix.lower() in LOCAL_SUFFIXES:
        raise DataError(f"data file {source!r} does not exist")
    if not _HUB_ID.match(source):
        raise DataError(f"{source!r} is neither a data file nor a hub dataset id (owner/name)")
    rows = _read_hub(source, split, max_rows)
    canonical = "\n".join(json.dumps(r, sort_keys=True, ensure_ascii=False, default=str) for r in rows)
    return rows, hashlib.sha256(canonical.encode("utf-8")).hexdigest(), bad


def _read_hub(dataset_id: str, split: str, max_rows: int | None) -> list:
    from datasets import load_dataset

    selected = f"{split}[:{max_rows}]" if max_rows else split
    try:
        return list(load_dataset(dataset_id, split=selected))
    except Exception as exc:  # offline, unknown id, missing split: all end the same way for the user
        raise DataError(
            f"cannot load dataset {dataset_id!r} (split {split!r}) from the Hugging Face hub: offline, not cached or "
            f"not found ({type(exc).__name__}). Download it where there is network (`huggingface-cli download "
            f"--repo-type dataset {dataset_id} --local-dir DIR`) and pass --dataset DIR/<file>.parquet or a .jsonl file."
        ) from exc


def load_conversations(args: DataArguments) -> tuple[list, DataReport, Counter]:
    """Read and normalise the rows (no tokenizer needed, so a bad --dataset fails before the model loads)."""
    rows, sha, skipped = read_rows(args.dataset, args.dataset_split, args.max_rows)
    report = DataReport(source=args.dataset, data_sha256=sha, rows_read=len(rows) + sum(skipped.values()))
    conversations, bad_rows, formats = normalise_rows(rows, args.dataset_format)
    skipped.update(bad_rows)
    report.formats = dict(formats)
    return conversations, report, skipped


def build_dataset(args: DataArguments, tokenizer: Any, progress: bool = True, loaded: tuple | None = None):
    """Tokenised ``datasets.Dataset`` (``input_ids``, ``labels``) and its :class:`DataReport`.

    ``loaded`` is :func:`load_conversations`' result when the caller read the rows already.
    """
    from datasets import Dataset
    from tqdm.auto import tqdm

    from finetune.masking import tokenize_conversation

    conversations, report, skipped = loaded or load_conversations(args)
    columns: dict[str, list] = {"input_ids": [], "labels": []}
    for messages in tqdm(conversations, desc="tokenising", disable=not progress, leave=False):
        try:
            example = tokenize_conversation(messages, tokenizer, args.max_length, args.assistant_turns)
        except MalformedRow as exc:
            skipped[exc.reason] += 1
            continue
        columns["input_ids"].append(example.input_ids)
        columns["labels"].append(example.labels)
        report.tokens += len(example.input_ids)
        report.target_tokens += example.n_target_tokens
        report.last_turn_only += int(example.last_turn_only)
    report.rows_used = len(columns["input_ids"])
    report.skipped = dict(sorted(skipped.items()))
    if report.rows_used == 0:
        raise DataError(f"no usable training rows in {args.dataset!r} (skipped: {report.skipped or 'none read'})")
    return Dataset.from_dict(columns), report
