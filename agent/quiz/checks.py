"""Code-side quality checks for generated questions (pure).

Grammars guarantee shape, not sense: these checks catch what a small model gets wrong -
generic stems ("What is the correct answer to the question about X?"), stems that give the
answer away, degenerate repetition, and answer keys the source fact does not support.
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.retrieval import words
from schemas.text import normalise

GENERIC_PHRASES = (
    "correct answer",
    "the question about",
    "which of the following is correct",
    "which of the following is true",
    "what is the answer",
    "the following question",
    "this question",
)


def _stems(text: str) -> set[str]:
    """Crude word stems: the first five letters (regularisation ~ regularization, models ~ model)."""
    return {w[:5] for w in words(text) if len(w) > 1 or w.isdigit()}


def stem_problems(stem: str, answer: str, fact: str, concept: str) -> list[str]:
    """Why ``stem`` is not a usable question for ``answer`` (empty list = usable)."""
    problems = []
    text = stem.strip()
    norm = normalise(text)
    if not 15 <= len(text) <= 240:
        problems.append("length")
    if not (text.endswith("?") or "____" in text):
        problems.append("not a question")
    if any(phrase in norm for phrase in GENERIC_PHRASES):
        problems.append("generic")
    answer_norm = normalise(answer)
    if answer_norm and len(answer_norm) > 3 and answer_norm in norm:
        problems.append("gives the answer away")
    tokens = norm.split()
    if tokens and max(tokens.count(t) for t in set(tokens)) >= 4:
        problems.append("repetition")
    if not (_stems(text) & (_stems(fact) | _stems(concept))):
        problems.append("off topic")
    return problems


def distractor_problems(answer: str, distractors: list[str], stem: str) -> list[str]:
    """Why a set of distractors is unusable (duplicates are also caught by the schema)."""
    problems = []
    seen = {normalise(answer)}
    for d in distractors:
        key = normalise(d)
        if not key:
            problems.append("empty distractor")
        elif key in seen:
            problems.append("duplicate option")
        elif key == normalise(stem):
            problems.append("distractor repeats the question")
        seen.add(key)
    return problems


def _stem_sequence(text: str) -> list[str]:
    return [w[:5] for w in normalise(text).split()]


def _bigrams(seq: list[str]) -> set[tuple[str, str]]:
    return set(zip(seq, seq[1:])) if len(seq) > 1 else {(seq[0], "")} if seq else set()


@dataclass(frozen=True)
class LexicalSupport:
    """How much of each option the source fact states: word-stem share and ordered-bigram share."""

    answer: float
    distractors: tuple[float, ...]
    answer_order: float = 0.0
    distractor_order: tuple[float, ...] = ()
    distractor_words: tuple[int, ...] = ()  # word count of each distractor

    @property
    def verified(self) -> bool:
        """The fact states the key clearly and states no distractor as well as the key.

        Either by words (order-free) or, for answers that differ from distractors only in
        order ("TP / (TP + FN)" vs "TP / (TP + FP)"), by ordered word pairs.
        """
        by_words = self.answer >= 0.5 and all(d < self.answer for d in self.distractors)
        # Word order says nothing about a one-word distractor: one the fact states as fully as the key
        # ("Zero" vs "0.5" in "error exactly 0.5 ... receives a vote weight of zero") keeps it ambiguous.
        single = [d for d, n in zip(self.distractors, self.distractor_words) if n < 2]
        by_order = (self.answer_order >= 0.5 and all(d < self.answer_order for d in self.distractor_order)
                    and all(d < self.answer for d in single))
        return by_words or by_order


def lexical_support(fact: str, answer: str, distractors: list[str]) -> LexicalSupport:
    fact_stems = _stems(fact)
    fact_pairs = _bigrams(_stem_sequence(fact))

    def share(option: str) -> float:
        option_stems = _stems(option)
        return len(option_stems & fact_stems) / len(option_stems) if option_stems else 0.0

    def ordered(option: str) -> float:
        pairs = _bigrams(_stem_sequence(option))
        return len(pairs & fact_pairs) / len(pairs) if pairs else 0.0

    return LexicalSupport(
        share(answer), tuple(share(d) for d in distractors), ordered(answer), tuple(ordered(d) for d in distractors),
        tuple(len(_stem_sequence(d)) for d in distractors),
    )
