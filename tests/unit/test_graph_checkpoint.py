"""Checkpoint storage of the typed state: round trip, the class allowlist, upgrade of older checkpoints (pure).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_graph_checkpoint.py -q
"""

from __future__ import annotations

from agent.graph.checkpoint import StateSerializer, shown_question, upgrade
from agent.graph.events import QuestionShown, TextTurn
from agent.graph.state import ActiveQuiz, LastQuiz
from agent.grading import grade, summarise
from schemas import MultipleChoiceQuestion, Quiz, QuizMeta, StudentAnswer
from schemas.turn import TurnRequest

QUESTION = MultipleChoiceQuestion(question="What is thing number 1?", options=["a", "b", "c", "d"], answer="C",
                                  concept="Things", source="card:things")
META = QuizMeta(quiz_id="q1", model="m", seed=1, requested=2)


def _quiz() -> ActiveQuiz:
    return ActiveQuiz(quiz_id="q1", topic="things", total=2, plan=None, meta=META, questions=[QUESTION], started=1.0)


def _last() -> LastQuiz:
    quiz = Quiz(topic="things", questions=[QUESTION], meta=META)
    return LastQuiz(quiz=quiz, result=summarise(quiz, [grade(quiz, StudentAnswer(quiz_id="q1", index=0, letter="A"))]))


def test_typed_state_round_trips_and_only_the_state_classes_are_rebuilt():
    serde = StateSerializer()
    values = {"quiz": _quiz(), "last": _last(), "event": TextTurn(text="hi"), "turn": TurnRequest(intent="smalltalk"),
              "foreign": QUESTION}  # a Pydantic class the state never holds at the top level
    loaded = serde.loads_typed(serde.dumps_typed({"channel_values": values}))["channel_values"]
    for key in ("quiz", "last", "event", "turn"):
        assert type(loaded[key]) is type(values[key]) and loaded[key] == values[key]
    assert loaded["foreign"] == QUESTION.model_dump()  # not rebuilt: stays a plain dict


def test_older_dict_checkpoints_are_upgraded_in_place():
    old_quiz = _quiz().model_dump(exclude={"provenance"})  # the pre-typed record had no provenance at first
    old_event = {"kind": "action", "text": "things", "action": "quiz_on", "quiz_id": None, "index": None,
                 "letter": None, "origin": None, "questions": 10, "difficulty": "medium"}
    values = upgrade({"quiz": old_quiz, "last": _last().model_dump(), "event": old_event, "quizzes": 2})
    assert values["quiz"] == _quiz() and values["last"] == _last() and values["quizzes"] == 2
    assert "event" not in values  # the next turn's event replaces it
    assert upgrade({"quiz": {"topic": "broken"}})["quiz"] is None  # unreadable: dropped, the thread goes on
    typed = {"quiz": _quiz()}
    assert upgrade(typed)["quiz"] is typed["quiz"]


def test_interrupt_values_of_older_checkpoints_become_typed_questions():
    shown = QuestionShown(quiz_id="q1", index=0, total=2, topic="things", question=QUESTION)
    assert shown_question(shown) is shown
    assert shown_question(shown.model_dump()) == shown
