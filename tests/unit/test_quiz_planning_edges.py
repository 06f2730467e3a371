"""Planning at its edges on synthetic cards (pure, no model): which cards a topic is planned from (how many are
searched, what counts as "about equally", a named card, notes never taking a card's place), the wording of the
widening note, difficulty labels and unknown difficulties in the fact order. Written to kill the mutants
`python bench/mutation.py` found alive.

    PYTHONPATH=$PWD .venv/bin/python -m pytest tests/unit/test_quiz_planning_edges.py -q
"""

from __future__ import annotations

import pytest

from agent.quiz.ordering import fact_key, kind_tier, order_group
from agent.quiz.planning import TOPIC_CARDS, candidate_items, topic_cards, widening_note
from knowledge.base import KnowledgeBase
from schemas import PlanItem, QuizMeta, QuizPlan
from schemas.knowledge import ConceptCard, NoteChunk

GREEK = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
OTHER = ["maple", "cedar", "birch", "aspen", "larch", "rowan", "hazel", "alder", "holly", "yew", "elm", "ash"]


def _card(card_id: str, title: str, statements: list[str]) -> ConceptCard:
    facts = [{"id": f"{card_id}.f{i}", "kind": "recall", "difficulty": "easy", "statement": text,
              "answer": f"answer {i}", "questions": [f"Which answer goes with {title} fact {i}?"],
              "distractors": [f"wrong {i}a", f"wrong {i}b", f"wrong {i}c"]} for i, text in enumerate(statements)]
    return ConceptCard.model_validate({
        "id": card_id, "title": title, "area": "test area", "keywords": [title],
        "summary": f"A synthetic card about {title}, written for the planning tests of this project.",
        "facts": facts, "related": [],
        "misconceptions": [{"claim": f"{title} is never useful at all.", "correction": f"{title} is often useful."},
                           {"claim": f"{title} always fails in practice.", "correction": f"{title} often works."}],
    })


def _plain(card_id: str, title: str) -> ConceptCard:
    return _card(card_id, title, [f"The {title} method has property number {i}." for i in range(5)])


def _filler() -> list[ConceptCard]:
    """Cards on other words, so that the words the tests search for are rare (as in the real card set)."""
    return [_plain(f"{tree}-tree", f"{tree} tree") for tree in OTHER]


@pytest.fixture(scope="module")
def family() -> KnowledgeBase:
    """Eight cards that match "zorbl" equally, plus notes that match it too."""
    cards = [_plain(f"zorbl-{g}", f"zorbl {g}") for g in GREEK]
    notes = [NoteChunk(note_id=f"n{i}", path=f"/notes/{i}.md", chunk=0, text=f"Zorbl zorbl {i}: zorbl zorbl zorbl.")
             for i in range(4)]  # they match "zorbl" better than any card
    return KnowledgeBase(cards + _filler(), notes)


def test_a_broad_topic_is_planned_over_the_best_six_cards_and_notes_take_no_card_slot(family):
    concept, others = topic_cards(family, "zorbl")
    assert len(concept) + len(others) == TOPIC_CARDS == 6 and len(concept) > 1  # broad: the cards tie
    assert not set(c.id for c in concept) & set(c.id for c in others)


def test_a_named_card_is_the_whole_concept_and_the_others_are_the_rest(family):
    concept, others = topic_cards(family, "zorbl alpha")  # names one of the near cards: that card alone
    assert [c.id for c in concept] == ["zorbl-alpha"] and others and concept[0] not in others
    concept, others = topic_cards(family, "zorbl alpha and zorbl beta")  # names two: both ("RLHF and DPO")
    assert {c.id for c in concept} == {"zorbl-alpha", "zorbl-beta"} and not {c.id for c in concept} & {c.id for c in others}


def test_a_card_that_matches_much_better_is_the_concept_alone():
    kb = KnowledgeBase([
        _card("quux-norm", "quux norm", [f"Frobnication {i} frobnicates the frobnicated inputs." for i in range(3)]
              + ["The quux norm rescales layer outputs.", "The quux norm keeps a running mean."]),
        _card("blip-scaling", "blip scaling", ["Blip scaling frobnicates once."]
              + [f"Blip scaling has property number {i}." for i in range(4)]),
        *_filler(),
    ])
    concept, others = topic_cards(kb, "frobnicate")
    assert [c.id for c in concept] == ["quux-norm"] and [c.id for c in others] == ["blip-scaling"]


def _plan(widened: list[str], broad: bool, topic: str = "zorbl") -> QuizPlan:
    item = PlanItem(source="card:zorbl-alpha", fact=0, concept="zorbl alpha")
    return QuizPlan(topic=topic, meta=QuizMeta(quiz_id="q", model="no model", seed=0), items=[item], letters=["A"],
                    widened_to=widened, broad=broad)


@pytest.mark.parametrize("widened, others", [
    (["beta"], "beta"), (["beta", "gamma"], "beta and gamma"), (["beta", "gamma", "delta"], "beta, gamma and delta"),
])
def test_the_widening_note_lists_the_other_concepts_in_plain_english(widened, others):
    assert widening_note(_plan(widened, broad=False)) == (
        f"There are not enough questions on \"zorbl\" alone, so this quiz also covers {others}.")
    assert widening_note(_plan(widened, broad=True)) == (
        f"\"zorbl\" is a broad topic: this quiz covers zorbl alpha and also {others}.")
    assert widening_note(_plan([], broad=True)) is None
    long = "zorbl " * 30
    assert f"\"{long[:80]}\" alone" in widening_note(_plan(["beta"], broad=False, topic=long))
    assert widening_note(_plan(["beta"], broad=True, topic=long)).startswith(f"\"{long[:80]}\" is a broad topic")


def test_an_unknown_difficulty_asks_what_medium_asks():
    for kind in ("recall", "understanding", "application", "computation", "scenario", None):
        assert kind_tier(kind, "impossible") == kind_tier(kind, "medium")
    assert kind_tier("understanding", "impossible") == 0 and kind_tier("scenario", "impossible") == 2


def test_within_a_card_the_requested_label_comes_first_and_kinds_alternate_in_threes():
    keys = [fact_key("recall", label, "hard", None) for label in ("easy", "medium", "hard")]
    assert [k[3] for k in keys] == [2, 1, 0]
    group = [(fact_key(kind, "medium", "medium", None), kind, name) for kind, name in [
        ("recall", "r1"), ("recall", "r2"), ("recall", "r3"), ("application", "a1"), ("application", "a2")]]
    assert [item for _, item in order_group(group)] == ["r1", "a1", "r2", "a2", "r3"]



def test_a_card_orders_its_facts_by_label_and_a_widened_quiz_keeps_the_difficulty():
    levels = ["easy", "medium", "hard", "easy", "medium", "hard"]
    own = _card("zorbl-scaling", "zorbl scaling", [f"Zorbl scaling has property number {i}." for i in range(6)])
    own = own.model_copy(update={"facts": [f.model_copy(update={"kind": "application", "difficulty": level})
                                           for f, level in zip(own.facts, levels)], "related": ["quux-norm"]})
    near = _card("quux-norm", "quux norm", [f"The quux norm has property number {i}." for i in range(6)])
    near = near.model_copy(update={"facts": [f.model_copy(update={"kind": kind}) for f, kind in zip(
        near.facts, ["recall", "recall", "recall", "computation", "computation", "scenario"])]})
    kb = KnowledgeBase([own, near, *_filler()])
    found = candidate_items(kb, "zorbl scaling", "hard")
    assert [kb.card("zorbl-scaling").facts[i.fact].difficulty for i in found.concept] == ["hard"] * 2 + [
        "medium"] * 2 + ["easy"] * 2
    assert [kb.card("quux-norm").facts[i.fact].kind for i in found.neighbours][:3] == [
        "computation", "scenario", "computation"]  # the hard kinds first, for the neighbour too
    assert not found.broad and found.main == "zorbl scaling"


def test_two_cards_that_match_equally_make_a_broad_topic(family):
    kb = KnowledgeBase([_plain("blip-one", "blip one"), _plain("blip-two", "blip two"), *_filler()])
    found = candidate_items(kb, "blip", "medium")
    assert found.broad and {i.source for i in found.concept} == {"card:blip-one", "card:blip-two"}
