"""Reading a student's free-text chat turn into a :class:`schemas.turn.TurnRequest`.

    rules.py    pure rules: counts, difficulty, letters, cue words, topic spans (fallback and guard rails)
    cues.py     the word lists and patterns the rules match
    reader.py   the model reader (Outlines, one-line answer of word positions) and how rules and model combine

    reader = build_reader(service)          # rules (DEFAULT_MODE); build_reader(service, "both"): model + rules
    reader("I think it's B", options=["...", "...", "...", "..."]).letter     # 'B'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from schemas.turn import TurnRequest


# The rules read the frozen held-out turn test set better than the fine-tuned model, alone or guarded by the
# rules (bench/results/turns.json); the model reader stays one setting away (TUTOR_TURN_READER=both).
DEFAULT_MODE = "rules"


class TurnReader(Protocol):
    """Free text -> TurnRequest; ``options`` are the waiting question's four option texts (A..D) or None.
    Never raises: a failed model call falls back to the rules."""

    def __call__(self, text: str, options: Sequence[str] | None = None) -> TurnRequest: ...


def build_reader(service, mode: str | None = None) -> TurnReader:
    """The reader for ``service`` in ``mode`` (rules | model | both; ``model``/``both`` need a runtime).

    ``mode=None`` is :data:`DEFAULT_MODE`; the app passes the ``TUTOR_TURN_READER`` setting.
    """
    from agent.turns.reader import make_reader

    return make_reader(getattr(service, "runtime", None), mode or DEFAULT_MODE)


__all__ = ["DEFAULT_MODE", "TurnReader", "build_reader"]
