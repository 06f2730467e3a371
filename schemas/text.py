"""Text normalisation shared by every validator (pure, no dependencies).

Two strings are "the same" for a quiz when they differ only in case, whitespace or
punctuation: "Overfitting." and "  overfitting" would be duplicate options.
"""

from __future__ import annotations

import functools
import unicodedata

_PUNCT_CATEGORIES = ("P", "S")  # punctuation and symbols (Unicode general categories)


# Memoised: the question validators normalise the same stems and options every time a checkpoint is read:
# 127 calls and 5,700 unicodedata look-ups per answer turn, 9 % of the graph's time (cProfile of 100 answer
# turns, the workload of bench/answer_cpu.py --graph). Pure and small: a few MB for 16,384 strings.
@functools.lru_cache(maxsize=16384)
def normalise(text: str) -> str:
    """Lower-case, strip punctuation/symbols, collapse whitespace (Unicode aware)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = [" " if unicodedata.category(ch)[0] in _PUNCT_CATEGORIES else ch for ch in folded]
    return " ".join("".join(kept).split())


def strip_control(text: str) -> str:
    """Remove control characters (keeps newlines and tabs) so stored text is printable."""
    return "".join(
        ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co")
    )


def first_duplicate(items: list[str]) -> tuple[int, int] | None:
    """Indices (i, j), i < j, of the first pair that normalise to the same text, else None."""
    seen: dict[str, int] = {}
    for j, item in enumerate(items):
        key = normalise(item)
        if key in seen:
            return seen[key], j
        seen[key] = j
    return None
