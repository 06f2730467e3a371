"""The distractor screen flags giveaway options and passes well-made ones (pure, milliseconds).

    PYTHONPATH=$PWD python -m pytest tests/unit/test_distractor_checks.py -q
"""

from __future__ import annotations

from knowledge.distractor_checks import _content, card_flags, fact_flags, summarise
from schemas.knowledge import ConceptCard, Fact

ML = _content("gradient learning rate weight momentum batch size")
CARD = _content("Dropout zeroes units at random during training, not at test time or inference; bias, variance, graph")


def _fact(answer: str, distractors: list[str]) -> Fact:
    return Fact(id="dropout.x", statement="Dropout zeroes units at random during training only.", answer=answer,
                questions=["When is dropout applied to the units?"], distractors=distractors)


def _reasons(answer: str, distractors: list[str], card_terms: set[str] | None = None) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for flag in fact_flags(_fact(answer, distractors), card_terms or CARD, ML):
        found.setdefault(flag.option, []).append(flag.reason)
    return found


def test_an_absolute_is_flagged_only_when_the_key_has_none():
    assert _reasons("During training", ["Always at test time", "At inference", "Before training"]) == {
        "Always at test time": ["absolute"]}
    assert _reasons("Only during training", ["Only at test time", "At inference", "Before training"]) == {}


def test_a_length_outlier_is_flagged_when_the_other_options_match_the_key():
    long = "At every layer of the network, including the output layer, during both training and testing"
    assert "length" in _reasons("During training", ["At inference", "Before training", long])[long]
    # When most options are long, a long one does not stand out.
    options = ["At inference time on the held-out test set only", "Before training starts on each new batch",
               "After training finishes on the validation data"]
    assert all("length" not in r for r in _reasons("During training", options).values())


def test_a_number_among_words_is_another_kind():
    assert _reasons("The learning rate", ["0.5", "The momentum", "The batch size"]) == {"0.5": ["kind"]}
    assert _reasons("0.25", ["0.5", "1.0", "2"]) == {}


def test_an_option_from_another_domain_is_unrelated_but_a_name_or_formula_is_not():
    found = _reasons("During the training phase", ["The fee paid to human labellers", "At inference time", "Before training"])
    assert found == {"The fee paid to human labellers": ["unrelated"]}
    assert _reasons("Richard Bellman", ["Alan Turing", "Geoffrey Hinton", "Vladimir Vapnik"]) == {}
    assert _reasons("y = 2x + 1", ["y = 3x + 1", "y = x", "y = 2x"]) == {}


def test_the_same_option_in_other_words_is_a_duplicate_but_a_swap_or_opposite_is_not():
    assert "duplicate" in _reasons("During training", ["At inference", "At the inference", "Before training"])[
        "At the inference"]
    found = _reasons("Bias falls and variance rises", ["Bias rises and variance falls", "Both fall", "Both rise"])
    assert all("duplicate" not in r for r in found.values())
    assert _reasons("Above the graph", ["Below the graph", "On the axis", "Left of the graph"]) == {}


def test_card_flags_and_summary_count_per_reason():
    fact = _fact("During training", ["Always at test time", "Never", "Before training"])
    card = ConceptCard(id="dropout", title="Dropout", area="deep learning", summary="Dropout zeroes random units "
                       "while training, not at test time, so units cannot co-adapt.", keywords=["dropout"],
                       facts=[fact, fact.model_copy(update={"id": "dropout.y", "statement": "Another statement."}),
                              fact.model_copy(update={"id": "dropout.z", "statement": "A third statement."})],
                       misconceptions=[{"claim": "Dropout runs at test.", "correction": "It does not run then."}] * 2)
    flags = card_flags([card])
    summary = summarise(flags, facts=3, distractors=9)
    assert summary["by_reason"] == {"absolute": 6}
    assert summary["flagged_distractors"] == 6 and summary["facts_with_a_flag"] == 3
