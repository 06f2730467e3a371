"""Load and check the curated concept cards shipped in ``knowledge/cards/*.yaml``.

Run ``python -m knowledge.cards`` to validate every card file and print a summary.
"""

from __future__ import annotations

import sys
from collections import Counter
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError

from schemas.knowledge import ConceptCard
from schemas.text import normalise

CARDS_DIR = Path(__file__).with_name("cards")


class CardError(ValueError):
    """A card file is malformed or the card set is inconsistent."""


def load_card_file(path: Path) -> list[ConceptCard]:
    """Parse one YAML file holding a list of cards; errors name the file and card."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(raw, list):
        raise CardError(f"{path.name}: expected a list of cards")
    cards = []
    for i, item in enumerate(raw):
        try:
            cards.append(ConceptCard.model_validate(item))
        except ValidationError as exc:
            ident = item.get("id", f"#{i}") if isinstance(item, dict) else f"#{i}"
            raise CardError(f"{path.name}: card {ident}: {exc}") from exc
    return cards


def check_card_set(cards: list[ConceptCard]) -> None:
    """Cross-card checks: unique ids, related ids exist, no fact statement used twice."""
    ids = Counter(c.id for c in cards)
    dupes = [i for i, n in ids.items() if n > 1]
    if dupes:
        raise CardError(f"duplicate card ids: {dupes}")
    missing = sorted({f"{c.id}->{r}" for c in cards for r in c.related if r not in ids})
    if missing:
        raise CardError(f"related ids that do not exist: {missing}")
    statements = Counter(normalise(f.statement) for c in cards for f in c.facts)
    repeated = [s for s, n in statements.items() if n > 1]
    if repeated:
        raise CardError(f"fact statements used more than once: {repeated[:5]}")


@lru_cache(maxsize=1)
def load_cards(directory: Path = CARDS_DIR) -> tuple[ConceptCard, ...]:
    """All cards, validated and cross-checked, in file order (cached per process)."""
    cards: list[ConceptCard] = []
    for path in sorted(directory.glob("*.yaml")):
        cards.extend(load_card_file(path))
    check_card_set(cards)
    return tuple(cards)


def cards_by_id() -> dict[str, ConceptCard]:
    return {c.id: c for c in load_cards()}


def main() -> int:
    try:
        cards = load_cards()
    except CardError as exc:
        print(f"invalid: {exc}", file=sys.stderr)
        return 1
    facts = sum(len(c.facts) for c in cards)
    forms = sum(len(f.questions) for c in cards for f in c.facts)
    areas = Counter(c.area for c in cards)
    print(f"{len(cards)} cards, {facts} facts, {forms} question forms")
    for area, n in sorted(areas.items()):
        print(f"  {area}: {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
