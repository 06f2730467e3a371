"""Place answers into A-D and build presented questions (pure; seeded, so quizzes are reproducible).

The model never chooses a letter: the correct answer's position comes from
:func:`balanced_positions`, which spreads keys evenly (for 10 questions no letter more than 3
times) and shuffles them with the quiz seed.
"""

from __future__ import annotations

import math
import random

from schemas import LETTERS, MultipleChoiceQuestion


def balanced_positions(count: int, seed: int) -> list[str]:
    """``count`` answer letters, each used at most ``ceil(count / 4)`` times, in seeded order."""
    if count < 0:
        raise ValueError("count must be >= 0")
    rng = random.Random(f"positions:{seed}")
    letters = list(LETTERS)
    rng.shuffle(letters)  # which letters get the extra use when count % 4 != 0
    pool = [letters[i % 4] for i in range(count)]
    rng.shuffle(pool)
    assert all(pool.count(x) <= math.ceil(count / 4) for x in LETTERS)
    return pool


def place_options(correct: str, distractors: list[str], letter: str, seed: int) -> list[str]:
    """Four options with ``correct`` at ``letter`` and the distractors in seeded order around it."""
    if len(distractors) != 3:
        raise ValueError("exactly three distractors are needed")
    rng = random.Random(f"options:{seed}:{correct}")
    others = list(distractors)
    rng.shuffle(others)
    position = LETTERS.index(letter)
    return others[:position] + [correct] + others[position:]


def build_question(
    *,
    stem: str,
    correct: str,
    distractors: list[str],
    letter: str,
    seed: int,
    explanation: str,
    concept: str,
    source: str | None,
    fact_id: str | None = None,
) -> MultipleChoiceQuestion:
    """A validated presented question (raises ``pydantic.ValidationError`` if it is not usable)."""
    return MultipleChoiceQuestion(
        question=stem,
        options=place_options(correct, distractors, letter, seed),
        answer=letter,
        explanation=explanation,
        concept=concept,
        source=source,
        fact_id=fact_id,
    )
