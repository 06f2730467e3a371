"""Which candidate facts a quiz asks first: freshness, then the item kinds the difficulty asks for (pure).

    key = fact_key(fact.kind, fact.difficulty, "hard", asked.get(fact.id))
    items = merge([[(key, item), ...], [(key, item), ...]])   # one list per card (or note chunk)

Difficulty selects item kinds, it does not reorder a card (:data:`KIND_TIERS`):

* easy   - recall, then understanding;
* medium - understanding, then recall and application;
* hard   - application, computation and scenario, then understanding;

any other kind comes only once those run out. Within a tier a fact labelled with the requested
difficulty comes before one labelled a step away (within a card), and kinds alternate (a hard quiz mixes
computation, application and scenario items instead of taking a card's computation items in a row).

Freshness comes before kind: a fact the student has not been asked (``asked_at`` None) comes before
any fact they have, and asked facts come least recently asked first. Review and retry quizzes do
not plan through here: they re-ask on purpose.
"""

from __future__ import annotations

from collections import Counter
from typing import TypeVar

T = TypeVar("T")

KIND_TIERS: dict[str, tuple[frozenset[str], ...]] = {
    "easy": (frozenset({"recall"}), frozenset({"understanding"})),
    "medium": (frozenset({"understanding"}), frozenset({"recall", "application"})),
    "hard": (frozenset({"application", "computation", "scenario"}), frozenset({"understanding"})),
}
LEVELS = {"easy": 0, "medium": 1, "hard": 2}
NOTE_KIND = "note"  # a fact from the student's notes: no labelled kind, asked at any difficulty

Key = tuple[bool, float, int, int]


def kind_tier(kind: str | None, difficulty: str) -> int:
    """0 for the kinds ``difficulty`` asks for, 1 for its fallback kinds, 2 for any other kind.

    A note's cloze item (:data:`NOTE_KIND`) is tier 0 at every difficulty: a student's own material
    is drawn on whatever the difficulty (it has no labelled kind).
    """
    if kind == NOTE_KIND:
        return 0
    tiers = KIND_TIERS.get(difficulty, KIND_TIERS["medium"])
    return next((n for n, kinds in enumerate(tiers) if kind in kinds), len(tiers))


def label_distance(label: str | None, difficulty: str) -> int:
    """How many steps the fact's difficulty label is from the requested one (an unlabelled fact: 1)."""
    if label not in LEVELS:
        return 1
    return abs(LEVELS[label] - LEVELS.get(difficulty, 1))


def fact_key(kind: str | None, label: str | None, difficulty: str, asked_at: float | None) -> Key:
    """Sort key of one fact: fresh first, then least recently asked; then kind tier, then label distance."""
    return (asked_at is not None, asked_at or 0.0, kind_tier(kind, difficulty), label_distance(label, difficulty))


def order_group(group: list[tuple[Key, str | None, T]]) -> list[tuple[Key, T]]:
    """One card's ``(key, kind, item)`` triples by key; within equal keys kinds alternate, card order kept."""
    seen: Counter = Counter()
    ranked = []
    for position, (key, kind, item) in enumerate(group):
        ranked.append((key, seen[kind], position, item))
        seen[kind] += 1
    ranked.sort(key=lambda r: r[:3])
    return [(r[0], r[3]) for r in ranked]


def merge(groups: list[list[tuple[Key, T]]]) -> list[T]:
    """All groups' (ordered) items by freshness and kind tier; within those the groups take turns (first first).

    The difficulty label only orders a card's own facts: across cards it would let one card with
    matching labels crowd out the others of a broad topic.
    """
    ranked = [(key[:3], depth, index, item) for index, group in enumerate(groups)
              for depth, (key, item) in enumerate(group)]
    ranked.sort(key=lambda r: r[:3])
    return [r[3] for r in ranked]
