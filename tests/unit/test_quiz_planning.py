"""Planning stays on the concept asked for: the best card's facts first, neighbours only when needed.

Issue 13 found 3 of 10 questions on learning-rate warmup, 5 of 10 on batch normalisation and 1 of 10 on
the kernel trick; these tests pin the planner to the concept's card while its facts last, and check that
a plan that widens says so (``QuizPlan.widened_to``, :func:`widening_note`).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_quiz_planning.py -q
"""

from __future__ import annotations

import pytest

from agent.quiz.planning import candidate_items, card_names, names_card, plan_quiz, topic_cards, widening_note
from knowledge.terms import term

NARROW = {"learning-rate warmup": "warmup", "batch normalisation": "batch", "kernel trick": "kernel",
          "dropout": "dropout", "gradient descent": "gradient", "clustering": "clustering"}
BROAD = ["optimisation", "neural networks"]


def _card_of(kb, item):
    return kb.card(item.source.removeprefix("card:"))


def _text(card) -> str:
    return " ".join([card.title, card.summary, *card.keywords, *(f.statement for f in card.facts)]).lower()


@pytest.mark.parametrize("topic, word", NARROW.items())
def test_a_narrow_topic_stays_on_its_card_while_its_facts_last(knowledge_base, topic, word):
    concept, _ = topic_cards(knowledge_base, topic)
    assert len(concept) == 1 and word in _text(concept[0])  # the card is about what was asked
    card = concept[0]
    plan = plan_quiz(knowledge_base, topic, count=len(card.facts), seed=0)
    assert {i.source for i in plan.items} == {f"card:{card.id}"}
    assert plan.widened_to == [] and not plan.broad and widening_note(plan) is None


@pytest.mark.parametrize("topic", list(NARROW))
def test_a_narrow_topic_widens_only_after_its_own_facts_and_says_so(knowledge_base, topic):
    card = topic_cards(knowledge_base, topic)[0][0]
    own = len(card.facts)
    plan = plan_quiz(knowledge_base, topic, count=own + 3, seed=0)
    assert [i.source for i in plan.items[:own]] == [f"card:{card.id}"] * own  # every own fact comes first
    others = [_card_of(knowledge_base, i).title for i in plan.items[own:]]
    assert card.title not in others and set(others) == set(plan.widened_to)
    assert len(plan.widened_to) <= 2  # the nearest neighbours, not one card per question
    note = widening_note(plan)
    assert note and all(title in note for title in plan.widened_to) and not plan.broad


@pytest.mark.parametrize("topic", BROAD)
def test_a_broad_topic_covers_the_cards_it_matches_about_equally(knowledge_base, topic):
    concept, _ = topic_cards(knowledge_base, topic)
    assert len(concept) >= 2 and not any(names_card(topic, c) for c in concept)
    plan = plan_quiz(knowledge_base, topic, count=2 * len(concept), seed=0, difficulty="easy")
    used = {_card_of(knowledge_base, i).id for i in plan.items}
    # The cards take turns over the kinds the difficulty asks for: every card with two recall facts is used.
    with_recall = {c.id for c in concept if sum(f.kind == "recall" for f in c.facts) >= 2}
    assert with_recall <= used <= {c.id for c in concept} and len(used) >= 2
    assert plan.broad and set(plan.widened_to) == {_card_of(knowledge_base, i).title for i in plan.items} - {
        concept[0].title}
    assert "broad topic" in widening_note(plan)


def test_a_topic_that_names_one_of_several_near_cards_is_not_broad(knowledge_base):
    # "clustering" matches hierarchical clustering, DBSCAN and choosing k about as well as the
    # Clustering card itself; naming that card keeps the quiz on it.
    concept, others = topic_cards(knowledge_base, "clustering")
    assert [c.id for c in concept] == ["clustering"] and others
    assert not candidate_items(knowledge_base, "clustering", "medium").broad


def test_batch_normalisation_is_not_padded_with_layer_normalisation_first(knowledge_base):
    # layer normalisation scores 0.88 of batch normalisation: close, but below BROAD_SHARE
    plan = plan_quiz(knowledge_base, "batch normalisation", count=4, seed=0)
    assert {i.source for i in plan.items} == {"card:batch-normalisation"}


def test_hard_quizzes_ask_the_cards_hard_kinds_first(knowledge_base):
    card = topic_cards(knowledge_base, "kernel trick")[0][0]
    hard_kinds = [f for f in card.facts if f.kind in ("application", "computation", "scenario")]
    assert hard_kinds  # the card has hard items to ask
    hard = plan_quiz(knowledge_base, "kernel trick", count=len(hard_kinds), seed=0, difficulty="hard")
    assert {card.facts[i.fact].kind for i in hard.items} <= {"application", "computation", "scenario"}


def test_spares_prefer_the_concepts_own_facts(knowledge_base):
    card = topic_cards(knowledge_base, "kernel trick")[0][0]
    plan = plan_quiz(knowledge_base, "kernel trick", count=2, seed=0)
    assert [s.source for s in plan.spares[: len(card.facts) - 2]] == [f"card:{card.id}"] * (len(card.facts) - 2)


@pytest.mark.parametrize("topic, card_id", [
    ("mean absolute error", "mean-absolute-error"),  # not also "Regression metrics (MAE, MSE, RMSE, MAPE)"
    ("gated recurrent units", "gru"),
    ("GRU", "gru"),
    ("ROC curve and AUC", "roc-auc"),
])
def test_a_title_names_its_card_without_its_parenthesised_part_and_by_its_abbreviation(knowledge_base, topic, card_id):
    # Round 3 of the blind review: "Mean absolute error (MAE)" was not named by "mean absolute error", so the
    # quiz alternated with the regression-metrics card and 3 of 10 questions were on RMSE and MASE.
    concept, _ = topic_cards(knowledge_base, topic)
    assert [c.id for c in concept] == [card_id]


def test_card_names_are_the_bare_title_and_its_abbreviations(knowledge_base):
    assert card_names(knowledge_base.card("gru")) == [{term("gated"), term("recurrent"), term("unit")}, {term("gru")}]
    assert card_names(knowledge_base.card("regression-metrics"))[0] == {term("regression"), term("metrics")}
    assert len(card_names(knowledge_base.card("l2-regularisation"))) == 1  # "ridge, weight decay" are no abbreviations
