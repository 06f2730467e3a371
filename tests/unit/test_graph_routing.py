"""Routing of student turns (pure, milliseconds).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_graph_routing.py -q
"""

from __future__ import annotations

import pytest

from agent.graph.routing import (
    UNKNOWN_COMMAND,
    keyword_intent,
    parse_command,
    reconcile,
    route_intent,
    route_next,
    single_letter,
    understand_event,
)
from agent.graph.state import Event


@pytest.mark.parametrize(
    "text, expected",
    [
        ("/quiz overfitting", ("quiz", "overfitting")),
        ("  /QUIZ   bias variance  ", ("quiz", "bias variance")),
        ("/explain What is dropout?", ("explain", "What is dropout?")),
        ("/new", ("new_quiz", "")),
        ("/new precision", ("new_quiz", "precision")),
        ("/retry", ("retry", "")),
        ("/help", ("help", "")),
        ("what is /quiz", None),
        ("plain text", None),
    ],
)
def test_parse_command(text, expected):
    assert parse_command(text) == expected


def test_unknown_command_is_help_with_a_sanitised_name():
    intent, argument = parse_command("/qu<script>iz topic")
    assert intent == "help"
    assert argument == UNKNOWN_COMMAND + "/quscriptiz"


@pytest.mark.parametrize("text, letter", [("b", "B"), (" C. ", "C"), ("(a)", "A"), ("D)", "D"), ("E", None),
                                          ("AB", None), ("a dog", None), ("", None)])
def test_single_letter(text, letter):
    assert single_letter(text) == letter


def test_keyword_intent():
    assert keyword_intent("Please quiz me on trees") == "quiz"
    assert keyword_intent("test me, please!") == "quiz"
    assert keyword_intent("Why does dropout help?") == "explain"


def _text(text: str) -> Event:
    return Event(kind="text", text=text)


def test_buttons_route_without_the_classifier():
    def classify(text):  # pragma: no cover - must not be called
        raise AssertionError("classifier called for a button")

    answer = Event(kind="answer", quiz_id="q1", index=2, letter="C")
    assert understand_event(answer, classify) == ("answer", "C")
    assert understand_event(Event(kind="action", action="quiz_on", text=" Overfitting "), classify) == (
        "quiz", "Overfitting")
    assert understand_event(Event(kind="action", action="new_quiz", text=""), classify) == ("new_quiz", "")
    assert understand_event(Event(kind="action", action="retry"), classify) == ("retry", "")
    assert understand_event(_text("/quiz trees"), classify) == ("quiz", "trees")
    assert understand_event(_text(" b "), classify) == ("answer", "B")


@pytest.mark.parametrize("label, expected", [("explain", "explain"), ("other", "other"), ("quiz", "explain"),
                                             ("answer", "explain")])
def test_free_text_follows_the_classifier_within_guard_rails(label, expected):
    seen = []

    def classify(text):
        seen.append(text)
        return label

    assert understand_event(_text("  tell me   about trees "), classify) == (expected, "tell me about trees")
    assert seen == ["tell me about trees"]


def test_asking_to_be_tested_is_a_quiz_without_asking_the_model():
    def classify(text):  # pragma: no cover - must not be called
        raise AssertionError("classifier called")

    assert understand_event(_text("quiz me on trees"), classify) == ("quiz", "quiz me on trees")


@pytest.mark.parametrize("label", [None, "explain", "quiz", "answer", "other"])
def test_reconcile_keeps_quiz_requests_and_never_starts_an_unasked_quiz(label):
    assert reconcile(label, "quiz") == "quiz"
    assert reconcile(label, "explain") == {"other": "other"}.get(label, "explain")


def test_classifier_failure_or_garbage_falls_back():
    def broken(text):
        raise RuntimeError("model fell over")

    assert understand_event(_text("quiz me on trees"), broken)[0] == "quiz"
    assert understand_event(_text("Why trees?"), lambda t: "banana")[0] == "explain"
    assert understand_event(_text("Why trees?"), None)[0] == "explain"
    assert understand_event(_text("   "), None) == ("other", "")


@pytest.mark.parametrize(
    "intent, node",
    [("explain", "explain"), ("quiz", "plan_quiz"), ("new_quiz", "plan_quiz"), ("retry", "prepare_retry"),
     ("answer", "grade"), ("help", "show_help"), ("other", "show_help")],
)
def test_route_intent(intent, node):
    assert route_intent({"intent": intent}) == node


def _quiz(total, written, answered):
    return {"quiz_id": "q", "total": total, "questions": [{}] * written, "answers": [{}] * answered}


def test_route_next():
    assert route_next({}) == "__end__"
    assert route_next({"quiz": None}) == "__end__"
    assert route_next({"quiz": _quiz(3, 0, 0)}) == "write_question"
    assert route_next({"quiz": _quiz(3, 1, 0)}) == "present_question"
    assert route_next({"quiz": _quiz(3, 3, 1)}) == "present_question"
    assert route_next({"quiz": _quiz(3, 1, 1)}) == "write_question"
    assert route_next({"quiz": _quiz(3, 3, 3)}) == "summarise"
