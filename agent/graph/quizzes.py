"""Quiz records kept in graph state: start, retry, finish (pure; typed records in and out).

These helpers build and read :class:`agent.graph.state.ActiveQuiz` records so the nodes stay short
and this logic is unit-tested without a graph.
"""

from __future__ import annotations

import random
import time
import uuid

from agent.graph.state import ActiveQuiz, LastQuiz, Provenance
from agent.quiz.assemble import balanced_positions, place_options
from schemas import LETTERS, MultipleChoiceQuestion, Quiz, QuizPlan


def start_quiz(plan: QuizPlan, origin: str | None = None) -> ActiveQuiz:
    """A fresh quiz record for ``plan``: no questions written, no answers."""
    return ActiveQuiz(quiz_id=plan.meta.quiz_id, topic=plan.topic, total=len(plan.items), plan=plan, meta=plan.meta,
                      origin=origin)


def missed_questions(last: LastQuiz | None) -> list[MultipleChoiceQuestion]:
    """The questions answered wrongly in the last finished quiz (in quiz order)."""
    if last is None:
        return []
    return [last.quiz.questions[g.index] for g in last.result.graded if not g.is_correct]


def reshuffle(question: MultipleChoiceQuestion, letter: str, seed: int) -> MultipleChoiceQuestion:
    """The same question with its correct option moved to ``letter`` (so a retry is not a letter drill)."""
    key = LETTERS.index(question.answer)
    others = [o for i, o in enumerate(question.options) if i != key]
    options = place_options(question.correct_option, others, letter, seed)
    return question.model_copy(update={"options": options, "answer": letter})


def retry_quiz(last: LastQuiz, seed: int, origin: str | None = None) -> ActiveQuiz | None:
    """A new quiz of the missed questions of ``last`` (new id, reshuffled options), or None if none were missed."""
    missed = missed_questions(last)
    if not missed:
        return None
    letters = balanced_positions(len(missed), seed)
    questions = [reshuffle(q, letter, seed * 100 + i) for i, (q, letter) in enumerate(zip(missed, letters))]
    meta = last.quiz.meta.model_copy(
        update={"quiz_id": uuid.uuid4().hex, "seed": seed, "requested": len(questions), "seconds": 0.0}
    )
    made = Provenance(strategy=meta.strategy, verified_by="retry")
    return ActiveQuiz(quiz_id=meta.quiz_id, topic=last.quiz.topic, total=len(questions), plan=None, meta=meta,
                      questions=questions, provenance=[made] * len(questions), retry=True, origin=origin)


def finished_quiz(quiz: ActiveQuiz) -> Quiz:
    """The validated :class:`Quiz` of a quiz record (as written; the total may have been shortened)."""
    questions = quiz.questions[: quiz.total]
    strategies = {p.strategy for p in quiz.provenance if p.strategy in ("template", "free")}
    meta = quiz.meta.model_copy(
        update={
            "strategy": strategies.pop() if len(strategies) == 1 else ("mixed" if strategies else quiz.meta.strategy),
            "seconds": round(max(0.0, time.time() - quiz.started), 3),
            "verified": sum(1 for p in quiz.provenance if p.verified_by),
            "sources": sorted({q.source for q in questions if q.source})[:60],
        }
    )
    return Quiz(topic=quiz.topic, questions=questions, meta=meta)


def new_seed(quizzes_started: int) -> int:
    """A seed for the next quiz: random (recorded in the quiz metadata, so the quiz is reproducible)."""
    return random.Random().randrange(1_000_000) * 100 + quizzes_started % 100
