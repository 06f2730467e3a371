"""Quizzes from the real embedded model (SmolLM2-135M): whole 10-question quizzes, re-validated.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/integration/test_quiz_model.py -q
"""

from __future__ import annotations

from collections import Counter

import pytest

from agent.quiz.service import QuizUnavailable, TutorService
from evaluation.quiz_quality import audit_quiz
from schemas import LETTERS, Quiz

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def service(knowledge_base, embedded_lm):
    return TutorService(knowledge_base, embedded_lm)


@pytest.mark.parametrize("topic, seed", [("overfitting", 0), ("precision vs recall", 1), ("k-means clustering", 2)])
def test_a_full_quiz_is_valid_verified_and_balanced(service, knowledge_base, topic, seed):
    shown = []
    quiz = service.generate_quiz(topic, 10, seed=seed, on_question=lambda i, q: shown.append(i))
    assert shown == list(range(10))  # each question is handed over as soon as it is written
    again = Quiz.model_validate_json(quiz.model_dump_json())
    assert again == quiz and len(again.questions) == 10
    assert quiz.meta.model == service.lm.label and quiz.meta.seed == seed and quiz.meta.requested == 10
    assert quiz.meta.verified == 10  # the service only keeps questions whose key was verified
    assert max(Counter(q.answer for q in quiz.questions).values()) <= 3
    audit = audit_quiz(quiz.model_dump_json(), knowledge_base)
    assert audit.status == "ok" and audit.duplicate_stems == 0 and audit.duplicate_options == 0
    assert audit.stem_ok >= 9 and audit.lexical_ok >= 8
    assert all(q.source and q.source.startswith("card:") for q in quiz.questions)
    assert set(quiz.meta.sources) == {q.source for q in quiz.questions}


def test_the_same_seed_gives_the_same_quiz(service):
    first = service.generate_quiz("dropout", 4, seed=11)
    second = service.generate_quiz("dropout", 4, seed=11)
    assert [q.model_dump() for q in first.questions] == [q.model_dump() for q in second.questions]
    assert first.meta.quiz_id != second.meta.quiz_id


def test_a_template_quiz_makes_no_model_call(service, monkeypatch):
    """Planning, question forms and key checks are code: a quiz never waits behind other sessions' generations."""

    def forbidden(*args, **kwargs):
        raise AssertionError("the template quiz path called the model")

    monkeypatch.setattr(service.runtime, "generate_text", forbidden)
    monkeypatch.setattr(service.runtime, "generate", forbidden)
    quiz = service.generate_quiz("kernel trick", 5, seed=4)
    assert quiz.meta.strategy == "template" and quiz.meta.verified == 5
    assert {q.source for q in quiz.questions} == {"card:kernel-trick"}


def test_free_strategy_output_is_valid_or_falls_back_to_templates(knowledge_base, embedded_lm):
    free = TutorService(knowledge_base, embedded_lm, strategy="free")
    quiz = free.generate_quiz("dropout", 2, seed=0)
    assert Quiz.model_validate_json(quiz.model_dump_json()) == quiz
    assert quiz.meta.strategy in ("free", "template", "mixed") and quiz.meta.verified == 2
    for q in quiz.questions:
        assert q.answer in LETTERS and len({o.casefold() for o in q.options}) == 4


def test_nonsense_topic_is_unavailable_with_the_model(service):
    with pytest.raises(QuizUnavailable, match="don't have material"):
        service.generate_quiz("qwzx zzkv", 10, seed=0)
