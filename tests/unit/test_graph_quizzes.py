"""Quiz records in graph state: retry, reshuffle, finish; and the write-ahead cache (pure + asyncio).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_graph_quizzes.py -q
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter

from agent.graph.cache import QuestionCache
from agent.graph.quizzes import finished_quiz, missed_questions, reshuffle, retry_quiz
from agent.graph.state import ActiveQuiz, LastQuiz, Provenance
from agent.grading import grade, summarise
from schemas import LETTERS, MultipleChoiceQuestion, Quiz, QuizMeta, StudentAnswer


def _question(n: int, answer: str = "A") -> MultipleChoiceQuestion:
    options = [f"option {n}-{k}" for k in range(4)]
    return MultipleChoiceQuestion(question=f"What is thing number {n}?", options=options, answer=answer,
                                  explanation=f"Thing {n} is explained.", concept=f"Concept {n % 3}",
                                  source=f"card:c{n}")


def _other(letter: str) -> str:
    return LETTERS[(LETTERS.index(letter) + 1) % 4]


def _last(right: list[bool]) -> LastQuiz:
    questions = [_question(n, LETTERS[n % 4]) for n in range(len(right))]
    quiz = Quiz(topic="things", questions=questions, meta=QuizMeta(quiz_id="old", model="m", seed=1,
                                                                   requested=len(right)))
    answers = [StudentAnswer(quiz_id="old", index=n, letter=q.answer if ok else _other(q.answer))
               for n, (q, ok) in enumerate(zip(questions, right))]
    return LastQuiz(quiz=quiz, result=summarise(quiz, [grade(quiz, a) for a in answers]))


def test_retry_holds_only_missed_questions_with_reshuffled_keys():
    last = _last([True, False, False, True, False, False, False, False])
    missed = missed_questions(last)
    assert [q.question for q in missed] == [f"What is thing number {n}?" for n in (1, 2, 4, 5, 6, 7)]
    quiz = retry_quiz(last, seed=4)
    assert quiz.quiz_id != "old" and quiz.retry and quiz.answers == [] and quiz.total == 6
    assert quiz.plan is None and quiz.meta.quiz_id == quiz.quiz_id and quiz.written_ahead()
    assert Counter(q.answer for q in quiz.questions).most_common(1)[0][1] <= 2  # balanced A-D
    for old, new in zip(missed, quiz.questions):
        assert new.options[LETTERS.index(new.answer)] == old.options[LETTERS.index(old.answer)]
        assert sorted(new.options) == sorted(old.options)
    assert retry_quiz(_last([True, True]), seed=1) is None
    assert missed_questions(None) == []


def test_reshuffle_moves_the_key():
    q = _question(7, "C")
    for letter in LETTERS:
        moved = reshuffle(q, letter, seed=3)
        assert moved.answer == letter and moved.options[LETTERS.index(letter)] == "option 7-2"


def test_finished_quiz_is_a_valid_quiz_with_provenance():
    meta = QuizMeta(quiz_id="q", model="m", seed=2, requested=3)
    record = ActiveQuiz(quiz_id="q", topic="things", meta=meta, plan=None, questions=[_question(n) for n in range(3)],
                        total=2, started=time.time() - 5,
                        provenance=[Provenance(strategy="template", verified_by="lexical"),
                                    Provenance(strategy="template", verified_by="")])
    quiz = finished_quiz(record)
    assert isinstance(quiz, Quiz) and len(quiz.questions) == 2  # shortened total wins
    assert quiz.meta.verified == 1 and quiz.meta.seconds >= 5 and quiz.meta.strategy == "template"
    assert quiz.meta.sources == ["card:c0", "card:c1"]


async def test_cache_writes_each_key_once_even_when_asked_concurrently():
    cache = QuestionCache()
    calls = []
    gate = threading.Event()

    def write():
        calls.append(1)
        gate.wait(2)
        return "question"

    waiting = [asyncio.ensure_future(cache.get_or_write(("t", "q", 1), write)) for _ in range(3)]
    await asyncio.sleep(0.05)
    gate.set()
    assert await asyncio.gather(*waiting) == ["question"] * 3 and len(calls) == 1
    assert cache.peek(("t", "q", 1)) and not cache.peek(("t", "q", 2))
    cache.forget("t", keep_quiz="q")
    assert cache.peek(("t", "q", 1))
    cache.forget("t")
    assert not cache.peek(("t", "q", 1))


async def test_prefetch_writes_in_order_with_earlier_questions_and_survives_cancel():
    cache = QuestionCache()
    seen = []

    def write(index, taken):
        seen.append((index, list(taken)))
        return f"q{index}"

    await cache.prefetch("t", "quiz", range(1, 4), write, ["q0"])
    assert seen == [(1, ["q0"]), (2, ["q0", "q1"]), (3, ["q0", "q1", "q2"])]
    assert not cache.prefetching("t", "quiz") and cache.wrote_ahead("t", "quiz")
    assert not cache.wrote_ahead("t", "other") and not cache.wrote_ahead("u", "quiz")
    slow = threading.Event()
    cache.prefetch("t", "other", range(0, 2), lambda i, t: slow.wait(0.2) or f"o{i}", [])
    assert cache.prefetching("t", "other")
    cache.cancel("t")  # a superseded prefetch stops; a write another caller awaits still completes
    assert not cache.wrote_ahead("t", "other")
    assert await cache.get_or_write(("t", "other", 0), lambda: "fresh") in ("o0", "fresh")
