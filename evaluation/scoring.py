"""Turn per-choice log-likelihoods and letter outputs into predictions and accuracies (pure).

``acc`` picks the choice with the highest summed log-likelihood. ``acc_norm`` divides each
log-likelihood by the continuation's length in UTF-8 bytes first (lm-evaluation-harness'
``acc_norm``), which stops short answers from winning just for having fewer tokens.
Ties go to the first choice, as ``numpy.argmax`` does.
"""

from __future__ import annotations

from collections.abc import Sequence

from evaluation.arc_data import ArcItem
from evaluation.stats import wilson_interval


def argmax(values: Sequence[float]) -> int:
    """Index of the largest value (first one on ties)."""
    if not values:
        raise ValueError("argmax of an empty sequence")
    best = 0
    for i, value in enumerate(values):
        if value > values[best]:
            best = i
    return best


def byte_length(text: str) -> int:
    return len(text.encode("utf-8"))


def normalised(logliks: Sequence[float], continuations: Sequence[str]) -> list[float]:
    """Log-likelihood per byte of continuation (lm-eval ``acc_norm``)."""
    if len(logliks) != len(continuations):
        raise ValueError("one log-likelihood per continuation expected")
    return [ll / max(byte_length(c), 1) for ll, c in zip(logliks, continuations)]


def loglik_prediction(item: ArcItem, logliks: Sequence[float], continuations: Sequence[str]) -> dict:
    """One predictions.jsonl row for loglik mode."""
    if len(logliks) != len(item.choices):
        raise ValueError(f"{item.id}: {len(logliks)} log-likelihoods for {len(item.choices)} choices")
    pick = argmax(logliks)
    pick_norm = argmax(normalised(logliks, continuations))
    return {
        "id": item.id,
        "answer": item.answer,
        "predicted": item.labels[pick],
        "predicted_norm": item.labels[pick_norm],
        "correct": pick == item.answer_index,
        "correct_norm": pick_norm == item.answer_index,
        "logliks": [round(ll, 5) for ll in logliks],
    }


def letter_prediction(item: ArcItem, output: str, allowed: Sequence[str] | None = None) -> dict:
    """One predictions.jsonl row for letter mode.

    ``allowed`` are the exact strings the constrained output may be (default: the labels); any
    other output is a parse failure. The predicted label is the output without surrounding spaces.
    """
    label = output.strip()
    valid = output in (item.labels if allowed is None else allowed) and label in item.labels
    return {
        "id": item.id,
        "answer": item.answer,
        "output": output,
        "predicted": label if valid else None,
        "parse_failure": not valid,
        "correct": valid and label == item.answer,
    }


def accuracy_summary(correct: Sequence[bool]) -> dict:
    """``{"n", "correct", "accuracy", "ci95"}`` with a Wilson 95% interval."""
    n, k = len(correct), sum(bool(c) for c in correct)
    low, high = wilson_interval(k, n)
    return {"n": n, "correct": k, "accuracy": k / n if n else 0.0, "ci95": [low, high]}


def summarise_loglik(rows: Sequence[dict]) -> dict:
    acc = accuracy_summary([r["correct"] for r in rows])
    norm = accuracy_summary([r["correct_norm"] for r in rows])
    return {**acc, "acc_norm": norm["accuracy"], "acc_norm_ci95": norm["ci95"], "parse_failures": 0}


def summarise_letter(rows: Sequence[dict]) -> dict:
    acc = accuracy_summary([r["correct"] for r in rows])
    return {**acc, "parse_failures": sum(r["parse_failure"] for r in rows)}
