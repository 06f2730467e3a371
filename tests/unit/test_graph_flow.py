"""The tutor graph end to end on the real SQLite checkpointer, without a model (seconds).

``TutorService(kb, lm=None)`` plans and writes questions deterministically (no model call), so
these tests check the state machine itself: routing, grading, isolation of quizzes, stale and
tampered answers, retries, and resuming after a "restart" (a new graph on the same DB file).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_graph_flow.py -q
"""

from __future__ import annotations

import asyncio

import pytest

from agent.graph.events import ActionClick, AnswerClick, Output, QuestionShown, TextTurn, Turn
from agent.graph.runner import Tutor
from agent.quiz.service import TutorService
from schemas import LETTERS, GradedAnswer, MultipleChoiceQuestion, QuizResult
from schemas.turn import TurnRequest

TOPIC = "overfitting"
THREAD = "thread-1"


@pytest.fixture(scope="module")
def service(knowledge_base):
    return TutorService(knowledge_base, lm=None)


@pytest.fixture
def db(tmp_path):
    return tmp_path / "graph.sqlite"


class ScriptedReader:
    """A fake turn reader: the TurnRequest scripted for each text (explain otherwise); records its calls."""

    def __init__(self, script: dict[str, TurnRequest] | None = None):
        self.script, self.calls = script or {}, []

    def __call__(self, text, options=None):
        self.calls.append((text, options))
        return self.script.get(text, TurnRequest(intent="explain"))


def tutor_on(db, service, reader=None, **kwargs):
    return Tutor.open(db, service, read_turn=reader or ScriptedReader(), **kwargs)


async def run(tutor: Tutor, event: Turn, thread: str = THREAD) -> list[Output]:
    return [out async for out in tutor.turn(thread, event)]


def text(message: str, questions: int = 4, difficulty: str = "medium") -> TextTurn:
    return TextTurn(text=message, questions=questions, difficulty=difficulty)


def click(question: QuestionShown, letter: str) -> AnswerClick:
    return AnswerClick(quiz_id=question.quiz_id, index=question.index, letter=letter)


def wrong(question: QuestionShown) -> str:
    return next(letter for letter in LETTERS if letter != question.question.answer)


def kinds(outputs: list[Output]) -> list[str]:
    return [o.kind for o in outputs]


def only(outputs: list[Output], kind: str) -> Output:
    found = [o for o in outputs if o.kind == kind]
    assert len(found) == 1, kinds(outputs)
    return found[0]


async def test_full_quiz_right_and_wrong_answers_are_graded_and_summarised(service, db):
    async with tutor_on(db, service, seed=3) as tutor:
        outputs = await run(tutor, text(f"/quiz {TOPIC}", questions=10))
        assert kinds(outputs) == ["quiz_started", "question"]
        question = only(outputs, "question")
        assert (question.index, question.total) == (0, 10)
        MultipleChoiceQuestion.model_validate(question.question)
        seen, expected_score = [], 0
        for n in range(10):
            assert question.index == n
            seen.append(question.question.question)
            letter = question.question.answer if n % 3 else wrong(question)
            expected_score += n % 3 != 0
            outputs = await run(tutor, click(question, letter))
            graded = GradedAnswer.model_validate(only(outputs, "feedback").graded)
            assert graded.is_correct == (letter == question.question.answer)
            assert graded.correct == question.question.answer and graded.chosen == letter
            if n < 9:
                assert kinds(outputs) == ["feedback", "question"]
                question = only(outputs, "question")
        assert kinds(outputs) == ["feedback", "summary"]
        assert len(set(seen)) == 10  # ten distinct questions
        result = QuizResult.model_validate(only(outputs, "summary").result)
        assert (result.score, result.total) == (expected_score, 10)
        assert [g.index for g in result.graded if not g.is_correct] == [0, 3, 6, 9]
        assert result.missed_concepts and set(result.study_next) <= set(result.missed_concepts)
        state = await tutor.state(THREAD)
        assert state["quiz"] is None and state["last"].result.score == expected_score
        assert await tutor.pending_question(THREAD) is None


async def test_restart_resumes_at_the_same_question_with_earlier_answers(service, db):
    async with tutor_on(db, service, seed=5) as tutor:
        question = only(await run(tutor, text(f"/quiz {TOPIC}", questions=5)), "question")
        for _ in range(3):
            letter = question.question.answer if question.index != 1 else wrong(question)
            question = only(await run(tutor, click(question, letter)), "question")
        before = await tutor.state(THREAD)
    # "Restart": a new graph, checkpointer and cache on the same file.
    async with tutor_on(db, service, seed=99) as tutor:
        pending = await tutor.pending_question(THREAD)
        assert pending == question  # same quiz, same index, same question text and options
        state = await tutor.state(THREAD)
        assert state["quiz"].answers == before["quiz"].answers and len(state["quiz"].answers) == 3
        outputs = []
        while (pending := await tutor.pending_question(THREAD)) is not None:
            outputs = await run(tutor, click(pending, pending.question.answer))
        result = QuizResult.model_validate(only(outputs, "summary").result)
        assert (result.score, result.total) == (4, 5)
        assert [g.index for g in result.graded if not g.is_correct] == [1]


async def test_new_quiz_does_not_inherit_answers_and_old_buttons_are_stale(service, db):
    async with tutor_on(db, service, seed=7) as tutor:
        first = only(await run(tutor, text(f"/quiz {TOPIC}")), "question")
        second = only(await run(tutor, click(first, first.question.answer)), "question")
        outputs = await run(tutor, text("/quiz precision and recall"))
        assert "left unfinished" in only(outputs, "notice").text
        fresh = only(outputs, "question")
        assert fresh.quiz_id != first.quiz_id and fresh.index == 0
        state = await tutor.state(THREAD)
        assert state["quiz"].answers == [] and state["quiz"].quiz_id == fresh.quiz_id
        # A click on the abandoned quiz's button: a clear message, nothing graded, the same question waits.
        outputs = await run(tutor, click(second, "A"))
        assert kinds(outputs) == ["notice", "question"] and "earlier quiz" in outputs[0].text
        assert outputs[1] == fresh
        assert (await tutor.state(THREAD))["quiz"].answers == []
        assert await tutor.pending_question(THREAD) == fresh


async def test_double_click_and_tampered_answers_change_nothing(service, db):
    async with tutor_on(db, service, seed=11) as tutor:
        question = only(await run(tutor, text(f"/quiz {TOPIC}")), "question")
        # Two clicks at once: one is graded, the other finds the question answered.
        both = await asyncio.gather(run(tutor, click(question, "A")), run(tutor, click(question, "B")))
        feedbacks = [o for outputs in both for o in outputs if o.kind == "feedback"]
        notices = [o for outputs in both for o in outputs if o.kind == "notice"]
        assert len(feedbacks) == 1 and len(notices) == 1 and "already answered" in notices[0].text
        state = await tutor.state(THREAD)
        assert len(state["quiz"].answers) == 1
        pending = await tutor.pending_question(THREAD)
        future = AnswerClick(quiz_id=pending.quiz_id, index=3, letter="A")
        forged = AnswerClick(quiz_id="not-a-quiz", index=pending.index, letter="A")
        for event, phrase in ((future, "not open yet"), (forged, "earlier quiz")):
            outputs = await run(tutor, event)
            assert kinds(outputs) == ["notice", "question"] and phrase in outputs[0].text
        assert (await tutor.state(THREAD))["quiz"].answers == state["quiz"].answers
        assert await tutor.pending_question(THREAD) == pending


async def test_answers_before_any_quiz_and_typed_letters(service, db):
    async with tutor_on(db, service, seed=13) as tutor:
        for event in (text("B"), AnswerClick(quiz_id="x", index=0, letter="A")):
            outputs = await run(tutor, event)
            assert kinds(outputs) == ["notice"] and "no question waiting" in outputs[0].text
        assert (await tutor.state(THREAD)).get("quiz") is None
        question = only(await run(tutor, text(f"/quiz {TOPIC}")), "question")
        outputs = await run(tutor, text(f" {question.question.answer.lower()}. "))
        assert only(outputs, "feedback").graded.is_correct is True


async def test_explain_streams_grounded_text_and_quiz_me_on_this(service, db):
    async with tutor_on(db, service, seed=17) as tutor:
        outputs = await run(tutor, text("/explain What is overfitting?"))
        assert kinds(outputs)[0] == "explanation_start" and kinds(outputs)[-1] == "explanation_end"
        assert "".join(o.text for o in outputs if o.kind == "explanation_piece").strip()
        end = outputs[-1]
        assert end.sources and end.topic == "Overfitting"
        assert (await tutor.state(THREAD))["explained"] == "Overfitting"
        button = ActionClick(action="quiz_on", topic=end.topic, origin=end.origin, questions=3)
        outputs = await run(tutor, button)
        started = only(outputs, "quiz_started")
        assert started.topic == "Overfitting" and started.total == 3
        # A second click on the same button does not start (and reset) another quiz.
        question = only(outputs, "question")
        await run(tutor, click(question, "A"))
        outputs = await run(tutor, button)
        assert "already running" in only(outputs, "notice").text
        assert (await tutor.state(THREAD))["quiz"].quiz_id == started.quiz_id
        assert len((await tutor.state(THREAD))["quiz"].answers) == 1


async def test_explaining_mid_quiz_keeps_the_waiting_question(service, db):
    async with tutor_on(db, service, seed=19) as tutor:
        question = only(await run(tutor, text(f"/quiz {TOPIC}")), "question")
        question = only(await run(tutor, click(question, question.question.answer)), "question")
        outputs = await run(tutor, text("/explain regularisation"))
        assert kinds(outputs)[-1] == "question" and outputs[-1] == question
        outputs = await run(tutor, text("/help"))
        assert "Question 2 of 4 is waiting" in only(outputs, "help").text
        outputs = await run(tutor, click(question, question.question.answer))
        assert only(outputs, "feedback").graded.index == 1


async def test_retry_new_and_unknown_topics(service, db):
    async with tutor_on(db, service, seed=23) as tutor:
        outputs = await run(tutor, text("/retry"))
        assert "no finished quiz" in only(outputs, "notice").text
        outputs = await run(tutor, text("/quiz medieval poetry"))
        assert only(outputs, "notice").level == "warning" and (await tutor.state(THREAD)).get("quiz") is None
        question = only(await run(tutor, text(f"/quiz {TOPIC}", questions=3)), "question")
        quiz_id, missed = question.quiz_id, []
        while question is not None:
            letter = wrong(question) if question.index != 1 else question.question.answer
            if letter != question.question.answer:
                missed.append(question.question)
            outputs = await run(tutor, click(question, letter))
            question = next((o for o in outputs if o.kind == "question"), None)
        retry_button = ActionClick(action="retry", quiz_id=quiz_id, origin=f"{quiz_id}:retry")
        retry_outputs = await run(tutor, retry_button)
        assert only(retry_outputs, "quiz_started").retry is True
        assert "already running" in only(await run(tutor, retry_button), "notice").text  # double click
        retry = only(retry_outputs, "question")
        assert retry.total == 2 and retry.quiz_id != quiz_id
        state = await tutor.state(THREAD)
        retried = state["quiz"].questions
        assert [q.question for q in retried] == [q.question for q in missed]
        for old, new in zip(missed, retried):  # same options, correct text kept, letters reshuffled
            assert sorted(old.options) == sorted(new.options)
            assert old.options[LETTERS.index(old.answer)] == new.options[LETTERS.index(new.answer)]
        for _ in range(2):
            pending = await tutor.pending_question(THREAD)
            outputs = await run(tutor, click(pending, pending.question.answer))
        assert only(outputs, "summary").result.score == 2
        outputs = await run(tutor, text("/retry"))
        assert "nothing to retry" in only(outputs, "notice").text
        outputs = await run(tutor, retry_button)  # the first quiz's button, now older than the last quiz
        assert "older quiz" in only(outputs, "notice").text
        outputs = await run(tutor, text("/new"))
        started = only(outputs, "quiz_started")
        assert started.topic == "overfitting" and started.quiz_id != quiz_id


async def test_questions_are_written_ahead_while_the_student_thinks(service, db):
    async with tutor_on(db, service, seed=29) as tutor:
        question = only(await run(tutor, text(f"/quiz {TOPIC}", questions=4)), "question")
        key = (THREAD, question.quiz_id)
        for _ in range(200):
            if all(tutor.cache.peek((*key, i)) for i in (1, 2, 3)):
                break
            await asyncio.sleep(0.01)
        assert all(tutor.cache.peek((*key, i)) for i in (1, 2, 3))
        calls = []
        original = service.write_question
        service.write_question = lambda *a, **k: calls.append(a) or original(*a, **k)
        try:
            while (pending := await tutor.pending_question(THREAD)) is not None:
                await run(tutor, click(pending, "A"))
        finally:
            del service.write_question
        assert calls == []  # every later question came from the write-ahead cache


async def test_model_failures_become_messages_and_leave_state_intact(service, db):
    class Flaky:
        """A service whose planner and writer fail like a misbehaving model would."""

        def __init__(self, inner):
            self.inner, self.kb, self.runtime = inner, inner.kb, None
            self.fail_plan, self.fail_write_at = False, None

        def plan(self, *args, **kwargs):
            if self.fail_plan:
                raise RuntimeError("plan output did not validate")
            return self.inner.plan(*args)

        def write_question(self, plan, index, taken):
            if index == self.fail_write_at:
                raise RuntimeError("question output did not validate")
            return self.inner.write_question(plan, index, taken)

        def explain(self, question, topic=None):
            raise RuntimeError("model crashed")

    flaky = Flaky(service)
    async with tutor_on(db, flaky, seed=31, write_ahead=False) as tutor:
        flaky.fail_write_at = 2
        question = only(await run(tutor, text(f"/quiz {TOPIC}")), "question")
        flaky.fail_plan = True
        outputs = await run(tutor, text("/quiz precision"))
        assert "could not plan" in only(outputs, "notice").text
        assert outputs[-1] == question  # the running quiz is untouched
        with pytest.raises(RuntimeError):  # an unexpected failure ends the turn (the app shows one line) ...
            await run(tutor, text("/explain overfitting"))
        assert await tutor.pending_question(THREAD) == question  # ... and the quiz carries on
        for _ in range(2):
            pending = await tutor.pending_question(THREAD)
            outputs = await run(tutor, click(pending, pending.question.answer))
        assert "ends after 2 questions" in only(outputs, "notice").text
        result = only(outputs, "summary").result
        assert (result.score, result.total) == (2, 2)


async def test_a_quiz_beyond_its_concept_says_so_and_one_that_stays_does_not(service, db):
    # The Accuracy card holds 10 facts: a 15-question quiz must widen, and its intro must name the other concepts.
    async with tutor_on(db, service, seed=3) as tutor:
        widened = only(await run(tutor, text("/quiz accuracy", questions=15)), "quiz_started")
        kept = only(await run(tutor, text("/quiz accuracy", questions=3), thread="other"), "quiz_started")
    assert widened.note and "also covers" in widened.note
    assert kept.note is None
