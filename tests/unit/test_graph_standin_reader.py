"""The rules-only stand-in turn reader (deleted at merge with agent/graph/standin_reader.py).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_graph_standin_reader.py -q
"""

from __future__ import annotations

import pytest

from agent.graph.standin_reader import read_turn

OPTIONS = ["It memorises noise", "It generalises well", "Lower bias", "More data"]


@pytest.mark.parametrize(
    "text, options, expected",
    [
        ("Can you test me on precision and recall? 5 questions, hard ones", None,
         {"intent": "quiz", "topic": "precision and recall", "questions": 5, "difficulty": "hard"}),
        ("Give me a 10-question quiz on gradient descent", None,
         {"intent": "quiz", "topic": "gradient descent", "questions": 10}),
        ("another quiz on the same topic", None, {"intent": "quiz", "same_topic": True}),
        ("I think it's B", OPTIONS, {"intent": "answer", "letter": "B"}),
        ("My answer: D", OPTIONS, {"intent": "answer", "letter": "D"}),
        ("is it the second one? B", OPTIONS, {"intent": "answer", "letter": "B"}),
        ("it generalises well", OPTIONS, {"intent": "answer", "letter": "B"}),
        ("A decision tree splits data", OPTIONS, {"intent": "explain"}),
        ("thanks!", None, {"intent": "smalltalk"}),
        ("what can you do?", None, {"intent": "help"}),
        ("Can I retry the ones I got wrong?", None, {"intent": "retry"}),
        ("Can you explain the bias-variance trade-off?", None,
         {"intent": "explain", "topic": "bias-variance trade-off"}),
    ],
)
def test_rules_read_the_issue_messages(text, options, expected):
    turn = read_turn(text, options)
    assert turn.model_dump(exclude_defaults=True) == expected
    assert turn.topic is None or turn.topic in text  # a span, never invented
