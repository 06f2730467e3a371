"""Grading and summaries on a hand-built quiz (no knowledge base, microseconds): every field of a graded answer,
the refusals' wording, the study list's length. Written to kill the mutants `python bench/mutation.py` found alive.

    PYTHONPATH=$PWD .venv/bin/python -m pytest tests/unit/test_grading.py -q
"""

from __future__ import annotations

import pytest

from agent.grading import StaleAnswerError, grade, summarise
from schemas import MultipleChoiceQuestion, Quiz, QuizMeta, StudentAnswer

CONCEPTS = ["Dropout", "Momentum", "Recall", "Precision", "Dropout"]


def _question(i: int, concept: str) -> MultipleChoiceQuestion:
    return MultipleChoiceQuestion(
        question=f"Which statement about concept number {i} is right?",
        options=[f"option {i} {letter}" for letter in "ABCD"],
        answer="ABCD"[i % 4],
        explanation=f"Because of fact {i}.",
        concept=concept,
        source=f"card:c{i}",
        fact_id=f"c{i}.fact-{i}",
    )


QUIZ = Quiz(topic="mixed", questions=[_question(i, c) for i, c in enumerate(CONCEPTS)],
            meta=QuizMeta(quiz_id="q1", model="no model", seed=0))


def _answer(index: int, letter: str, quiz_id: str = "q1") -> StudentAnswer:
    return StudentAnswer(quiz_id=quiz_id, index=index, letter=letter)


def test_a_graded_answer_carries_the_question_the_choice_and_the_feedback():
    graded = grade(QUIZ, _answer(1, "D"), feedback="Look at the update rule again.")
    assert graded.model_dump() == {
        "index": 1, "question": "Which statement about concept number 1 is right?", "chosen": "D", "correct": "B",
        "is_correct": False, "correct_option": "option 1 B", "chosen_option": "option 1 D",
        "explanation": "Because of fact 1.", "concept": "Momentum", "source": "card:c1", "fact_id": "c1.fact-1",
        "feedback": "Look at the update rule again.",
    }
    right = grade(QUIZ, _answer(2, "C"))
    assert right.is_correct and right.chosen_option == right.correct_option == "option 2 C" and right.feedback == ""


def test_stale_answers_are_refused_with_a_reason_the_student_can_read():
    with pytest.raises(StaleAnswerError, match="^this answer belongs to an earlier quiz$"):
        grade(QUIZ, _answer(0, "A", quiz_id="q0"))
    with pytest.raises(StaleAnswerError, match="^the quiz has no question 6$"):  # 1-based, as the student counts
        grade(QUIZ, _answer(5, "A"))
    assert grade(QUIZ, _answer(4, "A")).index == 4  # the last question is still a question


def test_the_summary_names_at_most_three_concepts_to_study_most_missed_first():
    letters = ["B", "C", "D", "A", "B"]  # every answer wrong: Dropout missed twice, the others once
    result = summarise(QUIZ, [grade(QUIZ, _answer(i, x)) for i, x in reversed(list(enumerate(letters)))])
    assert (result.quiz_id, result.topic, result.score, result.total) == ("q1", "mixed", 0, 5)
    assert result.missed_concepts == ["Dropout", "Precision", "Recall", "Momentum"]  # ties: in the order given
    assert result.study_next == ["Dropout", "Precision", "Recall"]
    assert [g.index for g in result.graded] == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="^no answers to summarise$"):
        summarise(QUIZ, [])
