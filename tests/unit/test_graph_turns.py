"""The chat acts on the TurnRequest (issue 12 item 5): the graph end to end with a fake reader.

The reader is scripted (text -> TurnRequest), so these tests check what the graph does with a
request, not how a request is read: counts and difficulty in a message win over the chat settings,
"the same topic" reuses the last quiz's topic, answers in words are graded, small talk and
not-yet-built requests get one line, explanations get the question and the topic.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_graph_turns.py -q
"""

from __future__ import annotations

import pytest

from agent.graph.events import TextTurn
from agent.graph.runner import Tutor
from agent.quiz.service import TutorService
from schemas import LETTERS
from schemas.turn import TurnRequest

THREAD = "t"
ISSUE_12 = "Can you test me on precision and recall? 5 questions, hard ones"


class Reader:
    """Scripted reader: a TurnRequest per text, or a function of (text, options); records its calls."""

    def __init__(self, script):
        self.script, self.calls = script, []

    def __call__(self, text, options=None):
        self.calls.append((text, options))
        found = self.script[text]
        return found(text, options) if callable(found) else found


class Recording:
    """The real service, with its explain() calls recorded."""

    def __init__(self, inner):
        self.inner, self.kb, self.runtime, self.explained = inner, inner.kb, None, []

    def plan(self, *args, **kwargs):
        return self.inner.plan(*args)

    def write_question(self, *args):
        return self.inner.write_question(*args)

    def explain(self, question, topic=None):
        self.explained.append((question, topic))
        return self.inner.explain(question, topic)


@pytest.fixture(scope="module")
def service(knowledge_base):
    return TutorService(knowledge_base, lm=None)


async def run(tutor, text, questions=4, difficulty="medium"):
    return [o async for o in tutor.turn(THREAD, TextTurn(text=text, questions=questions, difficulty=difficulty))]


def only(outputs, kind):
    found = [o for o in outputs if o.kind == kind]
    assert len(found) == 1, [o.kind for o in outputs]
    return found[0]


async def test_issue_12_sentence_starts_a_5_question_hard_quiz_and_a_worded_letter_is_graded(service, tmp_path):
    reader = Reader({
        ISSUE_12: TurnRequest(intent="quiz", topic="precision and recall", questions=5, difficulty="hard"),
        "I think it's B": TurnRequest(intent="answer", letter="B"),
    })
    async with Tutor.open(tmp_path / "g.sqlite", service, read_turn=reader, seed=1) as tutor:
        outputs = await run(tutor, ISSUE_12, questions=10, difficulty="easy")  # the settings say 10, easy
        started = only(outputs, "quiz_started")
        assert (started.topic, started.total, started.difficulty) == ("precision and recall", 5, "hard")
        question = only(outputs, "question")
        assert (question.index, question.total, question.topic) == (0, 5, "precision and recall")
        assert (await tutor.state(THREAD))["quiz"].meta.difficulty == "hard"

        outputs = await run(tutor, "I think it's B")
        graded = only(outputs, "feedback").graded
        assert (graded.index, graded.chosen) == (0, "B")
        assert graded.is_correct == (question.question.answer == "B")
        assert reader.calls[-1] == ("I think it's B", list(question.question.options))  # options of the waiting one
        assert only(outputs, "question").index == 1


async def test_answers_in_words_are_graded_and_answers_without_a_question_are_told_so(service, tmp_path):
    def by_words(text, options):  # what a reader does with an option's words: give its letter
        return TurnRequest(intent="answer", letter=LETTERS[options.index(text)] if options else None)

    reader = Reader({"I think it's B": TurnRequest(intent="answer", letter="B"),
                     "the second one maybe": TurnRequest(intent="answer")})
    async with Tutor.open(tmp_path / "g.sqlite", service, read_turn=reader, seed=2) as tutor:
        outputs = await run(tutor, "I think it's B")
        assert [o.kind for o in outputs] == ["notice"] and "no question waiting" in outputs[0].text
        assert reader.calls == [("I think it's B", None)] and (await tutor.state(THREAD)).get("quiz") is None

        question = only(await run(tutor, "/quiz overfitting"), "question")
        correct = question.question.options[LETTERS.index(question.question.answer)]
        outputs = await run(tutor, "the second one maybe")  # an answer the reader could not pin to a letter
        assert "To answer" in only(outputs, "notice").text and outputs[-1] == question
        reader.script[correct] = by_words
        graded = only(await run(tutor, correct), "feedback").graded
        assert graded.is_correct and graded.chosen == question.question.answer


async def test_same_topic_reuses_the_last_quiz_and_settings_apply_without_a_count(service, tmp_path):
    reader = Reader({"another quiz on the same topic": TurnRequest(intent="quiz", same_topic=True),
                     "quiz me": TurnRequest(intent="quiz")})
    async with Tutor.open(tmp_path / "g.sqlite", service, read_turn=reader, seed=3) as tutor:
        outputs = await run(tutor, "quiz me")
        assert "Which topic" in only(outputs, "notice").text
        first = only(await run(tutor, "/quiz overfitting", questions=3), "quiz_started")
        outputs = await run(tutor, "another quiz on the same topic", questions=2, difficulty="easy")
        again = only(outputs, "quiz_started")
        assert (again.topic, again.total, again.difficulty) == ("overfitting", 2, "easy")
        assert again.quiz_id != first.quiz_id and "left unfinished" in only(outputs, "notice").text


async def test_small_talk_and_study_requests_without_a_student_get_one_line_and_the_quiz_waits(service, tmp_path):
    reader = Reader({"thanks!": TurnRequest(intent="smalltalk"), "what should I review?": TurnRequest(intent="review"),
                     "export my quizzes to anki": TurnRequest(intent="export")})
    async with Tutor.open(tmp_path / "g.sqlite", service, read_turn=reader, seed=4) as tutor:  # no study companion
        question = only(await run(tutor, "/quiz overfitting"), "question")
        for text, opening in (("thanks!", "You're welcome!"), ("what should I review?", "Your study history"),
                              ("export my quizzes to anki", "Your study history")):
            outputs = await run(tutor, text)
            assert [o.kind for o in outputs] == ["help", "question"] and outputs[-1] == question
            reply = outputs[0].text
            assert reply.startswith(opening) and ("I can explain" in reply) == (text == "thanks!")
            assert "not available yet" not in reply
        assert (await tutor.state(THREAD))["quiz"].answers == []


async def test_explain_passes_the_question_and_the_topic(service, tmp_path):
    text = "Can you explain the bias-variance trade-off?"
    reader = Reader({text: TurnRequest(intent="explain", topic="bias-variance trade-off")})
    recording = Recording(service)
    async with Tutor.open(tmp_path / "g.sqlite", recording, read_turn=reader, seed=5) as tutor:
        outputs = await run(tutor, text)
        assert only(outputs, "explanation_start").question == text
        await run(tutor, "/explain What is dropout?")
    assert recording.explained == [(text, "bias-variance trade-off"), ("What is dropout?", None)]


async def test_unknown_commands_get_help_with_a_note(service, tmp_path):
    async with Tutor.open(tmp_path / "g.sqlite", service, read_turn=Reader({}), seed=6) as tutor:
        help_text = only(await run(tutor, "/qiuz trees"), "help").text
        assert help_text.startswith("I don't know the command `/qiuz`.") and "/quiz TOPIC" in help_text
