"""Answer a student's question from the facts that answer it, streamed sentence by sentence.

1. :class:`knowledge.facts.FactRanker` ranks single facts of the best cards and notes for the
   question (and the topic span the turn reader found).
2. The answer: ``mode="extractive"`` (the default, :data:`DEFAULT_MODE`), the top facts'
   statements themselves; ``mode="model"``, the model's continuation of
   :func:`prompts.explain.explain_messages` over the top facts, released only in complete sentences
   (:mod:`agent.explain.sentences`), at most :data:`MAX_SENTENCES`, generation stopped as soon as
   they are out. A model answer with no complete sentence falls back to the best fact's statement,
   so there is always an answer.
3. Then key facts and sources (:class:`ExplanationStream`).

Which answer ships is decided from ``evaluation/explain_report.py`` (model vs extractive on
held-out questions).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from agent.explain.sentences import complete_sentences, join_sentences
from knowledge.base import KnowledgeBase
from knowledge.facts import FactRanker, RankedFact
from prompts.explain import explain_messages

Mode = Literal["model", "extractive"]
# The model must earn its place: on 103 held-out questions (evaluation/reports/explain) the extractive
# answer states the asked fact's answer in its first two sentences for 89%, the embedded model with the
# shipped tutor adapter 78% (never where the extractive one misses), the base model 9%. Rerun the report
# with a retrained adapter before switching to "model".
DEFAULT_MODE: Mode = "extractive"
MAX_SENTENCES = 3  # a short answer: the answer first, then one or two supporting sentences
MAX_NEW_TOKENS = 120  # three short sentences fit; a run-on answer is cut at its last sentence end
FACTS_SHOWN = 3  # facts given to the model and listed as key facts
EXTRACTIVE_SENTENCES = 2
NOTHING_FOUND = "I don't have notes on that yet. Try naming the concept, for example \"dropout\" or \"k-means\"."


@dataclass
class ExplanationStream:
    """Streamed answer text plus the facts and sources it was grounded in."""

    pieces: Iterator[str]
    sources: list[str]
    key_facts: list[str] = field(default_factory=list)
    facts: list[RankedFact] = field(default_factory=list)
    mode: str = "extractive"
    raw: list[str] = field(default_factory=list)  # the model's raw pieces, filled while streaming (evaluation)
    fell_back: list[bool] = field(default_factory=list)  # [True] once streamed if the model gave no sentence


class Explainer:
    """Ranks facts and answers from them; holds no state between questions."""

    def __init__(self, kb: KnowledgeBase, lm=None, runtime=None, mode: Mode = DEFAULT_MODE):
        if mode == "model" and lm is None:
            raise ValueError("mode='model' needs a model")
        self.kb = kb
        self.lm = lm
        self.runtime = runtime
        self.mode = mode
        self.ranker = FactRanker(kb)

    def explain(
        self, question: str, topic: str | None = None, *, max_new_tokens: int | None = None, mode: Mode | None = None
    ) -> ExplanationStream:
        """The answer stream for ``question``; ``topic`` (a span of it, or None) steers retrieval."""
        question = (question or "").strip()
        facts = self.ranker.rank(question or (topic or ""), topic, k=FACTS_SHOWN)
        sources = list(dict.fromkeys(f.source for f in facts))
        key_facts = [f.statement for f in facts]
        if not facts:
            return ExplanationStream(iter([NOTHING_FOUND]), [], [], [], "none")
        chosen = mode or self.mode
        if chosen == "model" and self.lm is None:
            raise ValueError("mode='model' needs a model")
        if chosen == "extractive":
            answer = join_sentences(f.statement for f in facts[:EXTRACTIVE_SENTENCES])
            return ExplanationStream(answer, sources, key_facts, facts, "extractive")
        stream = ExplanationStream(iter(()), sources, key_facts, facts, "model")
        stream.pieces = self._model_answer(question, facts, max_new_tokens or MAX_NEW_TOKENS, stream)
        return stream

    def _model_answer(
        self, question: str, facts: list[RankedFact], max_new_tokens: int, stream: ExplanationStream
    ) -> Iterator[str]:
        concept = facts[0].card.title if facts[0].card is not None else None
        prompt = self.runtime.chat(explain_messages(question, [f.statement for f in facts], concept))
        pieces = _recorded(self.runtime.stream(prompt, max_new_tokens=max_new_tokens), stream.raw)  # local or served
        sentences = complete_sentences(pieces, max_sentences=MAX_SENTENCES)
        return join_sentences(_or_fallback(sentences, facts[0].statement, stream.fell_back))


def _recorded(pieces: Iterator[str], raw: list[str]) -> Iterator[str]:
    try:
        for piece in pieces:
            raw.append(piece)
            yield piece
    finally:
        pieces.close()


def _or_fallback(sentences: Iterable[str], fallback: str, fell_back: list[bool]) -> Iterator[str]:
    """``sentences``, or ``fallback`` when there are none (a model that never finished a sentence)."""
    empty = True
    for sentence in sentences:
        empty = False
        yield sentence
    if empty:
        fell_back.append(True)
        yield fallback
