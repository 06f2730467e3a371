"""Quiz records kept in graph state: start, retry, finish (pure; dicts in, dicts/Pydantic out).

The graph stores a quiz as a dict of ``model_dump()`` payloads (see :mod:`agent.graph.state`);
these helpers build and read those dicts so the nodes stay short and this logic is unit-tested
without a graph.
"""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

from agent.quiz.assemble import balanced_positions, place_options
from schemas import LETTERS, GradedAnswer, MultipleChoiceQuestion, Quiz, QuizMeta, QuizPlan


def start_quiz(plan: QuizPlan, origin: str | None = None) -> dict[str, Any]:
    """A fresh quiz record for ``plan``: no questions written, no answers."""
    return {
        "quiz_id": plan.meta.quiz_id,
        "topic": plan.topic,
        "total": len(plan.items),
        "plan": plan.model_dump(),
        "meta": plan.meta.model_dump(),
        "questions": [],
        "provenance": [],  # per question: {"strategy", "verified_by", "attempts"}
        "answers": [],
        "retry": False,
        "origin": origin,
        "started": time.time(),
    }


def missed_questions(last: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The questions answered wrongly in the last finished quiz (question dumps, in quiz order)."""
    if not last:
        return []
    questions = last["quiz"]["questions"]
    return [questions[g["index"]] for g in last["result"]["graded"] if not g["is_correct"]]


def reshuffle(question: dict[str, Any], letter: str, seed: int) -> dict[str, Any]:
    """The same question with its correct option moved to ``letter`` (so a retry is not a letter drill)."""
    q = MultipleChoiceQuestion.model_validate(question)
    key = LETTERS.index(q.answer)
    others = [o for i, o in enumerate(q.options) if i != key]
    options = place_options(q.correct_option, others, letter, seed)
    return q.model_copy(update={"options": options, "answer": letter}).model_dump()


def retry_quiz(last: dict[str, Any], seed: int, origin: str | None = None) -> dict[str, Any] | None:
    """A new quiz of the missed questions of ``last`` (new id, reshuffled options), or None if none were missed."""
    missed = missed_questions(last)
    if not missed:
        return None
    letters = balanced_positions(len(missed), seed)
    questions = [reshuffle(q, letter, seed * 100 + i) for i, (q, letter) in enumerate(zip(missed, letters))]
    old = QuizMeta.model_validate(last["quiz"]["meta"])
    meta = old.model_copy(
        update={"quiz_id": uuid.uuid4().hex, "seed": seed, "requested": len(questions), "seconds": 0.0}
    )
    topic = last["quiz"]["topic"]
    return {
        "quiz_id": meta.quiz_id,
        "topic": topic,
        "total": len(questions),
        "plan": None,
        "meta": meta.model_dump(),
        "questions": questions,
        "provenance": [{"strategy": meta.strategy, "verified_by": "retry", "attempts": 0}] * len(questions),
        "answers": [],
        "retry": True,
        "origin": origin,
        "started": time.time(),
    }


def finished_quiz(quiz: dict[str, Any]) -> Quiz:
    """The validated :class:`Quiz` of a quiz record (as written; the total may have been shortened)."""
    meta = QuizMeta.model_validate(quiz["meta"])
    questions = quiz["questions"][: quiz["total"]]
    provenance = quiz.get("provenance") or []
    strategies = {p["strategy"] for p in provenance if p.get("strategy") in ("template", "free")}
    meta = meta.model_copy(
        update={
            "strategy": strategies.pop() if len(strategies) == 1 else ("mixed" if strategies else meta.strategy),
            "seconds": round(max(0.0, time.time() - quiz.get("started", time.time())), 3),
            "verified": sum(1 for p in provenance if p.get("verified_by") not in ("", None)),
            "sources": sorted({q["source"] for q in questions if q.get("source")})[:60],
        }
    )
    return Quiz.model_validate({"topic": quiz["topic"], "questions": questions, "meta": meta.model_dump()})


def graded_answers(quiz: dict[str, Any]) -> list[GradedAnswer]:
    return [GradedAnswer.model_validate(a) for a in quiz["answers"]]


def new_seed(quizzes_started: int) -> int:
    """A seed for the next quiz: random (recorded in the quiz metadata, so the quiz is reproducible)."""
    return random.Random().randrange(1_000_000) * 100 + quizzes_started % 100
