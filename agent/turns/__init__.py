"""Reading a student's free-text chat turn into a :class:`schemas.turn.TurnRequest`.

    rules.py    pure rules: counts, difficulty, letters, cue words, topic spans (fallback and guard rails)
    cues.py     the word lists and patterns the rules match
    reader.py   the model reader (a topic copied from the message under a per-message grammar) and how rules
                and model combine

    reader = build_reader(service)          # both (DEFAULT_MODE): model + rules; build_reader(service, "rules")
    reader("I think it's B", options=["...", "...", "...", "..."]).letter     # 'B'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from schemas.turn import TurnRequest


# The model with the rules as guard rails: on messages written blind to both readers (bench/results/turns_blind.json)
# it reads intent, topic and letter far better than the rules alone; on the frozen set written by the rules' author
# (bench/results/turns.json) the rules alone score a few points higher. Without a model the rules read alone.
DEFAULT_MODE = "both"


class TurnReader(Protocol):
    """Free text -> TurnRequest; ``options`` are the waiting question's four option texts (A..D) or None.
    Never raises: a failed model call falls back to the rules."""

    def __call__(self, text: str, options: Sequence[str] | None = None) -> TurnRequest: ...


def build_reader(service, mode: str | None = None) -> TurnReader:
    """The reader for ``service`` in ``mode`` (rules | model | both; ``model``/``both`` need a runtime).

    ``mode=None`` is :data:`DEFAULT_MODE`; the app passes the ``TUTOR_TURN_READER`` setting. A service without a
    model (no runtime) reads with the rules whatever the mode.
    """
    from agent.turns.reader import make_reader

    runtime = getattr(service, "runtime", None)
    return make_reader(runtime, (mode or DEFAULT_MODE) if runtime is not None else "rules")


__all__ = ["DEFAULT_MODE", "TurnReader", "build_reader"]
