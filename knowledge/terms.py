"""Index terms for retrieval: spelling-normalised, lightly stemmed words, and typo correction (pure).

Students write "regularization" or "regularisation", "k nearest neighbors", "scale" for a card
that says "scaling", and "overfiting". Three small, deterministic steps close those gaps
without a model:

* :func:`term` folds British/American spellings onto one form ("-ise" -> "-ize",
  "-our" -> "-or", "modelling" -> "modeling") and strips common inflections
  ("features" -> "featur", "scaling"/"scale"/"scaled" -> "scal"). Both the documents and the
  query go through it, so over-folding only matters when it merges two different concepts;
  :data:`KEEP` lists the few words where it would.
* :class:`TypoCorrector` maps a query word the index has never seen to the most frequent
  indexed word within a small edit distance (Damerau: none under six letters, one edit up to
  seven, two from eight), found through a symmetric-delete table (the SymSpell idea) built on
  first use, so only queries with typos pay for it (once per index).

    term("Regularisation")            # 'regulariz'
    TypoCorrector(["precision", "recall"]).correct("precison")   # 'precision'
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

# Words whose suffix is not an inflection, or whose stripped form would collide with another concept.
KEEP = frozenset({"means", "bias", "loss", "less", "class", "lasso", "gaussian", "bayes", "analysis", "axis", "focus",
                  "corpus", "process", "series", "species", "news", "thus", "this", "has", "was", "gas", "yes"})
_SPELLING = (  # (suffix, replacement), first match wins; British forms folded onto American ones
    ("isations", "izations"), ("isation", "ization"), ("ysation", "yzation"),
    ("ising", "izing"), ("ised", "ized"), ("iser", "izer"), ("isers", "izers"), ("ises", "izes"), ("ise", "ize"),
    ("ysing", "yzing"), ("ysed", "yzed"), ("yse", "yze"),
    ("elling", "eling"), ("elled", "eled"), ("ouring", "oring"), ("oured", "ored"), ("ours", "ors"), ("our", "or"),
    ("centre", "center"), ("centres", "centers"),
)
_DERIVED = (("izations", "ize"), ("ization", "ize"), ("izers", "ize"), ("izer", "ize"), ("ations", "ate"),
            ("ation", "ate"))  # "regularization"/"regularizer" -> "regularize"; "estimation" -> "estimate"
_INFLECTIONS = ("ingly", "ings", "ing", "edly", "ed", "ies", "es", "ly", "s")  # longest first, one removed


def _fold_spelling(word: str) -> str:
    for suffix, replacement in _SPELLING:
        if word.endswith(suffix):
            return word[: -len(suffix)] + replacement
    return word


def _strip_inflection(word: str) -> str:
    for suffix in _INFLECTIONS:
        if not word.endswith(suffix):
            continue
        stem = word[: -len(suffix)]
        if suffix == "ies":
            stem += "y"
        elif suffix == "s" and word[-2] in "sui":  # "loss", "corpus", "axis": not plurals
            return word
        elif suffix == "es" and not stem.endswith(("ss", "x", "ch", "sh", "z")):
            stem = word[:-1]  # "features" -> "feature"
        if suffix == "s" and len(stem) >= 2 and not any(ch in "aeiouy" for ch in stem):
            return stem  # acronym plurals: "llms" -> "llm", "cnns" -> "cnn"
        if len(stem) < 3 or not any(ch in "aeiouy" for ch in stem):
            return word
        if suffix in ("ing", "ings", "ed", "edly") and len(stem) > 3 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
            stem = stem[:-1]  # "stopping" -> "stop"
        return stem
    return word


@lru_cache(maxsize=1 << 16)
def term(word: str) -> str:
    """The index form of one lower-cased word (unchanged if short, not alphabetic or in :data:`KEEP`)."""
    if len(word) <= 3 or not word.isalpha() or word in KEEP:
        return word
    word = _fold_spelling(word) if len(word) >= 5 else word
    for suffix, replacement in _DERIVED:
        if word.endswith(suffix):
            word = word[: -len(suffix)] + replacement
            break
    else:
        word = _strip_inflection(word)
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]  # "scale"/"scaling"/"scaled" -> "scal"
    return word


def damerau(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance between ``a`` and ``b`` (``limit + 1`` once it exceeds ``limit``)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


def max_edits(word: str) -> int:
    """How many edits a word of this length may be off (0 for short words: too many false friends)."""
    return 0 if len(word) < 6 else 1 if len(word) < 8 else 2


def _deletes(word: str, depth: int) -> set[str]:
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


class TypoCorrector:
    """Corrects unknown words to known ones; the lookup table is built lazily (only typos pay for it)."""

    def __init__(self, vocabulary: Iterable[str]):
        self.frequency = Counter(w for w in vocabulary if w.isalpha())
        self._table: dict[str, list[str]] | None = None

    def _lookup(self) -> dict[str, list[str]]:
        if self._table is None:
            table: dict[str, list[str]] = {}
            for word in self.frequency:
                for variant in _deletes(word, max_edits(word)):
                    table.setdefault(variant, []).append(word)
            self._table = table
        return self._table

    def correct(self, word: str) -> str | None:
        """The known word closest to ``word`` (most frequent among the closest), or None.

        Known words and words with digits are returned unchanged; no candidate -> None.
        """
        if word in self.frequency or not word.isalpha():
            return word
        limit = max_edits(word)
        if limit == 0:
            return None
        table = self._lookup()
        candidates = {c for variant in _deletes(word, limit) for c in table.get(variant, ())}
        scored = []
        for candidate in candidates:
            distance = damerau(word, candidate, min(limit, max_edits(candidate)))
            if distance <= min(limit, max_edits(candidate)):
                scored.append((distance, -self.frequency[candidate], candidate))
        return min(scored)[2] if scored else None
