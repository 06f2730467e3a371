"""Which fact a question tests, and the plan item that asks it again (no model; reads the knowledge base).

Facts are named by ``MultipleChoiceQuestion.fact_id`` (interface C: ``schemas.knowledge.Fact.id``).
A question without one (written before fact ids existed, or on a branch without them) gets a
*provisional* id from its source and the fact statement it quotes as explanation:
``<card-id>.stmt-<hash>`` - stable while the statement is unchanged. Once every question carries
``fact_id`` the provisional path is only a fallback for old stored quizzes.
"""

from __future__ import annotations

import hashlib

from knowledge.base import KnowledgeBase
from knowledge.chunking import split_sentences
from knowledge.cloze import note_fact
from schemas import MultipleChoiceQuestion, PlanItem
from schemas.study import FactRef

NOTES_AREA = "your notes"
OTHER_AREA = "other"


def provisional_fact_id(source: str | None, statement: str) -> str:
    """A stand-in id for a fact without ``Fact.id``: card (or note) plus a hash of its statement."""
    digest = hashlib.sha256(statement.strip().encode("utf-8")).hexdigest()[:10]
    owner = (source or "unsourced").removeprefix("card:")
    if owner.startswith("note:"):
        owner = "note-" + hashlib.sha256(owner.encode("utf-8")).hexdigest()[:10]
    return f"{owner}.stmt-{digest}"


def fact_id_of(question: MultipleChoiceQuestion) -> str:
    """The question's stable fact id, else its provisional one (see module docstring)."""
    return getattr(question, "fact_id", None) or provisional_fact_id(question.source, question.explanation)


def fact_ref(kb: KnowledgeBase, question: MultipleChoiceQuestion) -> FactRef:
    """The fact ``question`` tests, with its concept (card) and syllabus area."""
    card = _card_of(kb, question)
    if card is not None:
        return FactRef(fact_id=fact_id_of(question), card_id=card.id, concept=card.title, area=card.area,
                       source=question.source)
    area = NOTES_AREA if (question.source or "").startswith("note:") else OTHER_AREA
    return FactRef(fact_id=fact_id_of(question), concept=question.concept, area=area, source=question.source)


def _card_of(kb: KnowledgeBase, question: MultipleChoiceQuestion):
    source = question.source or ""
    if source.startswith("card:") and source[5:] in kb.cards:
        return kb.cards[source[5:]]
    # A question from notes names the card its answer belongs to by title.
    return next((c for c in kb.cards.values() if c.title == question.concept), None)


def locate(kb: KnowledgeBase, ref: FactRef, statement: str) -> PlanItem | None:
    """A plan item asking fact ``ref`` again, or None if the knowledge base no longer holds it.

    A card fact is found by its id (or, for a provisional id, by its statement); a note fact by the
    sentence of its chunk whose cloze quotes the same statement.
    """
    source = ref.source or ""
    if source.startswith("card:") and source[5:] in kb.cards:
        for index, fact in enumerate(kb.cards[source[5:]].facts):
            if getattr(fact, "id", None) == ref.fact_id or provisional_fact_id(source, fact.statement) == ref.fact_id:
                return plan_item(source, index, ref.concept, ref.fact_id)
        return None
    if source in kb.chunks:
        for index in range(len(split_sentences(kb.chunks[source].text))):
            try:
                _, fact = note_fact(kb, source, index)
            except KeyError:
                continue
            if getattr(fact, "id", None) == ref.fact_id or fact.statement == statement:
                return plan_item(source, index, ref.concept, ref.fact_id)
    return None


def plan_item(source: str, index: int, concept: str, fact_id: str) -> PlanItem:
    """A :class:`PlanItem`, carrying ``fact_id`` where the schema has the field (interface C)."""
    fields = {"source": source, "fact": index, "concept": concept[:120]}
    if "fact_id" in PlanItem.model_fields:
        fields["fact_id"] = fact_id
    return PlanItem(**fields)
