"""Topic or chat text -> the relevant concept cards and note chunks (BM25, no model needed).

Two BM25 indexes (the maintained ``bm25s`` library) are fused by weighted reciprocal rank:

* index terms (:mod:`knowledge.terms`: stop words removed, British/American spellings folded,
  light stemming) over title, keywords, summary and facts - precise on exact terms. A query
  word the index has never seen is replaced by its closest indexed word ("overfiting" ->
  "overfitting"), so typos count as word matches too. Weighted double: it is the stronger signal.
* character trigrams of the same text - a fallback for what the word index misses
  (typos in short words, split compounds such as "k means", partial words).

A card's title and keywords are repeated so that naming a concept outweighs passing mentions.

    index = KnowledgeIndex.build(load_cards())
    index.search("bias variance tradeof", k=3)

``python -m knowledge.eval_retrieval`` measures recall@1/3/5 on a labelled set of student phrasings.
"""

from __future__ import annotations

import logging
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Literal

import bm25s
import numpy as np
from bm25s.stopwords import STOPWORDS_EN_PLUS

from knowledge.terms import TypoCorrector, term
from schemas.knowledge import ConceptCard, NoteChunk

logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets DEBUG on import: a line per index build

_STOP = frozenset(STOPWORDS_EN_PLUS) | {"quiz", "explain", "me", "about", "test", "question", "questions", "tell"} | {
    # conversational filler in student questions ("why does X matter so much?") that would match passing mentions
    "much", "many", "matter", "matters", "really", "actually", "exactly", "basically", "please", "thing", "things",
    "something", "anything", "would", "could", "also", "get", "gets", "want", "know", "understand", "help",
}
_RRF_K = 20  # reciprocal-rank fusion constant (small: the top ranks matter most)
_WORD_WEIGHT, _TRIGRAM_WEIGHT = 2.0, 1.0  # fusion weights (typo correction made the word index the stronger one)
MIN_WORD_SCORE = 0.5  # below this (and no strong trigram match) a query matches nothing we know
MIN_TRIGRAM_SCORE = 8.0  # a trigram-only match must beat this (short random words share a few trigrams)


def words(text: str) -> list[str]:
    """Lower-cased alphanumeric words without stop words ('k-NN' -> 'k', 'nn')."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    cleaned = "".join(ch if ch.isalnum() else " " for ch in folded)
    return [w for w in cleaned.split() if w not in _STOP]


def trigrams(text: str) -> list[str]:
    """Character trigrams of each word padded with spaces (typo-tolerant matching)."""
    return _trigrams_of(words(text))


def _trigrams_of(tokens: list[str]) -> list[str]:
    grams: list[str] = []
    for word in tokens:
        padded = f" {word} "
        grams.extend(padded[i : i + 3] for i in range(len(padded) - 2))
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
        tokens = [words(t) for t in texts]
        terms = [[term(w) for w in doc] for doc in tokens]
        self._word = _bm25(terms) if texts else None  # bm25s cannot index an empty corpus
        self._tri = _bm25([_trigrams_of(doc) for doc in tokens]) if texts else None
        self._vocabulary = {t for doc in terms for t in doc}
        self._doc_terms = {self._key(i): set(doc) for i, doc in enumerate(terms)}
        # Typos are corrected towards card words and words the notes use more than once (a one-off
        # word in the notes - a name, a typo of the student's own - is no correction target).
        note_words = Counter(w for doc in tokens[len(self.cards):] for w in doc)
        card_words = (w for doc in tokens[: len(self.cards)] for w in doc)
        self._corrector = TypoCorrector([*card_words, *(w for w, n in note_words.items() if n > 1)])

    def query_terms(self, query: str) -> list[str]:
        """The query's index terms; a word the index has never seen is replaced by its typo correction."""
        found = []
        for word in words(query):
            if term(word) not in self._vocabulary:
                word = self._corrector.correct(word) or word
            found.append(term(word))
        return found

    def _key(self, i: int) -> str:
        return self.cards[i].id if i < len(self.cards) else self.chunks[i - len(self.cards)].source

    def coverage(self, query: str, keys: list[str]) -> float:
        """Share of the query's distinct terms (2+ characters) that the documents ``keys`` contain.

        Ranking always finds *something*; this says whether the best documents are about the query
        ("zyzzyva basket weaving" shares one corrected word with a card: 0.25) or not.
        """
        wanted = {t for t in self.query_terms(query) if len(t) > 1}
        if not wanted:
            return 0.0
        held = set().union(*(self._doc_terms.get(k, set()) for k in keys)) if keys else set()
        return len(wanted & held) / len(wanted)

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
        query_terms = self.query_terms(query)
        word_scores = self._word.get_scores(query_terms) if query_terms else np.zeros(n)
        tri_scores = self._tri.get_scores(trigrams(query)) if trigrams(query) else np.zeros(n)
        fused = np.zeros(n)
        for weight, scores in ((_WORD_WEIGHT, word_scores), (_TRIGRAM_WEIGHT, tri_scores)):
            order = np.argsort(-scores, kind="stable")
            ranks = np.empty(n)
            ranks[order] = np.arange(1, n + 1)
            fused += weight * np.where(scores > 0, 1.0 / (_RRF_K + ranks), 0.0)
        # A document needs some real evidence: a word match (typos included, via correction), or a
        # trigram match close to the best one when that one is strong (a typo the corrector missed).
        tri_max = float(tri_scores.max())
        evidence = (word_scores >= MIN_WORD_SCORE) | ((tri_max > MIN_TRIGRAM_SCORE) & (tri_scores >= 0.55 * tri_max))
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
