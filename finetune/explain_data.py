"""Explanation rows for the tutor adapter: a concrete question -> a short answer built from the facts.

Each row is the exact runtime prompt (:func:`prompts.explain.explain_messages` over the facts that
:class:`knowledge.facts.FactRanker` retrieves for the question) with a target written by code:

* **fact questions** - every question form of a card fact (plus, for some, a student-style
  variant: filler, lower case, no question mark). The target starts with the answer: the fact's
  statement when it already opens with the answer's words, else the short answer as a sentence
  followed by the statement. The answering fact is listed among the retrieved facts, first or
  (in :data:`SHUFFLED_SHARE` of rows) further down, so the model learns to pick it rather than
  always copy fact 1: paraphrased questions do not always rank it first.
* **definition questions** ("What is <concept>?") - the summary's first sentence, then the card's
  first fact: two sentences, not the whole summary (the old rows taught copying a card summary word for
  word, and the answer then ran past the token limit mid-sentence).

The caller passes a knowledge base of trained-on cards only, so no held-out fact is ever shown.
"""

from __future__ import annotations

import random

from knowledge.base import KnowledgeBase
from knowledge.chunking import split_sentences
from knowledge.facts import FactRanker, content_terms
from prompts.explain import explain_messages
from schemas.knowledge import ConceptCard, Fact

FACTS_SHOWN = 3  # as at run time (agent.explain.explainer.FACTS_SHOWN)
SHUFFLED_SHARE = 0.35
VARIANT_SHARE = 0.5
LEAD_WORDS = 10  # the statement "starts with the answer" when the answer's words are in its first 10 words
_FILLERS = ("Quick question: ", "Sorry if this is basic, but ", "I'm revising for an exam. ", "Hi! ", "Can you help? ")

Rows = list[tuple[list[dict[str, str]], str]]


def answer_sentence(answer: str) -> str:
    """The short answer as a sentence: first letter raised (for plain words), one full stop."""
    text = answer.strip().rstrip(".…")
    first = text.split(" ", 1)[0]
    if first.isalpha() and first.islower():
        text = text[0].upper() + text[1:]
    return text + "."


def answer_first(fact: Fact) -> str:
    """The fact's statement if it already opens with the answer's words, else the answer then the statement."""
    lead = content_terms(" ".join(fact.statement.split()[:LEAD_WORDS]))
    if content_terms(fact.answer) <= lead:
        return fact.statement
    return f"{answer_sentence(fact.answer)} {fact.statement}"


def student_variant(question: str, rng: random.Random) -> str:
    """A code-made student phrasing of an authored question form (filler, casing, no question mark)."""
    text = question
    if rng.random() < 0.5:
        text = text[0].lower() + text[1:]
    if rng.random() < 0.5:
        text = text.rstrip("?")
    return rng.choice(_FILLERS) + text


def _shown(ranker: FactRanker, question: str, statement: str, rng: random.Random) -> list[str]:
    """The facts the runtime would show for ``question``, with ``statement`` among them."""
    ranked = [f.statement for f in ranker.rank(question, None, k=FACTS_SHOWN + 1) if f.statement != statement]
    others = ranked[: FACTS_SHOWN - 1]
    position = rng.randrange(1, len(others) + 1) if others and rng.random() < SHUFFLED_SHARE else 0
    return others[:position] + [statement] + others[position:]


def fact_rows(card: ConceptCard, ranker: FactRanker, rng: random.Random) -> Rows:
    rows: Rows = []
    for fact in card.facts:
        target = answer_first(fact)
        asks = list(fact.questions)
        if rng.random() < VARIANT_SHARE:
            asks.append(student_variant(rng.choice(fact.questions), rng))
        for ask in asks:
            rows.append((explain_messages(ask, _shown(ranker, ask, fact.statement, rng), card.title), target))
    return rows


def definition_rows(card: ConceptCard, ranker: FactRanker, rng: random.Random) -> Rows:
    definition = split_sentences(card.summary)[0]
    ask = rng.choice([f"What is {card.title.lower()}?", f"Can you explain {card.title.lower()} simply?",
                      f"what does {card.title.lower()} mean"])
    best = card.facts[0].statement  # a card opens with its defining fact
    shown = _shown(ranker, ask, definition, rng)
    if best not in shown:
        shown = shown[:-1] + [best] if len(shown) >= FACTS_SHOWN else shown + [best]
    return [(explain_messages(ask, shown, card.title), f"{definition} {best}")]


def explanation_rows(card: ConceptCard, kb: KnowledgeBase, rng: random.Random) -> Rows:
    """Every explanation row of ``card``; ``kb`` must hold only trained-on cards."""
    if card.id not in kb.cards:
        raise ValueError(f"card {card.id} is not in the training knowledge base (held out?)")
    ranker = FactRanker(kb)
    return fact_rows(card, ranker, rng) + definition_rows(card, ranker, rng)
