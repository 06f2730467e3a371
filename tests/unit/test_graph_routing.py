"""Routing of student turns: buttons and commands -> TurnRequest, free text -> the reader, intent -> node (pure).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_graph_routing.py -q
"""

from __future__ import annotations

import time

import pytest

from agent.graph import replies
from agent.graph.events import ActionClick, AnswerClick, TextTurn
from agent.graph.nodes import quiz_topic
from agent.graph.graph import build_graph
from agent.graph.routing import (
    HANDLERS, export_request, from_click, parse_command, route_intent, route_next, single_letter, understand_turn,
)
from agent.graph.state import ActiveQuiz
from schemas import INTENTS, MultipleChoiceQuestion, QuizMeta
from schemas.turn import TurnRequest

OPTIONS = ["It memorises noise", "It generalises well", "Lower bias", "More data"]


def never(text, options=None):  # pragma: no cover - must not be called
    raise AssertionError(f"reader called for {text!r}")


@pytest.mark.parametrize(
    "text, turn, message",
    [
        ("/quiz overfitting", TurnRequest(intent="quiz", topic="overfitting"), "overfitting"),
        ("  /QUIZ   bias  variance  ", TurnRequest(intent="quiz", topic="bias variance"), "bias variance"),
        ("/quiz", TurnRequest(intent="quiz"), ""),
        ("/explain What is dropout?", TurnRequest(intent="explain"), "What is dropout?"),
        ("/new", TurnRequest(intent="quiz", same_topic=True), ""),
        ("/new precision", TurnRequest(intent="quiz", topic="precision"), "precision"),
        ("/retry", TurnRequest(intent="retry"), ""),
        ("/help", TurnRequest(intent="help"), ""),
        ("/review", TurnRequest(intent="review"), ""),
        ("/Progress", TurnRequest(intent="progress"), ""),
        ("/export", TurnRequest(intent="export"), ""),
        ("/export  due   markdown", TurnRequest(intent="export"), "due markdown"),
    ],
)
def test_commands_map_to_requests(text, turn, message):
    assert parse_command(text) == (turn, message, None)


def test_text_that_is_not_a_command_and_unknown_commands():
    assert parse_command("what is /quiz") is None and parse_command("plain text") is None
    turn, _, note = parse_command("/qu<script>iz topic")
    assert turn == TurnRequest(intent="help") and note == "I don't know the command `/quscriptiz`."
    long = parse_command("/quiz " + "word " * 100).turn.topic
    assert len(long) <= 200 and long.startswith("word word")
    assert parse_command("/") == (TurnRequest(intent="help"), "", "I don't know the command `/`.")
    assert parse_command("/" + "q" * 50).note == f"I don't know the command `/{'q' * 40}`."


@pytest.mark.parametrize("text, letter", [("b", "B"), (" C. ", "C"), ("(a)", "A"), ("D)", "D"), ("E", None),
                                          ("AB", None), ("a dog", None), ("", None),
                                          ("BX", None), ("(x)", None)])  # only punctuation is stripped
def test_single_letter(text, letter):
    assert single_letter(text) == letter


def test_buttons_commands_and_lone_letters_never_reach_the_reader():
    assert understand_turn(AnswerClick(quiz_id="q1", index=2, letter="C"), never, OPTIONS).turn == TurnRequest(
        intent="answer", letter="C")
    quiz_on = understand_turn(ActionClick(action="quiz_on", topic=" Over  fitting "), never, None)
    assert quiz_on.turn == TurnRequest(intent="quiz", topic="Over fitting")
    assert understand_turn(ActionClick(action="new_quiz"), never, None).turn == TurnRequest(intent="quiz",
                                                                                            same_topic=True)
    assert understand_turn(ActionClick(action="new_quiz", topic="trees"), never, None).turn.same_topic is False
    assert understand_turn(ActionClick(action="retry", quiz_id="q"), never, None).turn == TurnRequest(intent="retry")
    assert understand_turn(TextTurn(text="/quiz trees"), never, None).turn.topic == "trees"
    assert understand_turn(TextTurn(text=" b "), never, OPTIONS) == (TurnRequest(intent="answer", letter="B"), "b", None)
    empty = understand_turn(TextTurn(text="   "), never, None)
    assert empty == (TurnRequest(intent="help"), "", "Please type a question or a command.")


def test_free_text_goes_to_the_reader_with_the_waiting_options():
    calls = []

    def reader(text, options=None):
        calls.append((text, options))
        return TurnRequest(intent="answer", letter="A")

    understood = understand_turn(TextTurn(text="  it   memorises noise "), reader, OPTIONS)
    assert understood.turn == TurnRequest(intent="answer", letter="A") and understood.message == "it memorises noise"
    understand_turn(TextTurn(text="what is dropout?"), reader, None)
    assert calls == [("it memorises noise", OPTIONS), ("what is dropout?", None)]


def test_a_failing_reader_does_not_lose_the_turn(caplog):
    def broken(text, options=None):
        raise RuntimeError("model fell over")

    understood = understand_turn(TextTurn(text="Why trees?"), broken, None)
    assert understood.turn.intent == "explain" and understood.message == "Why trees?"
    assert [r.getMessage() for r in caplog.records] == ["the turn reader failed"]  # logged with its traceback
    assert caplog.records[0].exc_info[1].args == ("model fell over",)


def test_every_intent_of_the_vocabulary_has_a_node():
    assert set(HANDLERS) == set(INTENTS)
    expected = {"explain": "explain", "quiz": "plan_quiz", "retry": "prepare_retry", "answer": "grade",
                "help": "show_help", "smalltalk": "reply", "review": "plan_review", "progress": "show_progress",
                "export": "export_history"}
    nodes = set(build_graph().get_graph().nodes)
    for intent, node in expected.items():
        assert route_intent({"turn": TurnRequest(intent=intent)}) == node and node in nodes
    assert route_intent({}) == "show_help"


@pytest.mark.parametrize("message, wanted", [
    ("", ("history", "anki")), ("markdown", ("history", "markdown")), ("due json", ("due", "json")),
    ("quizzes md", ("quizzes", "markdown")), ("export my answers as an Anki deck, please", ("history", "anki")),
    ("Could you export my quizzes in JSON?", ("quizzes", "json")), ("pdf", ("history", "anki")),
    ("JSONX DUEX", ("history", "anki")),  # only punctuation is stripped from a word, never letters
])
def test_export_request_reads_what_and_format_from_the_words(message, wanted):
    assert export_request(message) == wanted


def test_the_review_button_is_a_review_request():
    assert from_click(ActionClick(action="review", origin="starter")).turn == TurnRequest(intent="review")


def _question(n: int) -> MultipleChoiceQuestion:
    return MultipleChoiceQuestion(question=f"What is thing number {n}?", options=OPTIONS, answer="A", concept="C")


def _quiz(total: int, written: int, answered: int, topic: str = "trees") -> ActiveQuiz:
    from schemas import GradedAnswer

    graded = GradedAnswer(index=0, question="What is thing number 0?", chosen="A", correct="A", is_correct=True,
                          correct_option="x", chosen_option="x", concept="C")
    return ActiveQuiz(quiz_id="q", topic=topic, total=total, plan=None, meta=QuizMeta(quiz_id="q", model="m", seed=1),
                      questions=[_question(n) for n in range(written)], answers=[graded] * answered,
                      started=time.time())


def test_route_next():
    assert route_next({}) == "__end__"
    assert route_next({"quiz": None}) == "__end__"
    assert route_next({"quiz": _quiz(3, 0, 0)}) == "write_question"
    assert route_next({"quiz": _quiz(3, 1, 0)}) == "present_question"
    assert route_next({"quiz": _quiz(3, 3, 1)}) == "present_question"
    assert route_next({"quiz": _quiz(3, 1, 1)}) == "write_question"
    assert route_next({"quiz": _quiz(3, 3, 3)}) == "summarise"


def test_quiz_topic_named_same_or_none():
    running = _quiz(3, 1, 0, topic="trees")
    named = TurnRequest(intent="quiz", topic="dropout")
    same = TurnRequest(intent="quiz", same_topic=True)
    bare = TurnRequest(intent="quiz")
    assert quiz_topic({"turn": named, "quiz": running, "explained": "Overfitting"}) == "dropout"
    assert quiz_topic({"turn": same, "quiz": running, "explained": "Overfitting"}) == "trees"
    assert quiz_topic({"turn": same, "explained": "Overfitting"}) == "Overfitting"  # no quiz yet
    assert quiz_topic({"turn": bare, "quiz": running, "explained": "Overfitting"}) == "Overfitting"  # explained since
    assert quiz_topic({"turn": bare, "quiz": running, "explained": None}) == "trees"
    assert quiz_topic({"turn": bare}) is None


def test_small_talk_gets_one_line_plus_what_the_tutor_can_do():
    assert replies.small_talk("thanks!").startswith("You're welcome!")
    assert replies.small_talk("hello").startswith("Hello!")
    assert replies.small_talk("nice weather").startswith("I'm your machine-learning tutor.")
    text = replies.small_talk("thanks!")
    assert text.endswith(replies.CAN_DO) and "\n" not in text
    assert all(f"`/{c}" in replies.HELP for c in ("review", "progress", "export")) and "not available" not in text
    assert replies.waiting_line(_quiz(4, 2, 1)).strip() == "Question 2 of 4 is waiting for your answer."
    assert replies.waiting_line(None) == ""
