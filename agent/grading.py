"""Grading and quiz summaries: deterministic letter comparison (pure; no model, no I/O).

The model may phrase extra feedback elsewhere; whether an answer is right is decided here alone.
"""

from __future__ import annotations

from collections import Counter

from schemas import LETTERS, GradedAnswer, MultipleChoiceQuestion, Quiz, QuizResult, StudentAnswer


class StaleAnswerError(ValueError):
    """The answer belongs to another quiz or to a question that is not the current one."""


def grade(quiz: Quiz, answer: StudentAnswer, feedback: str = "") -> GradedAnswer:
    """Grade one answer; raises :class:`StaleAnswerError` if it does not fit ``quiz``."""
    if answer.quiz_id != quiz.meta.quiz_id:
        raise StaleAnswerError("this answer belongs to an earlier quiz")
    if answer.index >= len(quiz.questions):
        raise StaleAnswerError(f"the quiz has no question {answer.index + 1}")
    question: MultipleChoiceQuestion = quiz.questions[answer.index]
    chosen = answer.letter
    return GradedAnswer(
        index=answer.index,
        question=question.question,
        chosen=chosen,
        correct=question.answer,
        is_correct=chosen == question.answer,
        correct_option=question.correct_option,
        chosen_option=question.options[LETTERS.index(chosen)],
        explanation=question.explanation,
        concept=question.concept,
        source=question.source,
        fact_id=question.fact_id,
        feedback=feedback,
    )


def summarise(quiz: Quiz, graded: list[GradedAnswer]) -> QuizResult:
    """Score, per-question review and the concepts to study next (missed ones, most missed first)."""
    if not graded:
        raise ValueError("no answers to summarise")
    missed = Counter(g.concept for g in graded if not g.is_correct)
    missed_concepts = [concept for concept, _ in missed.most_common()]
    return QuizResult(
        quiz_id=quiz.meta.quiz_id,
        topic=quiz.topic,
        score=sum(g.is_correct for g in graded),
        total=len(graded),
        graded=sorted(graded, key=lambda g: g.index),
        missed_concepts=missed_concepts,
        study_next=missed_concepts[:3],
    )
