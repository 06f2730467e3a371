"""Plan a quiz: topic -> N distinct facts, on the concept asked for as long as its facts last.

Retrieval ranks cards. A topic that names one concept ("kernel trick", "learning-rate warmup")
is planned from that card's facts (and the student's matching notes) first; neighbouring cards
(its curated related cards, then other matches) are used only when those facts run out. A broad
topic ("optimisation", "neural networks": several cards match about equally and none is named
by it) is planned over those cards in turn. Either way :attr:`QuizPlan.widened_to` lists the
other concepts the quiz uses, so the quiz intro can tell the student.

Within each part, :mod:`agent.quiz.ordering` puts facts the student has not been asked first, then
the item kinds the difficulty asks for (easy: recall; hard: application, computation, scenario).
A student who has been asked every fact of the concept gets its least recently asked facts again
before the quiz widens: staying on the concept comes before freshness.

The student's own notes: "quiz me on my notes" (``source="notes"``) is planned from their notes only
(:func:`notes_plan_items`); on any other quiz, notes that cover the topic come first, so a quiz on a
subject of the notes draws mainly on them; ``source="cards"`` leaves notes out.

No model is involved: the model's pick over the candidates gave the same plan as this order for
35 of 35 held-out topics (``bench/results/quiz_ablation.json``), so a quiz never waits for one. A topic the knowledge base
cannot serve raises :class:`QuizUnavailable`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from agent.quiz.assemble import balanced_positions
from agent.quiz.ordering import NOTE_KIND, Key, fact_key, merge, order_group
from knowledge.base import KnowledgeBase
from knowledge.cloze import note_cloze_items
from knowledge.retrieval import words
from knowledge.terms import term
from schemas import PlanItem, QuizMeta, QuizPlan
from schemas.knowledge import ConceptCard
from schemas.markup import text_content

MAX_CANDIDATES = 40
TOPIC_CARDS = 6
# A card whose word score is within 10% of the best one matches "about equally". With this, "batch
# normalisation" stays on its card (layer normalisation scores 0.88 of it) while "optimisation" (0.99)
# and "neural networks" (five cards within 0.94) are broad.
BROAD_SHARE = 0.9
NEAREST = 2  # neighbouring cards whose facts alternate first when a quiz must widen
MIN_TOPIC_COVERAGE = 0.5  # more than half the topic's words must occur in its best cards/notes
NOTE_CHUNKS, NOTE_ITEMS_PER_CHUNK = 8, 8  # the best-matching chunks; round-robin over them keeps variety
_NOTES_WORDS = frozenset({"notes", "note", "my notes", "my note", "own notes", "my own notes", "the notes"})
MY_NOTES = re.compile(r"\b(?:(?:from|in|on|about|of)\s+)?my\s+(?:own\s+)?notes\b(?:\s+(?:on|about|of)\b)?", re.I)


class QuizUnavailable(ValueError):
    """The tutor cannot build the requested quiz; the message is shown to the student as is."""


@dataclass
class Candidates:
    """Ordered candidate facts: the concept's own first, then the neighbours' (``neighbours`` = their cards)."""

    concept: list[PlanItem] = field(default_factory=list)
    neighbours: list[PlanItem] = field(default_factory=list)
    broad: bool = False
    main: str = ""  # the best-matching card's title ("" when only notes match)

    @property
    def items(self) -> list[PlanItem]:
        return (self.concept + self.neighbours)[:MAX_CANDIDATES]


def _terms(text: str) -> set[str]:
    return {term(w) for w in words(text)}


_PARENTHESES = re.compile(r"\(([^)]*)\)")


def card_names(card: ConceptCard) -> list[set[str]]:
    """The ways a topic can name a card, as term sets: its title without the parenthesised part ("Gated recurrent
    unit"), and each abbreviation given there ("GRU", "XGBoost"). Round 3 of the blind review found "mean absolute
    error" planned over two cards, because the title "Mean absolute error (MAE)" asked for "MAE" too."""
    names = [_terms(_PARENTHESES.sub(" ", card.title))]
    for inside in _PARENTHESES.findall(card.title):
        names += [_terms(alias) for alias in inside.split(",") if _is_abbreviation(alias.strip())]
    return [name for name in names if name]


def _is_abbreviation(alias: str) -> bool:
    return bool(alias) and " " not in alias and any(ch.isupper() for ch in alias)


def names_card(topic: str, card: ConceptCard) -> bool:
    """The topic names the card: every word of one of its names (:func:`card_names`; stop words aside) occurs in it."""
    return _named_by(_terms(topic), card) is not None


def _named_by(topic_terms: set[str], card: ConceptCard) -> set[str] | None:
    """The card's longest name contained in the topic's terms, or None."""
    names = [name for name in card_names(card) if name <= topic_terms]
    return max(names, key=len) if names else None


def topic_cards(kb: KnowledgeBase, topic: str) -> tuple[list[ConceptCard], list[ConceptCard]]:
    """(the concept's cards, the other matching cards), best first.

    The concept is the best-matching card, or the cards the topic names (:func:`names_card`) among those
    matching about equally well, less any whose name is part of another's ("learning-rate warmup" names the
    warmup card, not "Learning rate"; "RLHF and DPO" names both); when several match about equally and none
    is named, the topic is broad and all of them are the concept's cards.
    """
    hits = [h for h in kb.search(topic, k=TOPIC_CARDS, kinds=("card",)) if h.card is not None]
    if not hits:
        return [], []
    best = max(h.word_score for h in hits)
    near = [h.card for h in hits if h.word_score >= BROAD_SHARE * best] or [hits[0].card]
    topic_terms = _terms(topic)
    named = [(card, name) for card in near if (name := _named_by(topic_terms, card)) is not None]
    concept = [card for card, name in named if not any(name < other for _, other in named)] or near
    return concept, [h.card for h in hits if h.card not in concept]


def notes_plan_items(kb: KnowledgeBase, topic: str | None, asked: Mapping[str, float] | None = None) -> list[PlanItem]:
    """Items from the student's notes on ``topic`` (every note when None): fresh first, the best-matching
    chunks taking turns (variety)."""
    asked = asked or {}
    groups = note_cloze_items(kb, topic, chunks=NOTE_CHUNKS, per_chunk=NOTE_ITEMS_PER_CHUNK)
    return merge([
        [(fact_key(NOTE_KIND, None, "medium", asked.get(c.fact_id)),
          PlanItem(source=c.source, fact=c.sentence_index, concept=c.concept, fact_id=c.fact_id)) for c in group]
        for group in groups
    ])


def notes_cover(kb: KnowledgeBase, topic: str) -> bool:
    """Whether the student's notes cover ``topic`` (its best note chunk holds most of its words)."""
    hits = kb.search(topic, k=1, kinds=("note",)) if kb.chunks else []
    return bool(hits) and kb.index.coverage(topic, [hits[0].key]) > MIN_TOPIC_COVERAGE


def candidate_items(
    kb: KnowledgeBase, topic: str, difficulty: str, asked: Mapping[str, float] | None = None, source: str = "any",
) -> Candidates:
    """The concept's facts (the student's matching notes first when they cover it), then the neighbours', each
    part ordered by :mod:`agent.quiz.ordering` (fresh first, then the item kinds ``difficulty`` asks for).

    ``asked`` maps the fact ids this student has been asked to when (unix time; None or {}: nothing asked).
    """
    asked = asked or {}
    concept, others = topic_cards(kb, topic)
    notes = notes_plan_items(kb, topic, asked) if source != "cards" and notes_cover(kb, topic) else []
    own = notes + merge([_facts_of(card, difficulty, asked) for card in concept])
    neighbours: list[ConceptCard] = []
    for card in concept + others:  # curated related cards of the concept first, then weaker matches
        for near in ([card] if card in others else []) + kb.related(card):
            if near not in concept and near not in neighbours:
                neighbours.append(near)
    # The nearest neighbours alternate first, so a widened quiz names few concepts, not one per question.
    groups = [_facts_of(c, difficulty, asked) for c in neighbours]
    neighbour_items = merge(groups[:NEAREST]) + merge(groups[NEAREST:])
    return Candidates(own, neighbour_items, broad=len(concept) > 1, main=concept[0].title if concept else "")


def _facts_of(card: ConceptCard, difficulty: str, asked: Mapping[str, float]) -> list[tuple[Key, PlanItem]]:
    """The card's facts as (sort key, plan item), ordered by :func:`agent.quiz.ordering.order_group`."""
    return order_group([
        (fact_key(fact.kind, fact.difficulty, difficulty, asked.get(fact.id)), fact.kind,
         PlanItem(source=f"card:{card.id}", fact=i, concept=card.title, fact_id=fact.id))
        for i, fact in enumerate(card.facts)
    ])


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


def notes_topic(topic: str | None) -> str | None:
    """The subject of a quiz on the notes without "my notes" ("dropout from my notes" -> "dropout"; None: all)."""
    cleaned = " ".join(MY_NOTES.sub(" ", text_content(topic or "")).split()).strip(" ,.")
    if cleaned.lower() in _NOTES_WORDS:  # the model reader may copy "notes" itself as the topic (browser test)
        return None
    return cleaned[:200] or None


def _notes_candidates(
    kb: KnowledgeBase, topic: str | None, count: int, asked: Mapping[str, float] | None = None,
) -> tuple[str | None, list[PlanItem]]:
    """(the subject, the items) of a quiz on the student's notes only, or :class:`QuizUnavailable`."""
    if not kb.chunks:
        raise QuizUnavailable("You have no notes yet. Upload a .md, .txt or .pdf file here in the chat "
                              "(or run `tutor notes add FILE`), then ask me to quiz you on your notes.")
    subject = notes_topic(topic)
    items = notes_plan_items(kb, subject, asked)
    if not items:
        about = f" on \"{subject[:80]}\"" if subject else ""
        raise QuizUnavailable(f"I found no sentences in your notes{about} that make a fair question on their own "
                              "(definitions such as \"X is a method that ...\" work best).")
    return subject, items[:count + 20]


def plan_quiz(
    kb: KnowledgeBase,
    topic: str | None,
    *,
    count: int,
    seed: int,
    difficulty: str = "medium",
    model_label: str = "",
    adapter: str | None = None,
    strategy: str = "template",
    asked: Mapping[str, float] | None = None,
    source: str = "any",
) -> QuizPlan:
    """A validated :class:`QuizPlan` with ``count`` items, or :class:`QuizUnavailable`.

    ``asked``: the facts this student has been asked (fact id -> unix time), which the plan avoids
    while the concept has others (:mod:`agent.quiz.ordering`). A quiz on the notes only
    (``source="notes"``) is as long as the notes allow, up to ``count``.
    """
    requested = count
    if source == "notes":
        subject, items = _notes_candidates(kb, topic, count, asked)
        topic = f"your notes on {subject}" if subject else "your notes"
        count = min(count, len(items))  # the intro says when the notes give fewer (:func:`intro_note`)
        found = Candidates(items)
    else:
        topic = require_material(kb, topic)
        found = candidate_items(kb, topic, difficulty, asked, source)
    candidates = found.items
    if not candidates:
        ideas = ", ".join(kb.suggestions())
        raise QuizUnavailable(f"I don't have material on \"{topic[:80]}\" yet. Try a topic such as: {ideas}.")
    if len(candidates) < count:
        raise QuizUnavailable(
            f"I only have material for {len(candidates)} questions on \"{topic[:80]}\"; ask for fewer questions "
            "or a broader topic."
        )
    chosen, spares = candidates[:count], candidates[count:][:20]
    cards = [item.concept for item in chosen if item.source.startswith("card:")]
    widened = list(dict.fromkeys(concept for concept in cards if concept != found.main))
    meta = QuizMeta(
        quiz_id=uuid.uuid4().hex,
        model=model_label or "no model",
        adapter=adapter,
        seed=seed,
        difficulty=difficulty,
        requested=requested,
        strategy=strategy,
    )
    return QuizPlan(topic=topic, meta=meta, items=chosen, spares=spares, letters=balanced_positions(count, seed),
                    widened_to=widened, broad=found.broad)


def widening_note(plan: QuizPlan) -> str | None:
    """What the quiz intro tells the student when the quiz goes beyond the concept asked for (else None)."""
    if not plan.widened_to:
        return None
    names = plan.widened_to
    others = ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1]
    if plan.broad:
        return f"\"{plan.topic[:80]}\" is a broad topic: this quiz covers {plan.items[0].concept} and also {others}."
    return f"There are not enough questions on \"{plan.topic[:80]}\" alone, so this quiz also covers {others}."


def intro_note(plan: QuizPlan) -> str | None:
    """What the quiz intro tells the student about the plan: a quiz on their notes that is shorter than asked
    (the notes checks keep few sentences: ~2 questions a textbook chapter, evaluation/reports/notes), or a
    quiz that goes beyond the concept asked for (:func:`widening_note`); else None."""
    if len(plan.items) < plan.meta.requested:
        return (f"Your notes give {len(plan.items)} fair question{'s' if len(plan.items) != 1 else ''} on their "
                f"own, so this quiz is shorter than the {plan.meta.requested} you asked for. Definitions "
                "(\"X is a method that ...\") make the most questions; ask for a topic quiz to mix in the cards.")
    return widening_note(plan)
