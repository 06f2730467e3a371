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
MIN_ACRONYM_USES = 2  # an all-capitals word said this often is a name of the notes ("SHAP", "EWMA"), not a shout
_TITLE = re.compile(r"^#\s+(?P<title>[^#\n{]{3,80}?)\s*(?:\{[^}]*\})?\s*$", re.MULTILINE)
_ACRONYM = re.compile(r"((?:[A-Za-z][\w-]*\s+){1,6})\(([A-Z][A-Za-z]{1,7})\)")
_FENCED = re.compile(r"^(`{3,}|~{3,}).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
_LINK = re.compile(r"\[[^\]]*\]\([^)]*\)")
_CLAUSE = {"is", "are", "was", "were", "be", "a", "an", "the", "to", "we", "you", "it"}
_STOP = {"a", "an", "the", "of", "and", "or", "to", "in", "on", "for", "with", "by", "is", "are", "as", "its"}


def note_terms(documents: Iterable[str]) -> list[str]:
    """The titles (first level-1 heading of each document), the "phrase (ACRONYM)" pairs and the acronyms used
    at least :data:`MIN_ACRONYM_USES` times outside code of ``documents``."""
    documents = list(documents)
    found: list[str] = []
    for text in documents:
        text = _FENCED.sub("", text)  # "# Create the plot" in a code block is a comment, not a title
        text = _LINK.sub("", text)  # "[Python Interpretable Machine Learning (PiML) library](...)": a tool, not a subject
        if (m := _TITLE.search(text)) and len(m.group("title").split()) <= MAX_WORDS and _named(m.group("title")):
            title = re.sub(r"\s*\(([^)]*)\)$", "", m.group("title")).strip()
            found += [title] + re.findall(r"\(([A-Z][A-Za-z]{1,7})\)$", m.group("title"))
        for words, acronym in _ACRONYM.findall(text):
            if (phrase := _expansion(words.split(), acronym)) is not None:
                found += [phrase, acronym]
    corpus = "\n".join(documents)
    shouted = Counter(re.findall(r"(?<![\w`$\\/.-])[A-Z]{3,7}(?![\w`$/-])", _FENCED.sub("", _LINK.sub("", corpus))))
    found += [a for a, n in shouted.items() if n >= MIN_ACRONYM_USES]  # "LIME", "EWMA" used as names in the prose
    unique: dict[str, str] = {}
    for term in found:
        unique.setdefault(term.lower(), _surface(term, corpus))
    return list(unique.values())


def note_title(text: str) -> str:
    """The subject a document's first level-1 heading names ("Batch Normalization"), "" if none."""
    m = _TITLE.search(_FENCED.sub("", text))
    if not m or len(m.group("title").split()) > MAX_WORDS or not _named(m.group("title")):
        return ""
    return re.sub(r"\s*\(([^)]*)\)$", "", m.group("title")).strip()


def _named(title: str) -> bool:
    """A title that names a subject ("Partial Dependence Plot"), not a clause ("Correlated features are a problem")."""
    return title[:1].isupper() and not any(w.lower() in _CLAUSE for w in title.split())


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
