"""Plan a quiz: topic -> N distinct sub-concepts (facts of the most relevant cards).

Retrieval ranks cards; their facts, interleaved card by card, are the candidates. The model
picks the sub-concepts it finds most relevant (a constrained list of numbers); code removes
repeats, caps questions per card so the quiz covers several concepts, and fills any gap in
relevance order. A topic the knowledge base cannot serve raises :class:`QuizUnavailable`.
"""

from __future__ import annotations

import math
import uuid

from prompts.tutor import plan_messages
from agent.quiz.assemble import balanced_positions
from agent.quiz.choosers import Chooser
from knowledge.base import KnowledgeBase
from knowledge.cloze import note_cloze_items, note_fact
from schemas import PlanItem, QuizMeta, QuizPlan
from schemas.markup import text_content

MAX_CANDIDATES = 40
TOPIC_CARDS = 6
STRONG_MATCH = 0.6  # share of the best word score for a card to count as matching the topic
TOP_CARD_SHARE = 3
MIN_TOPIC_COVERAGE = 0.5  # more than half the topic's words must occur in its best cards/notes  # the best-matching card may give up to this many questions; other cards fewer


class QuizUnavailable(ValueError):
    """The tutor cannot build the requested quiz; the message is shown to the student as is."""


def candidate_items(kb: KnowledgeBase, topic: str, difficulty: str) -> list[PlanItem]:
    """Facts of the cards matching ``topic`` (then of their related cards), interleaved by card.

    Cloze sentences from the student's matching notes come right after the best card's facts.
    """
    hits = kb.search(topic, k=TOPIC_CARDS, kinds=("card",))
    notes = [
        [PlanItem(source=c.source, fact=c.sentence_index, concept=c.concept, fact_id=c.fact_id) for c in group]
        for group in note_cloze_items(kb, topic)
    ]
    if not hits and not notes:
        return []
    card_hits = [h for h in hits if h.card is not None]
    # Cards that match nearly as well as the best one, then the best card's curated related cards,
    # then weaker matches and their related cards.
    best = card_hits[0].word_score if card_hits else 0.0
    strong = [h.card for h in card_hits if h.word_score >= STRONG_MATCH * best]
    ordered: list = list(strong)
    for card in strong[:1]:
        ordered.extend(c for c in kb.related(card) if c not in ordered)
    matched, related = ordered, []
    for card in [h.card for h in card_hits] + ordered:
        related.extend(c for c in [card] + kb.related(card) if c not in matched and c not in related)

    def facts_of(card) -> list[PlanItem]:
        # Difficulty orders each card's facts: definitions (first facts) first for easy, last for hard.
        order = list(range(len(card.facts)))
        if difficulty == "hard":
            order.reverse()
        return [PlanItem(source=f"card:{card.id}", fact=i, concept=card.title, fact_id=card.facts[i].id)
                for i in order]

    primary = [facts_of(c) for c in matched]
    primary[1:1] = notes
    items = _interleave(primary, boost_first=TOP_CARD_SHARE) + _interleave([facts_of(c) for c in related])
    return items[:MAX_CANDIDATES]


def _interleave(groups: list[list[PlanItem]], boost_first: int = 0) -> list[PlanItem]:
    """Round-robin over groups; the first group's first ``boost_first`` items alternate with the rest."""
    groups = [list(g) for g in groups if g]
    if not groups:
        return []
    head = groups[0][:boost_first] if boost_first else []
    # The first group's remaining items keep their depth, so they follow after the others' items.
    groups[0] = [None] * len(head) + groups[0][len(head):]
    rest: list[PlanItem] = []
    for depth in range(max(len(g) for g in groups)):
        rest.extend(g[depth] for g in groups if depth < len(g) and g[depth] is not None)
    items: list[PlanItem] = []
    for item in head:  # top card, other card, top card, other card, ...
        items.append(item)
        if rest:
            items.append(rest.pop(0))
    return items + rest


def candidate_label(kb: KnowledgeBase, item: PlanItem) -> str:
    if item.source.startswith("note:"):
        return f"{item.concept} (your notes): {note_fact(kb, item.source, item.fact)[1].answer}"
    card = kb.card(item.source.removeprefix("card:"))
    return f"{card.title}: {card.facts[item.fact].answer}"


def require_material(kb: KnowledgeBase, topic: str) -> str:
    """The cleaned topic, or :class:`QuizUnavailable` when the knowledge base has nothing on it.

    Cheap (no model), so callers can refuse a request before loading a model.
    """
    topic = text_content(topic)[:200]
    if not topic:
        raise QuizUnavailable("Please name a topic for the quiz, for example: /quiz overfitting")
    top = [h.key for h in kb.search(topic, k=3)]
    if not top or kb.index.coverage(topic, top) <= MIN_TOPIC_COVERAGE:
        ideas = ", ".join(kb.suggestions())
        raise QuizUnavailable(f"I don't have material on \"{topic[:80]}\" yet. Try a topic such as: {ideas}.")
    return topic


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
    topic = require_material(kb, topic)
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
    """The quiz's sub-concepts: no repeats, several cards, the best-matching card best covered.

    The best card's first facts are reserved (a quiz on "dropout" must be mostly about dropout),
    then the model's picks, then relevance order; at most ``cap`` facts per other card.
    """
    top = shortlist[0].source
    reserved = [item for item in shortlist if item.source == top][: min(TOP_CARD_SHARE, math.ceil(count / 4))]
    cards = {item.source for item in shortlist}
    cap = max(2, math.ceil(count / len(cards)))
    order = reserved + [shortlist[i] for i in picks] + shortlist
    chosen: list[PlanItem] = []
    per_card: dict[str, int] = {}
    for relax in (cap, count):  # relax the cap only if the shortlist cannot fill the quiz
        for item in order:
            if len(chosen) == count:
                return chosen
            limit = max(relax, len(reserved)) if item.source == top else relax
            if item in chosen or per_card.get(item.source, 0) >= limit:
                continue
            chosen.append(item)
            per_card[item.source] = per_card.get(item.source, 0) + 1
    return chosen
