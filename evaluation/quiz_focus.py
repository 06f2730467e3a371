"""Does a quiz stay on the concept asked, how deep does it go, and does it repeat other topics' stems? (pure)

    focus = topic_focus(kb, "kernel trick", rows)        # per quiz: concept card, share on it, kind/difficulty mix
    summary = summarise_focus(quizzes)                    # overall, plus stems repeated across topics

``rows`` are :func:`evaluation.quiz_quality.audit_quiz`'s per-question rows (``source``, ``question``,
``kind`` and ``difficulty`` from :func:`fact_labels`). The concept card is the one the planner names for the topic
(:func:`agent.quiz.planning.topic_cards`: the best-matching card, or the card the topic names among
cards matching about equally); for a broad topic (several such cards) every one of them counts.
Item kind and difficulty are the labels of the fact each question was written from
(:class:`schemas.knowledge.Fact`); a fact from notes or without labels counts as "unlabelled".
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

from schemas.text import normalise

UNLABELLED = "unlabelled"


def fact_labels(kb, fact_id: str | None) -> tuple[str, str]:
    """(item kind, difficulty) of the card fact ``fact_id``; :data:`UNLABELLED` where unknown."""
    card = kb.cards.get((fact_id or "").split(".")[0])
    fact = next((f for f in card.facts if f.id == fact_id), None) if card is not None else None
    if fact is None:
        return UNLABELLED, UNLABELLED
    return fact.kind or UNLABELLED, fact.difficulty or UNLABELLED


def topic_focus(kb, topic: str, rows: Sequence[dict]) -> dict:
    """The concept card(s) of ``topic``, how many questions come from them, and the kind/difficulty mix."""
    from agent.quiz.planning import topic_cards

    concept, _ = topic_cards(kb, topic)
    sources = {f"card:{card.id}" for card in concept}
    labels = [(row.get("kind", UNLABELLED), row.get("difficulty", UNLABELLED)) for row in rows]
    return {
        "concept": [card.title for card in concept],
        "on_concept": sum(1 for row in rows if row["source"] in sources),
        "kinds": dict(Counter(kind for kind, _ in labels)),
        "difficulties": dict(Counter(level for _, level in labels)),
    }


def repeated_stems(quizzes: Sequence[tuple[str, Sequence[dict]]]) -> list[dict]:
    """Stems (normalised) that occur in the quizzes of two or more topics, with those topics, most first."""
    topics: dict[str, list[str]] = defaultdict(list)
    text: dict[str, str] = {}
    for topic, rows in quizzes:
        for row in rows:
            stem = normalise(row["question"])
            text.setdefault(stem, row["question"])
            if topic not in topics[stem]:
                topics[stem].append(topic)
    found = [{"stem": text[s], "topics": t} for s, t in topics.items() if len(t) > 1]
    return sorted(found, key=lambda r: (-len(r["topics"]), r["stem"]))


def summarise_focus(quizzes: Sequence[tuple[str, Sequence[dict], dict]]) -> dict:
    """Over all quizzes ``(topic, rows, focus)``: share on the concept, kind/difficulty mix, cross-topic repeats.

    ``re_asked`` counts questions whose stem an earlier topic's quiz already asked (the first
    occurrence is not counted): what a student taking these quizzes in order would meet again.
    """
    questions = sum(len(rows) for _, rows, _ in quizzes)
    kinds: Counter = Counter()
    levels: Counter = Counter()
    for _, _, focus in quizzes:
        kinds.update(focus["kinds"])
        levels.update(focus["difficulties"])
    seen: set[str] = set()
    re_asked = 0
    for _, rows, _ in quizzes:
        stems = {normalise(row["question"]) for row in rows}
        re_asked += len(stems & seen)
        seen |= stems
    return {
        "questions": questions,
        "on_concept": sum(focus["on_concept"] for _, _, focus in quizzes),
        "kinds": dict(kinds.most_common()),
        "difficulties": dict(levels.most_common()),
        "re_asked": re_asked,
        "repeated_stems": repeated_stems([(topic, rows) for topic, rows, _ in quizzes]),
    }
