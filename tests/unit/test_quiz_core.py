"""The pure quiz core: key positions, option placement, grading, planning, checks and the audit.

No model: template quizzes never call one (bench/results/quiz_ablation.json), so the whole
plan -> write -> verify -> assemble path runs in milliseconds.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_quiz_core.py -q
"""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest

from agent.grading import StaleAnswerError, grade, summarise
from agent.quiz.assemble import balanced_positions, build_question, place_options
from agent.quiz.checks import lexical_support, stem_problems
from agent.quiz.planning import QuizUnavailable, plan_quiz
from agent.quiz.service import TutorService
from evaluation.quiz_quality import audit_quiz, summarise_audits
from evaluation.quiz_topics import load_topics
from schemas import LETTERS, PlanItem, Quiz, StudentAnswer

TOPICS = ["overfitting", "precision vs recall", "k-means clustering", "backpropagation", "LoRA", "PCA",
          "gradient descent and the learning rate", "random forests and bagging", "tokenization and BPE"]


@pytest.fixture(scope="module")
def service(knowledge_base):
    return TutorService(knowledge_base)  # no model: template quizzes need none


@pytest.fixture(scope="module")
def sample_quiz(service):
    return service.generate_quiz("bias-variance trade-off", 10, seed=3)


# ----------------------------------------------------------------------- key positions


def test_ten_questions_use_no_letter_more_than_three_times():
    for seed in range(200):
        counts = Counter(balanced_positions(10, seed))
        assert max(counts.values()) <= 3 and sum(counts.values()) == 10


@pytest.mark.parametrize("n", range(1, 21))
def test_no_letter_more_than_ceil_n_over_4(n):
    for seed in range(25):
        letters = balanced_positions(n, seed)
        assert len(letters) == n and set(letters) <= set(LETTERS)
        assert max(Counter(letters).values()) <= math.ceil(n / 4)


def test_positions_are_deterministic_by_seed_and_vary_across_seeds():
    assert balanced_positions(10, 7) == balanced_positions(10, 7)
    assert len({tuple(balanced_positions(10, s)) for s in range(20)}) > 10
    assert balanced_positions(0, 1) == []
    with pytest.raises(ValueError):
        balanced_positions(-1, 0)


@pytest.mark.parametrize("letter", LETTERS)
def test_place_options_puts_the_key_at_the_letter(letter):
    for seed in range(10):
        options = place_options("the key", ["wrong one", "wrong two", "wrong three"], letter, seed)
        assert options[LETTERS.index(letter)] == "the key"
        assert sorted(options) == sorted(["the key", "wrong one", "wrong two", "wrong three"])
        assert options == place_options("the key", ["wrong one", "wrong two", "wrong three"], letter, seed)


def test_place_options_needs_three_distractors():
    with pytest.raises(ValueError):
        place_options("key", ["a", "b"], "A", 0)


def test_build_question_rejects_a_distractor_equal_to_the_key():
    with pytest.raises(ValueError):  # pydantic.ValidationError is a ValueError
        build_question(stem="What does dropout do during training?", correct="Zeroes units",
                       distractors=["zeroes units!", "Adds units", "Sorts data"], letter="B", seed=0,
                       explanation="", concept="Dropout", source=None)


# ---------------------------------------------------------------------------- grading


def test_grading_right_and_wrong(sample_quiz):
    q = sample_quiz.questions[0]
    wrong = next(x for x in LETTERS if x != q.answer)
    right = grade(sample_quiz, StudentAnswer(quiz_id=sample_quiz.meta.quiz_id, index=0, letter=q.answer))
    miss = grade(sample_quiz, StudentAnswer(quiz_id=sample_quiz.meta.quiz_id, index=0, letter=wrong))
    assert right.is_correct and right.chosen_option == q.correct_option
    assert not miss.is_correct and miss.correct == q.answer and miss.chosen_option == q.options[LETTERS.index(wrong)]


def test_grading_rejects_a_stale_quiz_id_and_a_missing_question(sample_quiz):
    with pytest.raises(StaleAnswerError):
        grade(sample_quiz, StudentAnswer(quiz_id="an-older-quiz", index=0, letter="A"))
    with pytest.raises(StaleAnswerError):
        grade(sample_quiz, StudentAnswer(quiz_id=sample_quiz.meta.quiz_id, index=len(sample_quiz.questions),
                                         letter="A"))


def test_summarise_scores_and_lists_missed_concepts_most_missed_first(sample_quiz):
    payload = json.loads(sample_quiz.model_dump_json())
    for i, concept in ((1, "Noise"), (2, "Variance"), (4, "Variance"), (5, "Variance"), (7, "Noise")):
        payload["questions"][i]["concept"] = concept
    quiz = Quiz.model_validate(payload)
    graded = []
    for i, q in enumerate(quiz.questions):
        wrong = next(x for x in LETTERS if x != q.answer)
        letter = q.answer if i % 3 == 0 else wrong  # right on 0, 3, 6, 9
        graded.append(grade(quiz, StudentAnswer(quiz_id=quiz.meta.quiz_id, index=i, letter=letter)))
    result = summarise(quiz, list(reversed(graded)))
    assert (result.score, result.total) == (4, 10) and result.percent == 40.0
    assert [g.index for g in result.graded] == list(range(10))
    assert result.missed_concepts[:2] == ["Variance", "Noise"]  # missed 3 times, then twice
    assert len(result.missed_concepts) == 3 and result.study_next == result.missed_concepts[:3]
    with pytest.raises(ValueError):
        summarise(quiz, [])


# --------------------------------------------------------------------------- planning


@pytest.mark.parametrize("topic", TOPICS)
def test_plans_never_repeat_a_fact_and_spares_are_other_facts(knowledge_base, topic):
    for count in (5, 10):
        plan = plan_quiz(knowledge_base, topic, count=count, seed=1)
        keys = [(i.source, i.fact) for i in plan.items]
        assert len(keys) == count == len(set(keys)) == len(plan.letters)
        assert not set(keys) & {(s.source, s.fact) for s in plan.spares}


@pytest.mark.parametrize("topic", ["", "   ", "\n\t", "qwzx zzkv", "zzzz qqqq xxxx"])
def test_empty_or_nonsense_topics_are_unavailable_with_a_clear_message(service, topic):
    with pytest.raises(QuizUnavailable) as info:
        service.generate_quiz(topic, 10, seed=0)
    message = str(info.value)
    assert message and "\n" not in message and ("topic" in message.lower())


@pytest.mark.parametrize("count", [0, -1, 21])
def test_out_of_range_question_counts_are_unavailable(service, count):
    with pytest.raises(QuizUnavailable, match="between 1 and 20"):
        service.generate_quiz("overfitting", count, seed=0)


def test_unwritable_questions_end_in_quiz_unavailable(service, monkeypatch):
    monkeypatch.setattr(service.writer, "write", lambda item, letter, seed: None)
    with pytest.raises(QuizUnavailable, match="could not write"):
        service.generate_quiz("overfitting", 3, seed=0)


# ----------------------------------------------------------------------------- checks


@pytest.mark.parametrize(
    "stem, problem",
    [
        ("What is the correct answer to the question about overfitting?", "generic"),
        ("Which of the following is true about overfitting?", "generic"),
        ("Why does dropout reduce overfitting by zeroing random units?", "gives the answer away"),
        ("Overfitting overfitting overfitting overfitting?", "repetition"),
        ("Dropout reduces overfitting.", "not a question"),
        ("What is the capital city of France today?", "off topic"),
        ("Why?", "length"),
    ],
)
def test_stem_problems_flags_bad_stems(stem, problem):
    fact = "Dropout reduces overfitting by zeroing random units during training."
    assert problem in stem_problems(stem, "zeroing random units", fact, "Dropout")


def test_stem_problems_accepts_good_card_stems(knowledge_base):
    for card in list(knowledge_base.cards.values())[:40]:
        for fact in card.facts:
            for stem in fact.questions:
                assert not set(stem_problems(stem, fact.answer, fact.statement, card.title)) & {
                    "generic", "gives the answer away", "not a question", "off topic"}, (card.id, stem)


def test_lexical_support_verifies_a_stated_key_and_not_an_unstated_one():
    fact = "L2 regularisation adds the sum of squared weights to the loss."
    assert lexical_support(fact, "The sum of squared weights", ["The number of layers", "The learning rate"]).verified
    assert not lexical_support(fact, "The number of layers", ["The sum of squared weights", "The bias"]).verified


def test_lexical_support_uses_word_order_for_formulas():
    fact = "Recall is TP / (TP + FN): the share of actual positives the model finds."
    assert lexical_support(fact, "TP / (TP + FN)", ["TP / (TP + FP)", "TN / (TN + FP)"]).verified
    assert not lexical_support(fact, "TP / (TP + FP)", ["TP / (TP + FN)", "TN / (TN + FP)"]).verified


# ----------------------------------------------------------------- whole path + audit


def test_every_evaluation_topic_gives_a_valid_balanced_verified_quiz(service, knowledge_base):
    from pathlib import Path

    topics = load_topics(Path("evaluation/data/quiz_topics.txt"))
    assert len(topics) >= 30
    audits = []
    for seed, topic in enumerate(topics):
        quiz = service.generate_quiz(topic, 10, seed=seed)
        audits.append(audit_quiz(quiz.model_dump_json(), knowledge_base, seed=seed))
    summary = summarise_audits(audits)
    assert summary["valid_quizzes"]["rate"] == 1.0 and summary["questions"] == 10 * len(topics)
    assert summary["duplicate_stems"] == 0 and summary["duplicate_options"] == 0
    assert summary["max_letter_share_per_quiz"] <= 0.3 and summary["max_letter_share_overall"] <= 0.3
    assert summary["recheck_lexical"]["rate"] >= 0.9


def test_the_audit_catches_an_invalid_quiz_with_duplicates(sample_quiz, knowledge_base):
    payload = json.loads(sample_quiz.model_dump_json())
    payload["questions"][1]["options"][2] = payload["questions"][1]["options"][0].upper() + "."
    payload["questions"][3]["question"] = payload["questions"][0]["question"].lower()
    audit = audit_quiz(json.dumps(payload), knowledge_base)
    assert audit.status == "invalid" and (audit.duplicate_stems, audit.duplicate_options) == (1, 1)
    assert summarise_audits([audit])["errors"][0]["status"] == "invalid"


def test_the_audit_rechecks_keys_with_an_injected_reanswer(sample_quiz, knowledge_base):
    def always_first(fact, question, options):
        return 0

    audit = audit_quiz(sample_quiz.model_dump_json(), knowledge_base, reanswer=always_first, seed=1)
    assert Quiz.model_validate_json(sample_quiz.model_dump_json()) == sample_quiz
    assert 0 <= audit.model_ok < len(sample_quiz.questions)  # a first-option bias cannot pass every key
    assert audit.lexical_ok == len(sample_quiz.questions) and audit.status == "ok"
