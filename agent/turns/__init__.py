"""Reading a student's free-text chat turn into a :class:`schemas.turn.TurnRequest`.

    rules.py    pure rules: counts, difficulty, letters, cue words, topic spans (fallback and guard rails)
    cues.py     the word lists and patterns the rules match
    reader.py   the model reader (Outlines, one-line answer of word positions) and how rules and model combine

    reader = build_reader(service)          # model + rule guard rails when service.runtime is set, else rules
    reader("I think it's B", options=["...", "...", "...", "..."]).letter     # 'B'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from schemas.turn import TurnRequest


class TurnReader(Protocol):
    """Free text -> TurnRequest; ``options`` are the waiting question's four option texts (A..D) or None.
    Never raises: a failed model call falls back to the rules."""

    def __call__(self, text: str, options: Sequence[str] | None = None) -> TurnRequest: ...


def build_reader(service, mode: str | None = None) -> TurnReader:
    """The reader for ``service`` in ``mode`` (rules | model | both; ``model``/``both`` need a runtime).

    ``mode=None`` gives model + rules when ``service`` has a model runtime, rules alone otherwise; the app
    passes the ``TUTOR_TURN_READER`` setting (rules by default: bench/results/turns.json).
    """
    from agent.turns.reader import make_reader

    return make_reader(getattr(service, "runtime", None), mode)


__all__ = ["TurnReader", "build_reader"]
