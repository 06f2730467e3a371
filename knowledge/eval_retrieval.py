"""Retrieval evaluation: does a student's phrasing of a topic find the right concept card?

The labelled set ``knowledge/data/retrieval_eval.jsonl`` holds one JSON object a line::

    {"query": "overfiting", "expected": ["overfitting"], "kind": "typo"}

A query is a hit at k when any expected card id is among the top k cards. ``kind`` groups
the phrasings (exact, paraphrase, typo, abbreviation, spelling, question) for the breakdown.

    python -m knowledge.eval_retrieval                       # prints recall@1/3/5 and the misses
    python -m knowledge.eval_retrieval --out runs/retrieval.json
    python -m knowledge.eval_retrieval --data knowledge/data/retrieval_heldout.jsonl

``retrieval_heldout.jsonl`` (80 more phrasings) was written before retrieval was tuned and not
used to tune it: its recall is the honest estimate for new phrasings.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

from common.files import write_json
from knowledge.cards import load_cards
from knowledge.retrieval import KnowledgeIndex

EVAL_SET = Path(__file__).with_name("data") / "retrieval_eval.jsonl"
CUTOFFS = (1, 3, 5)


@dataclass(frozen=True)
class Example:
    query: str
    expected: tuple[str, ...]
    kind: str = "other"


@dataclass
class Result:
    """Recall at each cutoff, overall and per kind, and every query missed at 3."""

    count: int
    recall: dict[str, float]
    by_kind: dict[str, dict[str, float]]
    misses: list[dict] = field(default_factory=list)


def load_examples(path: Path = EVAL_SET) -> list[Example]:
    """The labelled queries; a malformed line raises ``ValueError`` naming the line."""
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            examples.append(Example(str(row["query"]), tuple(row["expected"]), str(row.get("kind", "other"))))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path.name}:{number}: {exc}") from exc
    return examples


def evaluate(index: KnowledgeIndex, examples: list[Example]) -> Result:
    """Recall@1/3/5 of card retrieval over ``examples`` (only cards are ranked)."""
    deepest = max(CUTOFFS)
    hits_at: dict[int, int] = defaultdict(int)
    kind_hits: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    kind_count: dict[str, int] = defaultdict(int)
    misses = []
    for example in examples:
        ranked = [h.key for h in index.search(example.query, k=deepest, kinds=("card",))]
        kind_count[example.kind] += 1
        for k in CUTOFFS:
            if set(ranked[:k]) & set(example.expected):
                hits_at[k] += 1
                kind_hits[example.kind][k] += 1
        if not set(ranked[:3]) & set(example.expected):
            misses.append({"query": example.query, "kind": example.kind, "expected": list(example.expected),
                           "got": ranked})
    n = max(len(examples), 1)
    return Result(
        count=len(examples),
        recall={f"@{k}": round(hits_at[k] / n, 4) for k in CUTOFFS},
        by_kind={
            kind: {f"@{k}": round(kind_hits[kind][k] / total, 4) for k in CUTOFFS}
            for kind, total in sorted(kind_count.items())
        },
        misses=misses,
    )


def check_labels(examples: list[Example], card_ids: set[str]) -> None:
    """Every expected id must name a real card (a renamed card must not silently lower recall)."""
    unknown = sorted({e for ex in examples for e in ex.expected if e not in card_ids})
    if unknown:
        raise ValueError(f"labels name cards that do not exist: {unknown}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], prog="python -m knowledge.eval_retrieval")
    parser.add_argument("--data", type=Path, default=EVAL_SET, help="labelled queries (JSONL)")
    parser.add_argument("--out", type=Path, default=Path("runs") / "retrieval_eval.json",
                        help="where the JSON result is written")
    args = parser.parse_args(argv)

    cards = list(load_cards())
    examples = load_examples(args.data)
    check_labels(examples, {c.id for c in cards})
    result = evaluate(KnowledgeIndex.build(cards), examples)

    print(f"{result.count} queries over {len(cards)} cards")
    print("recall " + "  ".join(f"{k}={v:.3f}" for k, v in result.recall.items()))
    for kind, recall in result.by_kind.items():
        print(f"  {kind:<13}" + "  ".join(f"{k}={v:.3f}" for k, v in recall.items()))
    if result.misses:
        print(f"misses at 3 ({len(result.misses)}):")
        for miss in result.misses:
            print(f"  [{miss['kind']}] {miss['query']!r}: expected {miss['expected']}, got {miss['got'][:3]}")
    write_json(args.out, {"data": str(args.data), "cards": len(cards), **asdict(result)})
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
