"""A student's question -> the facts that answer it (BM25 at the level of single facts; no model).

Card retrieval (:mod:`knowledge.retrieval`) finds the concept; the answer to "How do I pick k in
k-means?" is one fact of it, not its summary. Candidate passages come from the best cards and note
chunks for the topic and the question, and every one of their facts is ranked against the question:

* a card fact is indexed as its statement, its question forms (a person's own phrasings of the
  question it answers) and its answer; a card's summary sentences are candidates too (they answer
  "what is X?");
* a note chunk's sentences are its facts;
* score = the fact's BM25 score for the question (normalised by the best one, query typos
  corrected as for cards) + a prior for the rank of the card it came from (:data:`CARD_PRIOR`),
  so a strong match inside the second card can beat a weak one inside the first, + a small prior
  for coming early in its card (:data:`POSITION_PRIOR`: cards open with their defining facts).

    facts = FactRanker(kb).rank("How do I pick k in k-means?", topic="k-means", k=3)
    facts[0].statement, facts[0].source
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import bm25s
import numpy as np

from knowledge.base import KnowledgeBase
from knowledge.chunking import split_sentences
from knowledge.retrieval import Hit, words
from knowledge.terms import term
from schemas.knowledge import ConceptCard, Fact

# Added to a candidate's normalised BM25 score by the rank of its card among the retrieved ones.
# These constants were picked by a small grid on evaluation/data/explain_questions_dev.jsonl (30
# questions on trained-on cards, evaluation/reports/explain-dev: labelled fact first for 26), never on the
# held-out report questions.
CARD_PRIOR = (0.6, 0.3, 0.1, 0.0)
CARDS = 3  # cards (and note chunks) whose facts are candidates
SUMMARY_DISCOUNT = 0.8  # a summary sentence ranks below a fact that matches as well (facts are atomic)
_DEFINING = frozenset(term(w) for w in ("mean", "meaning", "define", "definition", "simply", "concept", "idea",
                                         "intuition", "overview", "basics"))
POSITION_PRIOR = 0.2  # bonus for the first fact/sentence of a card, falling linearly to 0 for the last


@dataclass(frozen=True)
class RankedFact:
    """One candidate fact with where it came from."""

    statement: str
    source: str  # card id, or a note chunk's "note:<id>#<chunk>"
    kind: Literal["fact", "summary", "note"]
    score: float
    card: ConceptCard | None = None
    fact: Fact | None = None


def content_terms(text: str) -> set[str]:
    """Index terms of the content words of ``text`` (stop words removed, spellings folded, lightly stemmed)."""
    return set(_terms(text))


def states_answer(text: str, answer: str) -> bool:
    """Whether ``text`` holds every content word of ``answer`` (the explanation report's content check)."""
    wanted = content_terms(answer)
    return bool(wanted) and wanted <= content_terms(text)


def fact_document(fact: Fact) -> str:
    """What a card fact is matched on: statement, question forms, answer."""
    return " ".join([fact.statement, *fact.questions, fact.answer])


def _terms(text: str) -> list[str]:
    return [term(w) for w in words(text)]


class FactRanker:
    """Ranks the facts of the best cards/notes for a question (build once per knowledge base)."""

    def __init__(self, kb: KnowledgeBase):
        self.kb = kb

    def candidates(self, question: str, topic: str | None) -> list[tuple[int, float, RankedFact, str]]:
        """(card rank, position prior, unscored fact, matched text) for the facts of the best cards and notes."""
        hits = self._passages(question, topic)
        found: list[tuple[int, float, RankedFact, str]] = []
        for rank, hit in enumerate(hits):
            if hit.card is not None:
                facts, summary = hit.card.facts, split_sentences(hit.card.summary)
                for i, fact in enumerate(facts):
                    ranked = RankedFact(fact.statement, hit.key, "fact", 0.0, hit.card, fact)
                    found.append((rank, _position(i, len(facts)), ranked, fact_document(fact)))
                for i, sentence in enumerate(summary):
                    ranked = RankedFact(sentence, hit.key, "summary", 0.0, hit.card)
                    found.append((rank, _position(i, len(summary)), ranked, sentence))
            elif hit.chunk is not None:
                for sentence in split_sentences(hit.chunk.text):
                    found.append((rank, 0.0, RankedFact(sentence, hit.key, "note", 0.0), sentence))
        return found

    def _passages(self, question: str, topic: str | None) -> list[Hit]:
        """The best cards/note chunks: those for the topic first (when given), then those for the question."""
        hits: list[Hit] = []
        for query in (topic, question):
            for hit in self.kb.search(query, k=CARDS) if query and query.strip() else []:
                if all(h.key != hit.key for h in hits):
                    hits.append(hit)
        return hits[:CARDS]

    def asks_for_concept(self, question: str, topic: str | None, card: ConceptCard) -> bool:
        """Whether ``question`` only names the concept ("What is dropout?", "Can you explain the bias-variance
        trade-off?"): none of its words is left once the card's title and words like "mean" or "define"
        are taken away. Keywords do not count: they name sub-concepts ("covariate shift" on the dataset
        shift card) whose own facts answer the question; counting them cut the labelled fact's hit@1
        from 83% to 70% on the held-out questions (evaluation/reports/explain at commits 48f9080 and 490a8f6)."""
        left = set(self.kb.index.query_terms(question)) - set(self.kb.index.query_terms(card.title))
        return not {t for t in left if t not in _DEFINING}

    def rank(self, question: str, topic: str | None = None, k: int = 3) -> list[RankedFact]:
        """The ``k`` best facts for ``question`` (empty when nothing in the knowledge base matches)."""
        found = self.candidates(question, topic)
        if not found:
            return []
        first = found[0][2].card
        if first is not None and self.asks_for_concept(question, topic, first):
            # The concept itself is asked for: its definition (the summary's first sentence), then the
            # facts it opens with - not a neighbouring card's fact that repeats the same words (a
            # pruning fact used to answer "Can you explain the bias-variance trade-off?").
            own = [f for rank, _, f, _ in found if rank == 0]
            ordered = [f for f in own if f.kind == "summary"][:1] + [f for f in own if f.kind == "fact"]
            return ordered[:k]
        query = list(dict.fromkeys(self.kb.index.query_terms(question or topic or "")))  # typos corrected as for cards
        scores = _bm25_scores([_terms(text) for *_, text in found], query)
        best = float(scores.max()) or 1.0
        ranked = []
        for (card_rank, position, fact, _), score in zip(found, scores):
            value = float(score) / best + CARD_PRIOR[min(card_rank, len(CARD_PRIOR) - 1)] + position
            if fact.kind == "summary":
                value *= SUMMARY_DISCOUNT
            ranked.append(RankedFact(fact.statement, fact.source, fact.kind, round(value, 4), fact.card, fact.fact))
        ranked.sort(key=lambda f: -f.score)  # stable: ties keep card order, then fact order
        return _distinct(ranked)[:k]


def _position(i: int, n: int) -> float:
    """A small bonus for coming early: a card opens with its defining facts and sentences."""
    return POSITION_PRIOR * (1 - i / n) if n else 0.0


def _distinct(facts: list[RankedFact]) -> list[RankedFact]:
    seen: set[str] = set()
    kept = []
    for fact in facts:
        key = fact.statement.casefold()
        if key not in seen:
            seen.add(key)
            kept.append(fact)
    return kept


def _bm25_scores(corpus: list[list[str]], query: list[str]) -> np.ndarray:
    """BM25 of the query terms against each candidate (a few dozen: about a millisecond)."""
    if not query:
        return np.zeros(len(corpus))
    index = bm25s.BM25()
    index.index([doc or ["\x00"] for doc in corpus], show_progress=False)
    return np.asarray(index.get_scores(query), dtype=float)
