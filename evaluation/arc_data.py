"""ARC-format multiple-choice data: load, validate, select (pure Python; ``datasets`` only for hub ids).

The schema is ``allenai/ai2_arc``'s, one JSON object per line::

    {"id": "...", "question": "...", "choices": {"text": [...], "label": ["A", "B", ...]}, "answerKey": "B"}

Labels may be letters or numbers ("1".."4"), with 3-5 choices (any count >= 2 is accepted).
Malformed rows are skipped and counted by reason, never fatal; a missing file, an empty file or
an unreachable hub id is fatal with a message saying what to do.

    data = load_arc("../shared/data/arc_easy_test.jsonl")
    scored, shots = select_items(data.items, shots=5, limit=200, seed=0)
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_HUB_ID = "allenai/ai2_arc"
DEFAULT_CONFIG = "ARC-Challenge"
DEFAULT_SPLIT = "test"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class ArcDataError(ValueError):
    """The data cannot be used at all (missing file, hub unreachable, no valid rows)."""


class MalformedRow(ValueError):
    """One row does not follow the schema; ``str(exc)`` is the short reason used for counting."""


@dataclass(frozen=True)
class ArcItem:
    """One validated question."""

    id: str
    question: str
    choices: tuple[str, ...]
    labels: tuple[str, ...]
    answer: str  # one of ``labels``

    @property
    def answer_index(self) -> int:
        return self.labels.index(self.answer)


@dataclass
class ArcData:
    """Validated items plus what to record about where they came from."""

    items: list[ArcItem]
    source: str  # file path or "hub_id:config:split"
    sha256: str  # of the file bytes, or of the canonical JSONL of the hub rows
    n_rows: int
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> count
    from_hub: bool = False

    @property
    def n_skipped(self) -> int:
        return sum(self.skipped.values())


def parse_row(row: object) -> ArcItem:
    """Validate one decoded row; raises :class:`MalformedRow` with a short reason."""
    if not isinstance(row, dict):
        raise MalformedRow("not a JSON object")
    question, choices, answer = row.get("question"), row.get("choices"), row.get("answerKey")
    if not isinstance(question, str) or not question.strip():
        raise MalformedRow("missing question")
    if not isinstance(choices, dict):
        raise MalformedRow("missing choices")
    texts, labels = choices.get("text"), choices.get("label")
    if not isinstance(texts, list) or not isinstance(labels, list):
        raise MalformedRow("choices without text/label lists")
    if len(texts) != len(labels):
        raise MalformedRow("choice text/label count mismatch")
    if len(texts) < 2:
        raise MalformedRow("fewer than 2 choices")
    if not all(isinstance(t, str) and t.strip() for t in texts):
        raise MalformedRow("empty choice text")
    labels = [str(label).strip() if isinstance(label, (str, int)) else "" for label in labels]
    if not all(labels) or len(set(labels)) != len(labels):
        raise MalformedRow("empty or duplicate labels")
    answer = str(answer).strip() if isinstance(answer, (str, int)) else ""
    if answer not in labels:
        raise MalformedRow("answerKey not among labels")
    item_id = row.get("id")
    return ArcItem(
        id=str(item_id) if item_id not in (None, "") else "",
        question=question.strip(),
        choices=tuple(t.strip() for t in texts),
        labels=tuple(labels),
        answer=answer,
    )


def parse_rows(rows: Iterable[object], source: str, sha256: str) -> ArcData:
    """Validate rows (decoded objects, or :class:`MalformedRow` instances for undecodable lines)."""
    items: list[ArcItem] = []
    skipped: Counter[str] = Counter()
    n_rows = 0
    for n_rows, row in enumerate(rows, start=1):
        try:
            if isinstance(row, MalformedRow):
                raise row
            item = parse_row(row)
        except MalformedRow as exc:
            skipped[str(exc)] += 1
            continue
        if not item.id:  # ids are used to pair predictions across models: make one up, stably
            item = ArcItem(f"row-{n_rows:05d}", item.question, item.choices, item.labels, item.answer)
        items.append(item)
    if not items:
        raise ArcDataError(f"{source}: no valid ARC-format rows ({n_rows} rows, skipped: {dict(skipped) or 'none'})")
    return ArcData(items, source, sha256, n_rows, dict(skipped))


def read_jsonl(path: str | Path) -> ArcData:
    """Read a local ai2_arc-schema JSONL file (blank lines are ignored, bad lines counted)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ArcDataError(f"data file {str(path)!r} does not exist (pass an ai2_arc-format .jsonl file or a hub id)")
    raw = path.read_bytes()

    def decoded() -> Iterable[object]:
        for line in raw.decode("utf-8", errors="replace").splitlines():
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                yield MalformedRow("invalid JSON")

    return parse_rows(decoded(), str(path.resolve()), hashlib.sha256(raw).hexdigest())


def load_hub(hub_id: str, config: str | None, split: str) -> ArcData:
    """Load ``hub_id`` (e.g. ``allenai/ai2_arc``, config ``ARC-Challenge``) with ``datasets``."""
    try:
        import datasets

        dataset = datasets.load_dataset(hub_id, config, split=split)
    except Exception as exc:  # offline, unknown id/config/split: all end the same way for the user
        raise ArcDataError(hub_data_message(hub_id, config, split, exc)) from exc
    rows = [dict(row) for row in dataset]
    canonical = "\n".join(json.dumps(row, sort_keys=True, ensure_ascii=False) for row in rows).encode()
    data = parse_rows(rows, f"{hub_id}:{config}:{split}", hashlib.sha256(canonical).hexdigest())
    data.from_hub = True
    return data


def hub_data_message(hub_id: str, config: str | None, split: str, exc: BaseException) -> str:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return (
        f"cannot load dataset {hub_id!r} (config {config!r}, split {split!r}) from the Hugging Face hub "
        f"({type(exc).__name__}: {reason}). Offline? Pass a local ai2_arc-format JSONL file with --data PATH "
        "(e.g. ../shared/data/arc_easy_test.jsonl)."
    )


def load_arc(data: str | None = None, config: str | None = DEFAULT_CONFIG, split: str = DEFAULT_SPLIT) -> ArcData:
    """A local JSONL path, or a hub id (default ``allenai/ai2_arc``); paths win when they exist."""
    spec = (data or DEFAULT_HUB_ID).strip()
    path = Path(spec).expanduser()
    if path.exists():
        if path.is_dir():
            raise ArcDataError(f"{spec!r} is a folder: pass an ai2_arc-format .jsonl file or a hub id")
        return read_jsonl(path)
    looks_like_path = spec.startswith((".", "/", "~")) or spec.endswith((".jsonl", ".json")) or "\\" in spec
    if looks_like_path or not _HUB_ID.match(spec):
        raise ArcDataError(f"data file {spec!r} does not exist (pass an ai2_arc-format .jsonl file or a hub id)")
    return load_hub(spec, config, split)


def select_items(
    items: Sequence[ArcItem], shots: int = 0, limit: int | None = None, seed: int = 0
) -> tuple[list[ArcItem], list[ArcItem]]:
    """Split into ``(scored, shot_pool)``: the first ``shots`` items are examples, never scored.

    With ``limit``, a seeded random subset of the remaining items is scored, kept in file order
    (the same ``seed`` always picks the same questions, whatever the model).
    """
    if shots < 0:
        raise ValueError("shots must be >= 0")
    if shots >= len(items):
        raise ArcDataError(f"--shots {shots} leaves no question to score ({len(items)} valid items)")
    pool, rest = list(items[:shots]), list(items[shots:])
    if limit is not None and limit < len(rest):
        if limit <= 0:
            raise ValueError("limit must be positive")
        keep = sorted(random.Random(seed).sample(range(len(rest)), limit))
        rest = [rest[i] for i in keep]
    return rest, pool
