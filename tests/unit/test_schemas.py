"""The quiz contract's validators (pure, milliseconds).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_schemas.py -q
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from schemas import MAX_QUESTIONS, MultipleChoiceQuestion, QuestionDraft, Quiz, QuizMeta, QuizPlan, StudentAnswer
from schemas.knowledge import Fact
from schemas.text import first_duplicate, normalise


def question(stem="Which value does L2 regularisation penalise?", options=None, answer="A", **extra):
    return dict(
        question=stem,
        options=options or ["Squared weights", "Absolute weights", "The bias only", "The learning rate"],
        answer=answer,
        explanation="L2 regularisation adds the sum of squared weights to the loss.",
        concept="L2 regularisation",
        source="card:l2-regularisation",
        **extra,
    )


def meta(**extra):
    return dict(quiz_id="q1", model="test", seed=0) | extra


def quiz(questions, topic="regularisation"):
    return Quiz.model_validate({"topic": topic, "questions": questions, "meta": meta()})


def numbered(n):
    return [question(stem=f"Question number {i} about regularisation?") for i in range(n)]


# ------------------------------------------------------------------------------ normalise


@pytest.mark.parametrize(
    "a, b",
    [("Overfitting.", "  overfitting"), ("L2 Penalty", "l2   penalty!"), ("TP/(TP+FN)", "tp (tp fn)"),
     ("ﬁne-tuning", "fine tuning")],  # the ligature folds under NFKC
)
def test_normalise_ignores_case_whitespace_and_punctuation(a, b):
    assert normalise(a) == normalise(b)


def test_normalise_keeps_different_words_apart():
    assert normalise("precision") != normalise("recall")
    assert first_duplicate(["Bias", "Variance", "bias!", "Noise"]) == (0, 2)
    assert first_duplicate(["Bias", "Variance"]) is None


# ----------------------------------------------------------------------------- questions


def test_a_valid_question_passes_and_knows_its_correct_option():
    q = MultipleChoiceQuestion.model_validate(question(answer="C"))
    assert q.correct_option == "The bias only"


@pytest.mark.parametrize(
    "options",
    [
        ["Squared weights", "squared weights", "The bias only", "The learning rate"],  # case
        ["Squared weights", "Absolute weights", "  Squared   weights ", "The learning rate"],  # whitespace
        ["Squared weights.", "Absolute weights", "The bias only", "Squared weights!"],  # punctuation
    ],
)
def test_options_that_differ_only_in_case_whitespace_or_punctuation_are_rejected(options):
    with pytest.raises(ValidationError, match="same text"):
        MultipleChoiceQuestion.model_validate(question(options=options))


def test_an_option_of_only_punctuation_is_rejected():
    with pytest.raises(ValidationError, match="empty"):
        MultipleChoiceQuestion.model_validate(question(options=["Squared weights", "?!", "The bias", "Zero"]))


def test_an_option_equal_to_the_question_is_rejected():
    stem = "Which value does L2 regularisation penalise?"
    with pytest.raises(ValidationError, match="repeats the question"):
        MultipleChoiceQuestion.model_validate(question(stem=stem, options=["A thing", stem.upper(), "B", "C"]))


@pytest.mark.parametrize("answer", ["E", "a", "1", "", None])
def test_only_letters_a_to_d_are_keys(answer):
    with pytest.raises(ValidationError):
        MultipleChoiceQuestion.model_validate(question(answer=answer))


@pytest.mark.parametrize("count", [3, 5])
def test_exactly_four_options(count):
    options = [f"Option number {i}" for i in range(count)]
    with pytest.raises(ValidationError):
        MultipleChoiceQuestion.model_validate(question(options=options))


@pytest.mark.parametrize("field, value", [("question", "Short?"), ("question", "x" * 301), ("concept", ""),
                                          ("explanation", "y" * 1201)])
def test_string_bounds(field, value):
    with pytest.raises(ValidationError):
        MultipleChoiceQuestion.model_validate(question() | {field: value})


def test_presented_question_forbids_extra_fields():
    with pytest.raises(ValidationError):
        MultipleChoiceQuestion.model_validate(question(difficulty="hard"))


# ---------------------------------------------------------------------------------- quiz


def test_quiz_of_ten_distinct_questions_is_valid_and_round_trips_through_json():
    q = quiz(numbered(10))
    again = Quiz.model_validate_json(q.model_dump_json())
    assert again == q and len(again.questions) == 10


def test_questions_repeated_up_to_case_and_punctuation_are_rejected():
    items = numbered(3) + [question(stem="QUESTION number 1 about regularisation")]
    with pytest.raises(ValidationError, match="questions 2 and 4"):
        quiz(items)


@pytest.mark.parametrize("n", [0, MAX_QUESTIONS + 1])
def test_quiz_length_bounds(n):
    with pytest.raises(ValidationError):
        quiz(numbered(n))


def test_quiz_bounds_accept_one_and_max():
    assert len(quiz(numbered(1)).questions) == 1
    assert len(quiz(numbered(MAX_QUESTIONS)).questions) == MAX_QUESTIONS


@pytest.mark.parametrize("topic", ["", "   ", "t" * 201])
def test_topic_bounds(topic):
    with pytest.raises(ValidationError):
        quiz(numbered(1), topic=topic)


@pytest.mark.parametrize("field, value", [("requested", 0), ("requested", MAX_QUESTIONS + 1), ("seconds", -1.0),
                                          ("verified", -1), ("strategy", "guess"), ("quiz_id", "")])
def test_meta_bounds(field, value):
    with pytest.raises(ValidationError):
        QuizMeta.model_validate(meta(**{field: value}))


def test_plan_needs_one_letter_per_item():
    item = {"source": "card:overfitting", "fact": 0, "concept": "Overfitting"}
    base = {"topic": "overfitting", "meta": meta(), "items": [item, item | {"fact": 1}]}
    assert QuizPlan.model_validate(base | {"letters": ["A", "C"]}).letters == ["A", "C"]
    with pytest.raises(ValidationError, match="one answer letter"):
        QuizPlan.model_validate(base | {"letters": ["A"]})


def test_student_answer_bounds():
    assert StudentAnswer(quiz_id="q1", index=0, letter="B").letter == "B"
    for bad in ({"index": -1}, {"index": MAX_QUESTIONS}, {"letter": "E"}, {"quiz_id": ""}):
        with pytest.raises(ValidationError):
            StudentAnswer.model_validate({"quiz_id": "q1", "index": 0, "letter": "A"} | bad)


# ------------------------------------------------------------------- generation schemas


def test_question_draft_needs_exactly_three_bounded_distractors():
    draft = {"question": "What does dropout do?", "correct_answer": "Zeroes random units",
             "distractors": ["Adds units", "Scales inputs", "Sorts data"], "explanation": "Dropout zeroes units."}
    assert QuestionDraft.model_validate(draft).correct_answer == "Zeroes random units"
    for bad in ({"distractors": ["a", "b"]}, {"distractors": ["a", "b", "c", "d"]}, {"correct_answer": "x" * 101},
                {"question": "Short"}):
        with pytest.raises(ValidationError):
            QuestionDraft.model_validate(draft | bad)


def test_card_fact_rejects_an_answer_repeated_among_its_distractors():
    fact = {"id": "dropout.random-units", "statement": "Dropout zeroes random units during training.",
            "answer": "Random units",
            "questions": ["What does dropout zero during training?"], "distractors": ["All weights", "The bias", "x"]}
    assert Fact.model_validate(fact).answer == "Random units"
    with pytest.raises(ValidationError, match="repeat"):
        Fact.model_validate(fact | {"distractors": ["random units!", "The bias", "x"]})
