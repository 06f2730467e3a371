"""A student's progress: mastery per area and concept, due counts, answers per day (pure, no I/O).

A concept is a card; its mastery is the mean FSRS recall probability of the facts the student has
answered (now), with the facts never asked counted separately as ``unseen``. An area's mastery is
the mean over all its seen facts (not over concepts), so a concept with one fact does not weigh as
much as one with ten.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from statistics import fmean

from agent.study import memory
from agent.study.store import FactMemory
from schemas.knowledge import ConceptCard
from schemas.study import AnswerRecord, AreaProgress, ConceptProgress, DayCount, Progress


def build_progress(
    user: str, now: datetime, facts: Iterable[FactMemory], answers: Iterable[AnswerRecord],
    cards: Mapping[str, ConceptCard],
) -> Progress:
    """The numbers of ``tutor progress`` and of the progress picture."""
    facts, answers = list(facts), list(answers)
    by_concept: dict[tuple[str, str | None, str], list[FactMemory]] = defaultdict(list)
    for fact in facts:
        by_concept[(fact.ref.area, fact.ref.card_id, fact.ref.concept)].append(fact)
    areas: dict[str, list[ConceptProgress]] = defaultdict(list)
    for (area, card_id, concept), group in sorted(by_concept.items(), key=lambda kv: (kv[0][0], kv[0][2])):
        areas[area].append(_concept(card_id, concept, group, now, cards))
    recalls = [memory.recall(f.card, now) for f in facts]
    return Progress(
        user=user,
        now=now,
        answers=len(answers),
        seen=len(facts),
        due=sum(1 for f in facts if f.due <= now),
        mastery=fmean(recalls) if recalls else None,
        areas=[_area(name, concepts, facts, now, cards) for name, concepts in sorted(areas.items())],
        days=_days(answers),
    )


def _concept(card_id, concept, group: list[FactMemory], now: datetime, cards) -> ConceptProgress:
    card = cards.get(card_id) if card_id else None
    seen_ids = {f.ref.fact_id for f in group}
    return ConceptProgress(
        card_id=card_id,
        concept=concept,
        mastery=fmean(memory.recall(f.card, now) for f in group),
        seen=len(group),
        unseen=max(0, len(card.facts) - len(seen_ids)) if card is not None else 0,
        due=sum(1 for f in group if f.due <= now),
        next_due=min(f.due for f in group),
    )


def _area(name: str, concepts: list[ConceptProgress], facts: list[FactMemory], now: datetime, cards) -> AreaProgress:
    in_area = [f for f in facts if f.ref.area == name]
    touched = {c.card_id for c in concepts}
    untouched = sum(len(c.facts) for c in cards.values() if c.area == name and c.id not in touched)
    return AreaProgress(
        area=name,
        mastery=fmean(memory.recall(f.card, now) for f in in_area) if in_area else None,
        seen=len(in_area),
        unseen=sum(c.unseen for c in concepts) + untouched,
        due=sum(c.due for c in concepts),
        concepts=concepts,
    )


def _days(answers: Iterable[AnswerRecord]) -> list[DayCount]:
    counts: dict = defaultdict(lambda: [0, 0])
    for a in answers:
        day = counts[a.answered_at.date()]
        day[0] += 1
        day[1] += int(a.graded.is_correct)
    return [DayCount(day=d, answers=n, correct=c) for d, (n, c) in sorted(counts.items())]


def weakest(progress: Progress, k: int = 3) -> list[ConceptProgress]:
    """The ``k`` concepts with the lowest mastery (ties: the one due soonest first)."""
    concepts = [c for area in progress.areas for c in area.concepts if c.mastery is not None]
    return sorted(concepts, key=lambda c: (c.mastery, c.next_due or progress.now))[:k]


def progress_text(progress: Progress) -> str:
    """The plain-text report of ``tutor progress --format text``."""
    if not progress.seen:
        return f"No answers recorded for {progress.user} yet: take a quiz (tutor quiz --topic T --interactive)."
    lines = [
        f"Progress of {progress.user} at {progress.now:%Y-%m-%d %H:%M} UTC: {progress.answers} answers, "
        f"{progress.seen} facts seen, mastery {_percent(progress.mastery)}, {progress.due} due now",
    ]
    for area in progress.areas:
        lines.append(f"\n{area.area}: mastery {_percent(area.mastery)}, {area.seen} seen, {area.unseen} unseen, "
                     f"{area.due} due")
        for c in area.concepts:
            lines.append(f"  {c.concept}: mastery {_percent(c.mastery)}, {c.seen} seen, {c.unseen} unseen, "
                         f"{c.due} due, next due {_when(c.next_due, progress.now)}")
    lines.append("\nAnswers per day: " + ", ".join(f"{d.day}: {d.correct}/{d.answers}" for d in progress.days))
    return "\n".join(lines)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _when(due: datetime | None, now: datetime) -> str:
    if due is None:
        return "-"
    return "now" if due <= now else f"{due:%Y-%m-%d %H:%M}"
