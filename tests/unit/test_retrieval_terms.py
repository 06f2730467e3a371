"""Index terms: spelling folding, light stemming and typo correction (pure, milliseconds).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_retrieval_terms.py -q
"""

from __future__ import annotations

import pytest

from knowledge.terms import TypoCorrector, damerau, term


@pytest.mark.parametrize(
    "forms",
    [
        ("regularisation", "regularization", "regularised", "regularize", "regularizer"),
        ("normalisation", "normalization", "normalise", "normalized"),
        ("optimiser", "optimizer", "optimisers", "optimization"),
        ("scale", "scaling", "scaled", "scales"),
        ("neighbours", "neighbors", "neighbour"),
        ("modelling", "modeling", "modelled"),
        ("features", "feature"),
        ("probabilities", "probability"),
    ],
)
def test_word_forms_share_one_term(forms):
    assert len({term(f) for f in forms}) == 1, {f: term(f) for f in forms}


@pytest.mark.parametrize(
    "left, right",
    [("means", "mean"), ("bias", "bia"), ("loss", "los"), ("recall", "precision"), ("token", "tokenization")],
)
def test_different_words_stay_apart(left, right):
    assert term(left) != term(right)


def test_short_and_non_alphabetic_words_are_untouched():
    assert [term(w) for w in ["svm", "l2", "k", "3d", "gpt2"]] == ["svm", "l2", "k", "3d", "gpt2"]


def test_damerau_counts_transpositions_as_one_edit():
    assert damerau("nueral", "neural", 2) == 1
    assert damerau("precison", "precision", 2) == 1
    assert damerau("desicion", "decision", 2) == 2
    assert damerau("abc", "xyz", 1) == 2  # capped at limit + 1


def test_typo_corrector_prefers_close_and_frequent_words():
    corrector = TypoCorrector(["precision"] * 3 + ["decision"] * 5 + ["overfitting", "bread"])
    assert corrector.correct("precison") == "precision"
    assert corrector.correct("desicion") == "decision"
    assert corrector.correct("overfiting") == "overfitting"
    assert corrector.correct("precision") == "precision"  # known words pass through
    assert corrector.correct("braed") is None  # five letters: too short to guess
    assert corrector.correct("qwertyuiop") is None
