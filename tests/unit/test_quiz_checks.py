"""Question checks at their edges (agent.quiz.checks; pure, microseconds): the stem length bounds, how long an answer
must be before it counts as given away, and the exact reason for each unusable distractor. Written to kill the
mutants `python bench/mutation.py` found alive.

    PYTHONPATH=$PWD .venv/bin/python -m pytest tests/unit/test_quiz_checks.py -q
"""

from __future__ import annotations

import pytest

from agent.quiz.checks import distractor_problems, stem_problems

FACT = "Dropout zeroes random activations during training."


def _stem(length: int) -> str:
    """An on-topic question of exactly ``length`` characters."""
    stem = "Dropout " + "a" * (length - len("Dropout ") - 1) + "?"
    assert len(stem) == length
    return stem


@pytest.mark.parametrize("length, usable", [(14, False), (15, True), (240, True), (241, False)])
def test_a_stem_is_15_to_240_characters(length, usable):
    problems = stem_problems(_stem(length), "random activations", FACT, "Dropout")
    assert problems == ([] if usable else ["length"])


def test_an_answer_of_four_or_more_characters_in_the_stem_gives_it_away():
    assert stem_problems("Does dropout use relu activations?", "ReLU", FACT, "Dropout") == ["gives the answer away"]
    assert stem_problems("Does dropout help SGD converge?", "SGD", FACT, "Dropout") == []  # three: a common word


def test_each_unusable_distractor_is_named_once_with_its_reason():
    stem = "What does dropout zero?"
    assert distractor_problems("activations", ["", "Activations!", "what does dropout zero"], stem) == [
        "empty distractor", "duplicate option", "distractor repeats the question"]
    assert distractor_problems("activations", ["weights", "Weights", "biases"], stem) == ["duplicate option"]
    assert distractor_problems("activations", ["weights", "biases", "inputs"], stem) == []
