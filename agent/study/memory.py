"""Memory of one fact with FSRS (the maintained ``fsrs`` package): ratings in, schedule and recall out (pure).

A graded answer rates the fact: wrong -> Again, right -> Good, right on a retry of a missed question
-> Hard. The scheduler runs without learning steps: a quiz is not a flash-card drill repeated within
minutes, so every answer schedules the fact at least a day ahead (FSRS-6 defaults: Again and Hard ->
due in 1 day, Good on a new fact -> 2 days; asserted in tests/unit/test_study_memory.py).
Fuzzing is off so schedules are reproducible.
"""

from __future__ import annotations

import json
from datetime import datetime

from fsrs import Card, Rating, Scheduler

SCHEDULER = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
RATINGS = {"again": Rating.Again, "hard": Rating.Hard, "good": Rating.Good}


def rating_for(is_correct: bool, retry: bool = False) -> str:
    """The FSRS rating name of an answer: "again", "hard" or "good"."""
    if not is_correct:
        return "again"
    return "hard" if retry else "good"


def new_card(when: datetime) -> Card:
    # card_id given: fsrs derives a default from the clock and sleeps 1 ms to keep it unique.
    return Card(card_id=1, due=when)


def reviewed(card: Card | None, rating: str, when: datetime) -> Card:
    """``card`` (None: a fact never seen) after an answer rated ``rating`` at ``when`` (UTC)."""
    card = card if card is not None else new_card(when)
    after, _ = SCHEDULER.review_card(card, RATINGS[rating], review_datetime=when)
    return after


DECAY = -SCHEDULER.parameters[20]
FACTOR = 0.9 ** (1 / DECAY) - 1


def recall(card: Card, now: datetime) -> float:
    """Predicted probability (0-1) that the student recalls the fact at ``now``.

    FSRS's forgetting curve with the time elapsed in fractional days: the package's own
    ``get_card_retrievability`` counts whole days, so a fact missed this morning would still show
    100% tonight.
    """
    if card.last_review is None or not card.stability:
        return 0.0
    elapsed = max(0.0, (now - card.last_review).total_seconds() / 86400)
    return float((1 + FACTOR * elapsed / card.stability) ** DECAY)


def dumps(card: Card) -> str:
    return json.dumps(card.to_dict())


def loads(text: str) -> Card:
    return Card.from_dict(json.loads(text))
