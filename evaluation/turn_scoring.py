"""Scoring turn readings against labelled rows (pure): per-field accuracy, topic exact match and token F1.

A row is ``{"text", "intent", optional "topic", "questions", "difficulty", "letter", "same_topic",
"source", "options", "seen_concept"}`` (see evaluation/data/turns_README.md). Detail fields are scored
two ways: accuracy on the rows that carry them, and the share of rows *without* a value where the
reader predicted one (a count or difficulty the student never said is a wrong quiz).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from prompts.turns import TurnReading, cut_span, find_span, message_words
from schemas.quiz import Letter
from schemas.turn import INTENTS, Difficulty, Intent, Source

DETAILS = ("questions", "difficulty", "letter", "same_topic", "source")
_DEFAULTS = {"same_topic": False, "source": "any"}


class TurnRow(BaseModel):
    """One labelled message (the evaluation data's row contract)."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=2000)
    intent: Intent
    topic: str | None = None
    questions: int | None = Field(default=None, ge=1, le=20)
    difficulty: Difficulty | None = None
    letter: Letter | None = None
    same_topic: bool | None = None
    source: Source | None = None
    options: list[str] | None = Field(default=None, min_length=4, max_length=4)
    seen_concept: bool = False

    def expected(self) -> dict:
        """The labels (every field but the text), as written in the row."""
        return self.model_dump(exclude={"text"}, exclude_none=True, exclude_defaults=True) | {"intent": self.intent}


def expected_reading(row: TurnRow) -> TurnReading:
    """The answer line a perfect reader would give for ``row`` (its topic located in the message's words)."""
    span = find_span(words := message_words(row.text), row.topic) if row.topic else None
    return TurnReading(
        intent=row.intent, topic=cut_span(words, *span) if span else None,
        same_topic=bool(row.same_topic), source=row.source or "any", questions=row.questions,
        difficulty=row.difficulty, letter=row.letter,
    )


def load_rows(path: str | Path) -> list[TurnRow]:
    """Rows of a JSONL file; a bad line is a ValueError naming the file and line."""
    rows = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(TurnRow.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise ValueError(f"{path}:{number}: not a turn row: {str(exc).splitlines()[0]}") from None
    if not rows:
        raise ValueError(f"{path}: no rows")
    return rows


def topic_tokens(text: str | None) -> list[str]:
    return re.findall(r"[a-z0-9]+", (text or "").lower())


def token_f1(expected: str | None, predicted: str | None) -> float:
    """Token F1 of two topics (bag of lowercase words); 1.0 when both are absent."""
    gold, pred = topic_tokens(expected), topic_tokens(predicted)
    if not gold and not pred:
        return 1.0
    common = sum((Counter(gold) & Counter(pred)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def score(pairs: list[tuple[TurnRow, dict]]) -> dict:
    """Metrics over ``(row, predicted TurnRequest fields)`` pairs."""
    n = len(pairs)
    result: dict = {"rows": n, "intent_accuracy": _share(sum(p["intent"] == r.intent for r, p in pairs), n)}
    result["intent_by_label"] = {
        intent: _share(sum(p["intent"] == r.intent for r, p in pairs if r.intent == intent), sum(r.intent == intent for r, _ in pairs))
        for intent in INTENTS
    }
    result["intent_confusions"] = dict(Counter(f"{r.intent}->{p['intent']}" for r, p in pairs if p["intent"] != r.intent))
    with_topic = [(r, p) for r, p in pairs if r.topic]
    result["topic"] = {
        "rows": len(with_topic),
        "exact_match": _share(sum(topic_tokens(r.topic) == topic_tokens(p["topic"]) for r, p in with_topic), len(with_topic)),
        "token_f1": _mean([token_f1(r.topic, p["topic"]) for r, p in with_topic]),
        "predicted_where_none": _share(sum(bool(p["topic"]) for r, p in pairs if not r.topic), n - len(with_topic)),
    }
    for name in DETAILS:
        carrying = [(r, p) for r, p in pairs if getattr(r, name) is not None]
        without = [(r, p) for r, p in pairs if getattr(r, name) is None]
        default = _DEFAULTS.get(name)
        result[name] = {
            "rows": len(carrying),
            "accuracy": _share(sum(p[name] == getattr(r, name) for r, p in carrying), len(carrying)),
            "predicted_where_none": _share(sum(p[name] not in (None, default) for _, p in without), len(without)),
        }
    return result


def latency(seconds: list[float]) -> dict:
    """Seconds per turn: the first (cold) call, then p50/p95/mean of the rest (warm)."""
    if not seconds:
        return {}
    warm = sorted(seconds[1:]) or sorted(seconds)
    return {
        "cold": round(seconds[0], 4),
        "p50": round(_percentile(warm, 0.50), 4),
        "p95": round(_percentile(warm, 0.95), 4),
        "mean": round(sum(warm) / len(warm), 4),
        "turns": len(seconds),
    }


def _percentile(ordered: list[float], q: float) -> float:
    index = max(0, math.ceil(q * len(ordered)) - 1)
    return ordered[index]


def _share(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None
