"""Give every card fact that lacks them an ``id``, a ``kind`` and a ``difficulty``, written into the YAML.

Run once when facts were written without ids (the 727 facts of December were labelled by it);
facts that already have the fields keep them, so hand labels are never overwritten:

    PYTHONPATH=$PWD .venv/bin/python -m knowledge.fact_labels            # edit knowledge/cards/*.yaml
    PYTHONPATH=$PWD .venv/bin/python -m knowledge.fact_labels --dry-run  # print what would be added

Then append the new ids to ``knowledge/data/fact_ids.txt`` (``python -m knowledge.fact_ids --update``).

The id is ``<card-id>.<slug>``, the slug made of up to four content words of the answer (of the
first question form when the answer has fewer than two words), numbered on a clash within the card.
Once written it never changes, whatever happens to the answer's wording.

The labelling rule, for facts nobody labelled by hand (first question form ``q``, answer ``a``):

* ``computation``: ``q`` and ``a`` both hold a digit and ``q`` does not ask for a formula or a
  default value ("A spam filter flags 50 emails ... What is its precision?");
* ``scenario``: ``q`` describes a situation ("A model ...", "If you ...", "Suppose ...");
* ``understanding``: ``q`` asks why or what happens ("Why does ...", "What happens ...", "How does ...");
* ``application``: ``q`` asks what to do ("How should ...", "Which technique ...", "When should ...");
* ``recall`` otherwise.

Difficulty follows the kind: recall is ``easy``, understanding ``medium``, application,
computation and scenario ``hard`` (issue 13: "easy: recall; hard: application, computation, scenario").
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from knowledge.cards import CARDS_DIR, load_yaml
from schemas.text import normalise

STOP = set("a an the of to in on by for and or is are be its it as at with from into than that this".split())
FACT_LINE = re.compile(r"^(\s*)- statement:", re.M)
DIFFICULTY = {"recall": "easy", "understanding": "medium", "application": "hard", "computation": "hard",
              "scenario": "hard"}


def slug_words(text: str) -> list[str]:
    return [w for w in re.sub(r"[^a-z0-9]+", " ", normalise(text)).split() if w not in STOP]


def fact_slug(fact: dict, taken: set[str]) -> str:
    words = slug_words(fact["answer"])
    if sum(w.isalpha() for w in words) < 2:
        words = words + [w for w in slug_words(fact["questions"][0]) if w not in words]
    slug = "-".join(words[:4])[:40].strip("-") or "fact"
    unique, n = slug, 2
    while unique in taken:
        unique, n = f"{slug}-{n}", n + 1
    taken.add(unique)
    return unique


def item_kind(fact: dict) -> str:
    q, a = fact["questions"][0], fact["answer"]
    lower = q.lower()
    if re.search(r"\d", q) and re.search(r"\d", a) and not re.search(r"formula|default|usual", lower):
        return "computation"
    if re.match(r"(a|an|your|you|if you|if a|suppose|imagine)\b", lower):
        return "scenario"
    if re.match(r"(why|what happens|how does|how do|how can)\b", lower):
        return "understanding"
    if re.match(r"(how should|which technique|when should|what should|which change|which method)\b", lower):
        return "application"
    return "recall"


def fill(path: Path) -> tuple[str, int]:
    """The file's text with the missing fields inserted before each fact's ``statement``, and how many facts changed."""
    text = path.read_text(encoding="utf-8")
    every = [(card["id"], fact) for card in load_yaml(text) for fact in card["facts"]]
    facts = [(card_id, fact) for card_id, fact in every if next(iter(fact)) == "statement"]  # not yet labelled
    matches = list(FACT_LINE.finditer(text))
    if len(matches) != len(facts):
        raise SystemExit(f"{path.name}: {len(facts)} facts start with statement but {len(matches)} "
                         "'- statement:' lines were found")
    taken: dict[str, set[str]] = {}
    for card_id, fact in every:
        if "id" in fact:
            taken.setdefault(card_id, set()).add(fact["id"].split(".", 1)[1])
    out, last, changed = [], 0, 0
    for (card_id, fact), match in zip(facts, matches):
        indent = match.group(1)
        fields = []
        if "id" not in fact:
            fields.append(f"id: {card_id}.{fact_slug(fact, taken.setdefault(card_id, set()))}")
        kind = fact.get("kind") or item_kind(fact)
        if "kind" not in fact:
            fields.append(f"kind: {kind}")
        if "difficulty" not in fact:
            fields.append(f"difficulty: {DIFFICULTY[kind]}")
        if not fields:
            continue
        changed += 1
        body = f"\n{indent}  ".join(fields)
        out.append(text[last:match.start()] + f"{indent}- {body}\n{indent}  statement:")
        last = match.end()
    out.append(text[last:])
    return "".join(out), changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cards", type=Path, default=CARDS_DIR, help="folder of card YAML files")
    parser.add_argument("--dry-run", action="store_true", help="print the counts, write nothing")
    args = parser.parse_args(argv)
    for path in sorted(args.cards.glob("*.yaml")):
        text, changed = fill(path)
        print(f"{path.name}: {changed} facts labelled")
        if changed and not args.dry_run:
            path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
