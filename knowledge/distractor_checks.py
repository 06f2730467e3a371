"""Flags distractors a reader rules out without knowing the subject (pure; a screen, not a verdict).

A blind read of 180 quiz questions (issue 13) found only 1.81 of 3 wrong options plausible. The
giveaways it named are cheap to see in text, so this module lists them for a person to rewrite:

* ``absolute`` - "only", "always", "never", "all", "none", "every", "completely", "entirely",
  "guaranteed" in a distractor when the key has none: test-wise students discard absolutes.
* ``length`` - a distractor whose word count is under half or over twice the key's (and at least
  three words away from it) while the other options are close to the key's length: it stands out.
* ``kind`` - a numeric key among words, or a word answer among numbers: an option of another kind.
* ``unrelated`` - a distractor of two content words or more sharing none with its card (title,
  summary, keywords, facts) nor with the ML vocabulary of all card titles and keywords: a joke or
  another domain.
* ``duplicate`` - two options of one fact with the same content words and numbers in the same order
  (the same option twice in other words).

Run ``python -m knowledge.distractor_checks --out evaluation/reports/distractors/NAME.json`` to
count the flags per card file; ``--list`` prints each flagged option with its fact.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from knowledge.retrieval import words
from knowledge.terms import term
from schemas.knowledge import ConceptCard, Fact

ABSOLUTES = frozenset("only always never all none every completely entirely guaranteed".split())
LENGTH_RANGE = (0.5, 2.0)  # distractor words / key words
LENGTH_GAP = 3  # and at least this many words away from the key: "ReLU" vs "Leaky ReLU" is no giveaway
_NUMBER = re.compile(r"\d")
_ARTICLES = frozenset({"a", "an", "the"})


@dataclass(frozen=True)
class Flag:
    """One suspicious distractor of one fact."""

    fact_id: str
    option: str
    reason: str  # absolute | length | kind | unrelated | duplicate


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.casefold())


def _content(text: str) -> set[str]:
    """Index terms of the content words (stop words removed, spellings folded, lightly stemmed)."""
    return {term(w) for w in words(text) if not w.isdigit()}


def _signature(text: str) -> tuple[str, ...]:
    """Folded words and numbers in order, articles dropped: the same option twice in other spellings, but
    not a swap ("bias rises, variance falls") nor an opposite ("above"/"below" are stop words to retrieval)."""
    return tuple(term(w) for w in re.findall(r"[a-z0-9]+", text.casefold()) if w not in _ARTICLES)


def ml_vocabulary(cards: list[ConceptCard]) -> set[str]:
    """Content terms of every card's title and keywords: what counts as an ML word."""
    return set().union(*(_content(" ".join([c.title, *c.keywords])) for c in cards)) if cards else set()


def card_vocabulary(card: ConceptCard) -> set[str]:
    """Content terms a distractor on this card may reasonably share: title, summary, keywords, statements."""
    texts = [card.title, card.summary, *card.keywords,
             *(text for f in card.facts for text in (f.statement, f.answer, *f.questions))]
    return _content(" ".join(texts))


def _absolute(option: str, answer: str) -> bool:
    return bool(ABSOLUTES & set(_tokens(option))) and not ABSOLUTES & set(_tokens(answer))


def _length_outlier(option: str, answer: str, others: list[str]) -> bool:
    key = max(1, len(answer.split()))

    def out(text: str) -> bool:
        n = len(text.split())
        return not LENGTH_RANGE[0] <= n / key <= LENGTH_RANGE[1] and abs(n - key) >= LENGTH_GAP

    # Only a giveaway when the rest of the options sit near the key's length.
    return out(option) and sum(out(o) for o in others) <= len(others) // 2


def _is_name(option: str) -> bool:
    """A person's or a model's name ("Richard Bellman", "Vladimir Vapnik"): every word capitalised."""
    return all(w[:1].isupper() for w in option.split())


def _kind_mismatch(option: str, answer: str) -> bool:
    """A number among words or words among numbers ("0.5" vs "The learning rate")."""
    def numeric(text: str) -> bool:
        return bool(_NUMBER.search(text)) and len(_tokens(text)) <= 1
    return numeric(option) != numeric(answer) and not (_NUMBER.search(option) and _NUMBER.search(answer))


def fact_flags(fact: Fact, card_terms: set[str], ml_terms: set[str]) -> list[Flag]:
    """Every flag on the distractors of one fact (an option may carry several reasons)."""
    flags = []
    seen = {_signature(fact.answer)}
    for i, option in enumerate(fact.distractors):
        others = [d for j, d in enumerate(fact.distractors) if j != i]
        reasons = []
        if _absolute(option, fact.answer):
            reasons.append("absolute")
        if _length_outlier(option, fact.answer, others):
            reasons.append("length")
        if _kind_mismatch(option, fact.answer):
            reasons.append("kind")
        terms = _content(option)
        # Two content words at least: "None" or "The median" is terse, not off-domain; formulas are exempt.
        if len(terms) >= 2 and not _NUMBER.search(option) and not _is_name(option) and not terms & (card_terms | ml_terms):
            reasons.append("unrelated")
        key = _signature(option)
        if key and key in seen:
            reasons.append("duplicate")
        seen.add(key)
        flags.extend(Flag(fact.id, option, r) for r in reasons)
    return flags


def card_flags(cards: list[ConceptCard], ml_terms: set[str] | None = None) -> list[Flag]:
    """Flags over the facts of ``cards`` (the ML vocabulary from ``cards`` unless given)."""
    vocabulary = ml_vocabulary(cards) if ml_terms is None else ml_terms
    return [flag for card in cards for fact in card.facts
            for flag in fact_flags(fact, card_vocabulary(card), vocabulary)]


def summarise(flags: list[Flag], facts: int, distractors: int) -> dict:
    """Counts per reason, flagged options and facts with a flag."""
    return {"facts": facts, "distractors": distractors,
            "flagged_distractors": len({(f.fact_id, f.option) for f in flags}),
            "facts_with_a_flag": len({f.fact_id for f in flags}),
            "by_reason": dict(sorted(Counter(f.reason for f in flags).items()))}


def main(argv: list[str] | None = None) -> int:
    from common.files import write_atomic
    from knowledge.cards import CARDS_DIR, load_card_file

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="card files (default: every file in knowledge/cards)")
    parser.add_argument("--out", type=Path, help="write the per-file counts as JSON here")
    parser.add_argument("--list", action="store_true", help="print every flagged option with its fact id")
    args = parser.parse_args(argv)
    paths = [Path(p) for p in args.files] or sorted(CARDS_DIR.glob("*.yaml"))
    every = [c for p in sorted(CARDS_DIR.glob("*.yaml")) for c in load_card_file(p)]
    vocabulary = ml_vocabulary(every)
    report = {}
    for path in paths:
        cards = load_card_file(path)
        flags = card_flags(cards, vocabulary)
        facts = [f for c in cards for f in c.facts]
        report[path.name] = summarise(flags, len(facts), sum(len(f.distractors) for f in facts))
        for flag in flags if args.list else []:
            print(f"{flag.reason:9} {flag.fact_id}: {flag.option}")
    print(json.dumps(report, indent=1))
    if args.out:
        write_atomic(args.out, json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
