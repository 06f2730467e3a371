"""The names a student's notes are about, for notes on concepts the cards lack (pure, no I/O, no model).

A chapter on Shapley values or permutation feature importance names its subject in its title and
introduces its acronyms as "permutation feature importance (PFI)". These names join the cards' names
(:meth:`knowledge.names.ConceptNames.build`, ``extra``), so a sentence about them can be asked about,
its capitalised words ("Shapley") are not mistaken for a running example's, and the other names of the
same notes can be wrong options.

    note_terms(["# Shapley Values {#shapley}\n\nThe Shapley value is ... permutation feature importance (PFI) ..."])
    # ['Shapley values', 'permutation feature importance', 'PFI']
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

MAX_WORDS = 5
_TITLE = re.compile(r"^#\s+(?P<title>[^#\n{]{3,80}?)\s*(?:\{[^}]*\})?\s*$", re.MULTILINE)
_ACRONYM = re.compile(r"((?:[A-Za-z][\w-]*\s+){1,6})\(([A-Z][A-Za-z]{1,7})\)")
_STOP = {"a", "an", "the", "of", "and", "or", "to", "in", "on", "for", "with", "by", "is", "are", "as", "its"}


def note_terms(documents: Iterable[str]) -> list[str]:
    """The titles (first level-1 heading of each document) and the "phrase (ACRONYM)" pairs of ``documents``."""
    documents = list(documents)
    found: list[str] = []
    for text in documents:
        if (m := _TITLE.search(text)) and len(m.group("title").split()) <= MAX_WORDS:
            title = re.sub(r"\s*\(([^)]*)\)$", "", m.group("title")).strip()
            found += [title] + re.findall(r"\(([A-Z][A-Za-z]{1,7})\)$", m.group("title"))
        for words, acronym in _ACRONYM.findall(text):
            if (phrase := _expansion(words.split(), acronym)) is not None:
                found += [phrase, acronym]
    corpus = "\n".join(documents)
    unique: dict[str, str] = {}
    for term in found:
        unique.setdefault(term.lower(), _surface(term, corpus))
    return list(unique.values())


def _expansion(words: list[str], acronym: str) -> str | None:
    """The last words before "(ACRONYM)" that spell it (by first letters, hyphenated parts counted)."""
    for n in range(min(len(words), len(acronym), MAX_WORDS), 1, -1):
        phrase = words[-n:]
        if phrase[0].lower() in _STOP or phrase[0][0].lower() != acronym[0].lower():
            continue
        return " ".join(phrase)
    return None


def _surface(term: str, corpus: str) -> str:
    """How the body text writes ``term`` most often ("Shapley value" for the title "Shapley Values")."""
    if term.isupper():
        return term
    stem = re.escape(term.rstrip("s")) if term.lower().endswith("s") and len(term) > 4 else re.escape(term)
    forms = Counter(m.group(0) for m in re.finditer(rf"(?<!\w){stem}s?(?!\w)", corpus, re.IGNORECASE))
    body = [f for f, _ in forms.most_common() if not f.istitle() or " " not in f]
    return body[0] if body else term.lower() if not any(w.isupper() for w in term.split()) else term
