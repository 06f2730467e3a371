"""Constrained choices: the model picks among numbered candidates; it never writes free text here.

:class:`ModelChooser` asks the model through Outlines, with the answer constrained to the valid
numbers (a ``Literal`` per candidate count, each generator built once per process).
:class:`SeededChooser` makes the same choices deterministically without a model - for fast logic
tests and as the fallback when no model is loaded.
"""

from __future__ import annotations

import random
from typing import Annotated, Literal, Protocol

from functools import lru_cache

from pydantic import Field, create_model

from schemas import MAX_QUESTIONS, QuizPlanPicks

Messages = list[dict[str, str]]


class Chooser(Protocol):
    label: str

    def pick(self, messages: Messages, count: int, seed: int) -> int:
        """0-based index of one of ``count`` numbered candidates."""

    def pick_many(self, messages: Messages, candidates: int, wanted: int, seed: int) -> list[int]:
        """0-based indices (in range, possibly repeated) of up to ``wanted`` of ``candidates``."""


def number_type(count: int):
    """``Literal["1", ..., "count"]``: the only strings the model may answer with."""
    if not 1 <= count <= 9:
        raise ValueError("between 1 and 9 candidates")
    return Literal[tuple(str(i) for i in range(1, count + 1))]  # type: ignore[misc]


@lru_cache(maxsize=MAX_QUESTIONS)
def plan_picks_type(wanted: int) -> type[QuizPlanPicks]:
    """:class:`QuizPlanPicks` with exactly room for ``wanted`` picks (so the model stops there)."""
    return create_model(
        f"QuizPlanPicks{wanted}",
        __base__=QuizPlanPicks,
        picks=(list[Annotated[int, Field(ge=1, le=40)]], Field(min_length=1, max_length=wanted)),
    )


class ModelChooser:
    """Choices made by a language model under an Outlines constraint."""

    def __init__(self, runtime):
        self.runtime = runtime
        self.label = runtime.lm.label

    def pick(self, messages: Messages, count: int, seed: int) -> int:
        if count == 1:
            return 0
        text = self.runtime.generate_text(number_type(count), self.runtime.chat(messages), seed=seed, max_new_tokens=3)
        return int(text) - 1

    def pick_many(self, messages: Messages, candidates: int, wanted: int, seed: int) -> list[int]:
        from llm.structured import StructuredOutputError

        try:
            plan = self.runtime.generate(
                plan_picks_type(wanted), self.runtime.chat(messages), seed=seed, max_new_tokens=16 + 4 * wanted
            )
        except StructuredOutputError:  # cut off: the plan is advisory, code fills it in relevance order
            return []
        return [p - 1 for p in plan.picks if 1 <= p <= candidates][:wanted]


class SeededChooser:
    """Deterministic pseudo-random choices (no model)."""

    label = "seeded (no model)"

    def pick(self, messages: Messages, count: int, seed: int) -> int:
        return random.Random(f"pick:{seed}:{count}").randrange(count)

    def pick_many(self, messages: Messages, candidates: int, wanted: int, seed: int) -> list[int]:
        order = list(range(candidates))
        random.Random(f"many:{seed}").shuffle(order)
        return order[:wanted]
