"""Stable fact ids: the committed manifest, renames, and lookup by id.

Stored answers and review schedules refer to facts by ``Fact.id`` (``<card-id>.<slug>``), so an
id must never disappear or change meaning. ``knowledge/data/fact_ids.txt`` lists every id ever
shipped with its answer (``id<TAB>answer``); the unit test ``tests/unit/test_fact_ids.py`` fails
when a listed id is gone from the cards without an entry in ``fact_id_aliases.txt``
(``old<TAB>new<TAB>reason``, or ``old<TAB>-<TAB>reason`` for a fact withdrawn for good), or when
its answer changed. Rewording an answer without changing its meaning is done by editing its
manifest line in the same commit; a new meaning needs a new id.

    PYTHONPATH=$PWD .venv/bin/python -m knowledge.fact_ids           # check the cards against the manifest
    PYTHONPATH=$PWD .venv/bin/python -m knowledge.fact_ids --update  # append the ids of new facts
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from knowledge.cards import load_cards
from schemas.knowledge import ConceptCard, Fact
from schemas.text import normalise

DATA_DIR = Path(__file__).with_name("data")
MANIFEST = DATA_DIR / "fact_ids.txt"
ALIASES = DATA_DIR / "fact_id_aliases.txt"
RETIRED = "-"


@dataclass(frozen=True)
class FactRef:
    """Where a fact id points: its card, its index in the card and the fact itself."""

    card: ConceptCard
    index: int
    fact: Fact


def _rows(path: Path, fields: int) -> list[list[str]]:
    rows = []
    if not path.exists():
        return rows
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != fields:
            raise ValueError(f"{path.name}:{n}: expected {fields} tab-separated fields, got {len(parts)}")
        rows.append(parts)
    return rows


def read_manifest(path: Path = MANIFEST) -> dict[str, str]:
    """``{fact id: answer}`` as committed; a repeated id is an error."""
    manifest: dict[str, str] = {}
    for fact_id, answer in _rows(path, 2):
        if fact_id in manifest:
            raise ValueError(f"{path.name}: {fact_id} listed twice")
        manifest[fact_id] = answer
    return manifest


def read_aliases(path: Path = ALIASES) -> dict[str, str]:
    """``{old id: new id or "-"}`` (renamed or withdrawn facts)."""
    return {old: new for old, new, _reason in _rows(path, 3)}


@lru_cache(maxsize=1)
def fact_index() -> dict[str, FactRef]:
    """Every card fact by id."""
    return {f.id: FactRef(c, i, f) for c in load_cards() for i, f in enumerate(c.facts)}


def resolve(fact_id: str) -> FactRef | None:
    """The fact an id (possibly renamed) points to now; None for a withdrawn or unknown id."""
    aliases = read_aliases()
    seen = set()
    while fact_id in aliases and fact_id not in seen:
        seen.add(fact_id)
        fact_id = aliases[fact_id]
    return fact_index().get(fact_id)


def problems(cards: list[ConceptCard] | tuple[ConceptCard, ...], manifest: dict[str, str],
             aliases: dict[str, str]) -> list[str]:
    """Everything that breaks the promise of stable ids (empty when all is well)."""
    current = {f.id: f for c in cards for f in c.facts}
    found = []
    for fact_id, answer in manifest.items():
        if fact_id in current:
            if normalise(current[fact_id].answer) != normalise(answer):
                found.append(f"{fact_id}: answer changed from {answer!r} to {current[fact_id].answer!r} "
                             "(same meaning: edit the manifest line; new meaning: give the fact a new id)")
            if fact_id in aliases:
                found.append(f"{fact_id}: still in the cards but listed as renamed or withdrawn")
        elif fact_id not in aliases:
            found.append(f"{fact_id}: gone from the cards without an alias or withdrawal entry")
    for old, new in aliases.items():
        if new != RETIRED and new not in current and new not in aliases:
            found.append(f"alias {old} -> {new}: target does not exist")
    found += [f"{fact_id}: not in the manifest (run python -m knowledge.fact_ids --update)"
              for fact_id in current if fact_id not in manifest]
    return found


def append_new(cards, path: Path = MANIFEST) -> list[str]:
    """Append the ids of facts not yet listed; never rewrites or removes a line."""
    manifest = read_manifest(path)
    new = [f for c in cards for f in c.facts if f.id not in manifest]
    if new:
        path.parent.mkdir(parents=True, exist_ok=True)
        header = "" if path.exists() else "# Every fact id ever shipped, with its answer (see knowledge/fact_ids.py).\n"
        with path.open("a", encoding="utf-8") as handle:
            handle.write(header + "".join(f"{f.id}\t{' '.join(f.answer.split())}\n" for f in new))
    return [f.id for f in new]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check (or extend) the committed manifest of fact ids.")
    parser.add_argument("--update", action="store_true", help="append the ids of new facts to the manifest")
    args = parser.parse_args(argv)
    cards = load_cards()
    if args.update:
        added = append_new(cards)
        print(f"{len(added)} new ids appended to {MANIFEST}")
    found = problems(cards, read_manifest(), read_aliases())
    for line in found:
        print(line, file=sys.stderr)
    print(f"{sum(len(c.facts) for c in cards)} facts; {len(found)} problems")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
