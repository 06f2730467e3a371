"""Difficulty selects item kinds and freshness avoids asked facts (agent.quiz.ordering, planning; pure, no model).

A synthetic card whose facts are in an order that neither the card order nor its reverse serves:
a planner that only reorders by difficulty fails these tests.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_quiz_ordering.py -q
"""

from __future__ import annotations

import pytest

from agent.quiz.ordering import fact_key, kind_tier, merge, order_group
from agent.quiz.planning import plan_quiz
from knowledge.base import KnowledgeBase
from schemas.knowledge import ConceptCard

# (kind, difficulty label) in card order: the hard kinds sit at both ends and in the middle.
KINDS = [
    ("computation", "hard"), ("recall", "easy"), ("recall", "easy"), ("scenario", "hard"),
    ("understanding", "medium"), ("recall", "easy"), ("application", "hard"), ("understanding", "medium"),
    ("recall", "medium"), ("recall", "easy"), ("computation", "medium"), ("understanding", "hard"),
]
HARD_KINDS = {"application", "computation", "scenario"}


def _card(card_id: str, title: str, kinds: list[tuple[str, str]], related: list[str] = ()) -> ConceptCard:
    facts = [{
        "id": f"{card_id}.f{i}", "kind": kind, "difficulty": level,
        "statement": f"The {title} fact number {i} is a {kind} statement.",
        "answer": f"answer {i}", "questions": [f"Which answer goes with {title} fact {i}?"],
        "distractors": [f"wrong {i}a", f"wrong {i}b", f"wrong {i}c"],
    } for i, (kind, level) in enumerate(kinds)]
    return ConceptCard.model_validate({
        "id": card_id, "title": title, "area": "test area", "keywords": [title],
        "summary": f"A synthetic card about {title}, written for the planning tests of this project.",
        "facts": facts, "related": list(related),
        "misconceptions": [{"claim": f"{title} is never useful at all.", "correction": f"{title} is often useful."},
                           {"claim": f"{title} always fails in practice.", "correction": f"{title} often works."}],
    })


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase([
        _card("zorbl-scaling", "zorbl scaling", KINDS, related=["quux-norm"]),
        _card("quux-norm", "quux norm", [("recall", "easy")] * 6 + [("computation", "hard")] * 4),
    ])


def _kinds(kb, plan) -> list[str]:
    return [kb.card(i.source.removeprefix("card:")).facts[i.fact].kind for i in plan.items]


def _plan(kb, difficulty, count, asked=None):
    return plan_quiz(kb, "zorbl scaling", count=count, seed=0, difficulty=difficulty, asked=asked)


def test_easy_asks_recall_then_understanding(kb):
    assert set(_kinds(kb, _plan(kb, "easy", 5))) == {"recall"}
    assert _kinds(kb, _plan(kb, "easy", 8))[5:] == ["understanding"] * 3  # recall runs out after 5


def test_medium_asks_understanding_then_recall_and_application(kb):
    kinds = _kinds(kb, _plan(kb, "medium", 7))
    assert kinds[:3] == ["understanding"] * 3 and set(kinds[3:]) <= {"recall", "application"}
    assert "application" in kinds[3:]  # the fallback kinds alternate


def test_hard_asks_application_computation_and_scenario_mixed(kb):
    kinds = _kinds(kb, _plan(kb, "hard", 4))
    assert set(kinds) == HARD_KINDS  # all three kinds, not the card's first or last four facts
    assert _kinds(kb, _plan(kb, "hard", 7))[4:] == ["understanding"] * 3


def test_difficulty_changes_which_facts_not_only_their_order(kb):
    easy, hard = ({i.fact for i in _plan(kb, d, 4).items} for d in ("easy", "hard"))
    assert easy.isdisjoint(hard)


def test_other_kinds_fill_in_before_any_neighbouring_card(kb):
    plan = _plan(kb, "hard", len(KINDS))  # every own fact, though only 4 are of the hard kinds
    assert {i.source for i in plan.items} == {"card:zorbl-scaling"} and plan.widened_to == []
    assert _kinds(kb, plan)[-5:] == ["recall"] * 5  # easy-kind facts last, after understanding
    wider = _plan(kb, "hard", len(KINDS) + 2)
    assert [i.source for i in wider.items[len(KINDS):]] == ["card:quux-norm"] * 2
    assert wider.widened_to == ["quux norm"]


def test_a_repeat_quiz_avoids_asked_facts_until_the_pool_runs_out(kb):
    first = _plan(kb, "medium", 5)
    asked = {i.fact_id: 100.0 + n for n, i in enumerate(first.items)}
    second = _plan(kb, "medium", 5, asked)
    assert {i.fact_id for i in second.items}.isdisjoint(asked)
    asked |= {i.fact_id: 200.0 + n for n, i in enumerate(second.items)}
    third = _plan(kb, "medium", 5, asked)  # 2 fresh facts left: then the least recently asked
    fresh = [i.fact_id for i in third.items if i.fact_id not in asked]
    assert len(fresh) == 2 and [i.fact_id for i in third.items[2:]] == [i.fact_id for i in first.items[:3]]
    assert {i.source for i in third.items} == {"card:zorbl-scaling"}  # re-asking the concept beats widening


def test_kind_tiers_and_keys():
    assert [kind_tier("recall", "easy"), kind_tier("understanding", "easy"), kind_tier("scenario", "easy")] == [0, 1, 2]
    assert kind_tier("scenario", "hard") == kind_tier("computation", "hard") == 0
    assert kind_tier("recall", "hard") == 2 and kind_tier(None, "medium") == 2
    assert kind_tier("note", "hard") == 0  # the student's own notes at any difficulty
    assert fact_key("recall", "easy", "easy", None) < fact_key("understanding", "easy", "easy", None)
    assert fact_key("scenario", "hard", "easy", None) < fact_key("recall", "easy", "easy", 5.0)  # fresh first
    assert fact_key("recall", "easy", "easy", 1.0) < fact_key("recall", "easy", "easy", 2.0)  # oldest ask first


def test_merge_round_robins_equal_keys_and_order_group_alternates_kinds():
    key = fact_key("computation", "hard", "hard", None)
    group = order_group([(key, "computation", "c1"), (key, "computation", "c2"), (key, "scenario", "s1")])
    assert [item for _, item in group] == ["c1", "s1", "c2"]
    other = [(key, "x1"), (fact_key("understanding", "medium", "hard", None), "u1")]
    assert merge([group, other]) == ["c1", "x1", "s1", "c2", "u1"]


def test_a_fact_that_cannot_be_written_is_replaced_by_any_untaken_spare(kb, monkeypatch):
    from agent.quiz.service import TutorService

    service = TutorService(kb, lm=None)
    plan = _plan(kb, "hard", 2)  # 2 items, 10 spares: question 0's own spares are spares 0, 2, 4, ...
    own = {plan.items[0].fact_id} | {s.fact_id for s in plan.spares[0::2]}
    write = service.writer.write

    def write_or_fail(item, *args, **kwargs):
        return None if item.fact_id in own else write(item, *args, **kwargs)

    monkeypatch.setattr(service.writer, "write", write_or_fail)
    first = service.write_question(plan, 1, []).question  # question 1 first, so its fact is taken
    second = service.write_question(plan, 0, [first]).question
    assert second.fact_id not in own and second.fact_id != first.fact_id
    assert second.fact_id in {s.fact_id for s in plan.spares[1::2]}
