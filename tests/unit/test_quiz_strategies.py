"""What the model does in the quiz path, with fake models (no torch).

* ``template`` (the embedded model's strategy): no model call at all, so a template quiz never
  waits behind other students' generations (issue 15) - checked with a model that raises on any
  call and with the process-wide generation lock held by another thread.
* ``free``/``mixed`` (for larger models): the model phrases each question; code checks it and falls
  back to the card's template for that fact. A model that always answers "1" gets nothing through.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_quiz_strategies.py -q
"""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

from agent.quiz.assemble import build_question
from agent.quiz.service import TutorService
from agent.quiz.writing import verify_key
from schemas import LETTERS, QuestionDraft, Quiz

TOPICS = ["kernel trick", "batch normalisation", "optimisation"]


class ForbiddenRuntime:
    """A model that must not be asked: every call fails the test."""

    calls = 0

    def __getattr__(self, name):
        raise AssertionError(f"the template quiz path called the model ({name})")


class FakeRuntime:
    """A stand-in for :class:`llm.structured.StructuredRuntime` whose drafts come from ``write``."""

    def __init__(self, write):
        self.write = write
        self.calls = 0

    def chat(self, messages) -> str:
        return messages[-1]["content"]

    def generate(self, output_type, prompt, **kwargs):
        assert output_type is QuestionDraft
        self.calls += 1
        return self.write(prompt)


def _fake_lm(kind: str = "hub") -> SimpleNamespace:
    return SimpleNamespace(spec=SimpleNamespace(kind=kind), label=f"fake-{kind}", adapter=None)


def _fact_in(prompt: str, kb):
    statement = prompt.split("Fact: ", 1)[1].split("\n", 1)[0]
    return next(f for c in kb.cards.values() for f in c.facts if f.statement == statement)


def careful_writer(kb):
    """A larger model that phrases questions well: a reworded card form, the fact's key and distractors."""

    def write(prompt: str) -> QuestionDraft:
        fact = _fact_in(prompt, kb)
        stem = "In your own words: " + fact.questions[0][0].lower() + fact.questions[0][1:]
        return QuestionDraft(question=stem[:160], correct_answer=fact.answer,
                             distractors=list(fact.distractors[:3]), explanation=fact.statement[:200])

    return write


def always_one(prompt: str) -> QuestionDraft:
    """A degenerate model: "1" wherever it can write something (as far as the grammar lets it)."""
    return QuestionDraft(question="Which one is 1?", correct_answer="1", distractors=["11", "111", "1111"],
                         explanation="1")


@pytest.mark.parametrize("topic", TOPICS)
def test_template_quizzes_never_call_the_model(knowledge_base, topic):
    service = TutorService(knowledge_base, _fake_lm("embedded"), runtime=ForbiddenRuntime())
    assert service.strategy == "template"
    quiz = service.generate_quiz(topic, 8, seed=2)
    assert len(quiz.questions) == 8 and quiz.meta.verified == 8 and quiz.meta.model == "fake-embedded"


def test_a_template_quiz_does_not_wait_for_the_generation_lock(knowledge_base):
    from llm.loading import GENERATE_LOCK

    service = TutorService(knowledge_base, _fake_lm("embedded"), runtime=ForbiddenRuntime())
    held, release = threading.Event(), threading.Event()

    def other_student():  # another session's long generation
        with GENERATE_LOCK:
            held.set()
            release.wait(30)

    thread = threading.Thread(target=other_student)
    thread.start()
    try:
        assert held.wait(10)
        done: list[Quiz] = []
        writer = threading.Thread(target=lambda: done.append(service.generate_quiz("dropout", 5, seed=0)))
        writer.start()
        writer.join(10)
        assert done and len(done[0].questions) == 5  # finished while the lock was still held
    finally:
        release.set()
        thread.join()


@pytest.mark.parametrize("strategy", ["free", "mixed"])
def test_free_strategy_uses_a_good_models_questions(knowledge_base, strategy):
    runtime = FakeRuntime(careful_writer(knowledge_base))
    service = TutorService(knowledge_base, _fake_lm(), strategy=strategy, runtime=runtime)
    quiz = service.generate_quiz("kernel trick", 4, seed=1)
    assert quiz.meta.strategy == "free" and runtime.calls >= 4
    assert all(q.question.startswith("In your own words") for q in quiz.questions)
    assert quiz.meta.verified == 4


def test_auto_strategy_is_mixed_for_larger_models_and_template_for_the_embedded_one(knowledge_base):
    assert TutorService(knowledge_base, _fake_lm(), runtime=FakeRuntime(always_one)).strategy == "mixed"
    assert TutorService(knowledge_base, _fake_lm("embedded"), runtime=ForbiddenRuntime()).strategy == "template"
    assert TutorService(knowledge_base).strategy == "template"


def test_a_model_that_always_answers_1_gets_no_question_through(knowledge_base):
    runtime = FakeRuntime(always_one)
    service = TutorService(knowledge_base, _fake_lm(), strategy="free", runtime=runtime)
    quiz = service.generate_quiz("kernel trick", 4, seed=1)
    assert runtime.calls >= 4 and quiz.meta.strategy == "template"  # every fact fell back to its template
    assert all(q.question != "Which one is 1?" and "1" not in q.options for q in quiz.questions)


def test_the_key_check_accepts_authored_keys_and_rejects_a_distractor_posing_as_the_key(knowledge_base):
    # Code only (the model re-check is gone, bench/results/quiz_ablation.json). A check that accepts
    # anything, or anything at one letter, fails here.
    accepted = rejected = total = 0
    for card in knowledge_base.cards.values():
        for fact in card.facts:
            letter = LETTERS[total % 4]
            total += 1
            right = build_question(stem=fact.questions[0], correct=fact.answer, distractors=list(fact.distractors[:3]),
                                   letter=letter, seed=0, explanation=fact.statement, concept=card.title, source=None)
            wrong = build_question(stem=fact.questions[0], correct=fact.distractors[0],
                                   distractors=[fact.answer, *fact.distractors[1:3]], letter=letter, seed=0,
                                   explanation=fact.statement, concept=card.title, source=None)
            accepted += verify_key(fact.statement, right) == "lexical"
            rejected += verify_key(fact.statement, wrong) == ""
    assert rejected == total  # no mis-keyed question is ever verified
    assert accepted >= 0.9 * total  # most authored keys are stated by their fact (the rest are replaced)
