"""Plan a quiz: topic -> N distinct sub-concepts (facts of the most relevant cards).

Retrieval ranks cards; their facts, interleaved card by card, are the candidates. The model
picks the sub-concepts it finds most relevant (a constrained list of numbers); code removes
repeats, caps questions per card so the quiz covers several concepts, and fills any gap in
relevance order. A topic the knowledge base cannot serve raises :class:`QuizUnavailable`.
"""

from __future__ import annotations

import math
import uuid

from agent.prompts import plan_messages
from agent.quiz.assemble import balanced_positions
from agent.quiz.choosers import Chooser
from knowledge.base import KnowledgeBase
from schemas import PlanItem, QuizMeta, QuizPlan

MAX_CANDIDATES = 40
TOPIC_CARDS = 6


class QuizUnavailable(ValueError):
    """The tutor cannot build the requested quiz; the message is shown to the student as is."""


def candidate_items(kb: KnowledgeBase, topic: str, difficulty: str) -> list[PlanItem]:
    """Facts of the cards matching ``topic`` (then of their related cards), interleaved by card."""
    hits = kb.search(topic, k=TOPIC_CARDS, kinds=("card",))
    if not hits:
        return []
    cards = [h.card for h in hits if h.card is not None]
    for card in list(cards):
        cards.extend(c for c in kb.related(card) if c not in cards)
    # Difficulty orders each card's facts: definitions (first facts) first for easy, last for hard.
    per_card = []
    for card in cards:
        order = list(range(len(card.facts)))
        if difficulty == "hard":
            order.reverse()
        per_card.append([PlanItem(source=f"card:{card.id}", fact=i, concept=card.title) for i in order])
    items: list[PlanItem] = []
    for depth in range(max(len(p) for p in per_card)):
        items.extend(p[depth] for p in per_card if depth < len(p))
    return items[:MAX_CANDIDATES]


def candidate_label(kb: KnowledgeBase, item: PlanItem) -> str:
    card = kb.card(item.source.removeprefix("card:"))
    return f"{card.title}: {card.facts[item.fact].answer}"


def plan_quiz(
    kb: KnowledgeBase,
    chooser: Chooser,
    topic: str,
    *,
    count: int,
    seed: int,
    difficulty: str = "medium",
    model_label: str = "",
    adapter: str | None = None,
    strategy: str = "template",
) -> QuizPlan:
    """A validated :class:`QuizPlan` with ``count`` items, or :class:`QuizUnavailable`."""
    topic = " ".join(topic.split())[:200]
    if not topic:
        raise QuizUnavailable("Please name a topic for the quiz, for example: /quiz overfitting")
    candidates = candidate_items(kb, topic, difficulty)
    if not candidates:
        ideas = ", ".join(kb.suggestions())
        raise QuizUnavailable(f"I don't have material on \"{topic[:80]}\" yet. Try a topic such as: {ideas}.")
    if len(candidates) < count:
        raise QuizUnavailable(
            f"I only have material for {len(candidates)} questions on \"{topic[:80]}\"; ask for fewer questions "
            "or a broader topic."
        )
    shortlist = candidates[: min(len(candidates), max(2 * count, 12))]
    labels = [candidate_label(kb, item) for item in shortlist]
    picks = chooser.pick_many(plan_messages(topic, labels, count), len(shortlist), count, seed)
    chosen = _diverse(shortlist, picks, count)
    spares = [c for c in candidates if c not in chosen][:20]
    meta = QuizMeta(
        quiz_id=uuid.uuid4().hex,
        model=model_label or chooser.label,
        adapter=adapter,
        seed=seed,
        difficulty=difficulty,
        requested=count,
        strategy=strategy,
    )
    return QuizPlan(topic=topic, meta=meta, items=chosen, spares=spares, letters=balanced_positions(count, seed))


def _diverse(shortlist: list[PlanItem], picks: list[int], count: int) -> list[PlanItem]:
    """Model picks first, then relevance order; no repeats; at most ``cap`` facts per card."""
    cards = {item.source for item in shortlist}
    cap = max(1, math.ceil(count / len(cards)))
    order = [shortlist[i] for i in picks] + shortlist
    chosen: list[PlanItem] = []
    per_card: dict[str, int] = {}
    for relax in (cap, count):  # relax the cap only if the shortlist cannot fill the quiz
        for item in order:
            if len(chosen) == count:
                return chosen
            if item in chosen or per_card.get(item.source, 0) >= relax:
                continue
            chosen.append(item)
            per_card[item.source] = per_card.get(item.source, 0) + 1
    return chosen
