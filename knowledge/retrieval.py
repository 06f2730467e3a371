"""Topic or chat text -> the relevant concept cards and note chunks (BM25, no model needed).

Two BM25 indexes (the maintained ``bm25s`` library) are fused by reciprocal rank:

* words (stop words removed) over title, keywords, summary and facts - precise on exact terms;
* character trigrams of the same text - forgiving of typos and word forms ("overfiting",
  "regularization" vs "regularisation", "k means").

A card's title and keywords are repeated so that naming a concept outweighs passing mentions.

    index = KnowledgeIndex.build(load_cards())
    index.search("bias variance tradeof", k=3)
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

import bm25s
import numpy as np
from bm25s.stopwords import STOPWORDS_EN_PLUS

from schemas.knowledge import ConceptCard, NoteChunk

_STOP = frozenset(STOPWORDS_EN_PLUS) | {"quiz", "explain", "me", "about", "test", "question", "questions", "tell"}
_RRF_K = 20  # reciprocal-rank fusion constant (small: the top ranks matter most)
MIN_WORD_SCORE = 0.5  # below this (and no strong trigram match) a query matches nothing we know


def words(text: str) -> list[str]:
    """Lower-cased alphanumeric words without stop words ('k-NN' -> 'k', 'nn')."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    cleaned = "".join(ch if ch.isalnum() else " " for ch in folded)
    return [w for w in cleaned.split() if w not in _STOP]


def trigrams(text: str) -> list[str]:
    """Character trigrams of each word padded with spaces (typo-tolerant matching)."""
    grams: list[str] = []
    for word in words(text):
        padded = f" {word} "
        grams.extend(padded[i : i + 3] for i in range(max(1, len(padded) - 2)))
    return grams


@dataclass(frozen=True)
class Hit:
    """One retrieved document (a card or a note chunk) with its fused score."""

    kind: Literal["card", "note"]
    key: str  # card id, or note source "note:<id>#<chunk>"
    score: float
    word_score: float
    card: ConceptCard | None = None
    chunk: NoteChunk | None = None

    @property
    def title(self) -> str:
        if self.card is not None:
            return self.card.title
        assert self.chunk is not None
        return f"{self.chunk.path} (part {self.chunk.chunk + 1})"

    @property
    def text(self) -> str:
        """The passage shown to a model as reference."""
        if self.card is not None:
            facts = " ".join(f.statement for f in self.card.facts)
            return f"{self.card.title}: {self.card.summary} {facts}"
        assert self.chunk is not None
        return self.chunk.text


def card_document(card: ConceptCard) -> str:
    keywords = " ".join(card.keywords)
    return " ".join(
        [card.title] * 3 + [keywords] * 2 + [card.summary] + [f.statement for f in card.facts] + [card.area]
    )


class KnowledgeIndex:
    """BM25 over cards and (optionally) note chunks; rebuild it when notes change (milliseconds)."""

    def __init__(self, cards: list[ConceptCard], chunks: list[NoteChunk]):
        self.cards = list(cards)
        self.chunks = list(chunks)
        texts = [card_document(c) for c in self.cards] + [c.text for c in self.chunks]
        self._word = _bm25([words(t) for t in texts])
        self._tri = _bm25([trigrams(t) for t in texts])

    @classmethod
    def build(cls, cards, chunks=()) -> "KnowledgeIndex":
        return cls(list(cards), list(chunks))

    def _doc(self, i: int, score: float, word_score: float) -> Hit:
        if i < len(self.cards):
            card = self.cards[i]
            return Hit("card", card.id, score, word_score, card=card)
        chunk = self.chunks[i - len(self.cards)]
        return Hit("note", chunk.source, score, word_score, chunk=chunk)

    def search(self, query: str, k: int = 5, kinds: tuple[str, ...] = ("card", "note")) -> list[Hit]:
        """Top ``k`` documents for ``query`` (empty when nothing matches)."""
        n = len(self.cards) + len(self.chunks)
        if n == 0:
            return []
        word_scores = self._word.get_scores(words(query)) if words(query) else np.zeros(n)
        tri_scores = self._tri.get_scores(trigrams(query)) if trigrams(query) else np.zeros(n)
        fused = np.zeros(n)
        for scores in (word_scores, tri_scores):
            order = np.argsort(-scores, kind="stable")
            ranks = np.empty(n)
            ranks[order] = np.arange(1, n + 1)
            fused += np.where(scores > 0, 1.0 / (_RRF_K + ranks), 0.0)
        # A document needs some real evidence: a word match, or a strong trigram match (typos).
        tri_max = float(tri_scores.max()) if n else 0.0
        evidence = (word_scores >= MIN_WORD_SCORE) | (tri_scores >= max(0.55 * tri_max, 1e-9) * (tri_max > 8.0))
        hits = [
            self._doc(int(i), float(fused[i]), float(word_scores[i]))
            for i in np.argsort(-fused, kind="stable")
            if evidence[i] and fused[i] > 0
        ]
        return [h for h in hits if h.kind in kinds][:k]


def _bm25(corpus: list[list[str]]) -> bm25s.BM25:
    index = bm25s.BM25()
    # An empty document still needs a token so that indices line up with the corpus.
    index.index([doc or ["\x00"] for doc in corpus], show_progress=False)
    return index
