"""The turn reader with the real embedded model (SmolLM2-135M + the shipped tutor adapter).

    HF_HUB_OFFLINE=1 PYTHONPATH=$PWD .venv/bin/python -m pytest -q -m model tests/integration/test_turn_reader_model.py

The rows are dev rows (evaluation/data/turns_dev.jsonl) with different intents and topics at different
word positions, so a model that always writes the first intent, or always points at word 1, fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.turns.reader import Reader
from evaluation.turn_scoring import load_rows, token_f1
from prompts.turns import TurnReading, message_spans, message_words

pytestmark = pytest.mark.model
DEV = Path(__file__).resolve().parents[2] / "evaluation" / "data" / "turns_dev.jsonl"
PICKED = (  # dev rows: eight intents, topics starting at words 2, 4 and 5
    "quiz me on overfitting", "Explian PCA", "can you explain the kernel trick?",
    "I think it's D", "retry the wrong ones", "show me my progress please", "export to anki", "thanks a lot",
    "what do I need to review?",
)


@pytest.fixture(scope="module")
def rows():
    by_text = {r.text: r for r in load_rows(DEV)}
    return [by_text[t] for t in PICKED]


@pytest.fixture(scope="module")
def runtime(embedded_lm):
    from llm.structured import StructuredRuntime

    return StructuredRuntime.for_model(embedded_lm)


def test_model_output_is_one_reading_line(runtime, rows):
    reader = Reader(runtime, "model")
    for row in rows[:3]:
        reading = reader.read_model(row.text, row.options)
        assert isinstance(reading, TurnReading), row.text
        assert reading.topic is None or reading.topic in message_spans(row.text)
    assert reader.failures == 0


def test_the_rows_defeat_constant_answers(rows):
    """The chosen rows differ in intent and topic position: no constant reading scores 7 of 9."""
    intents = [r.intent for r in rows]
    assert max(intents.count(i) for i in set(intents)) <= 2
    from evaluation.turn_scoring import expected_reading

    starts = {message_words(r.text).index(r.topic.split()[0]) for r in rows if r.topic}
    assert len(starts) >= 3


def test_model_reader_agrees_with_labels(runtime, rows):
    reader = Reader(runtime, "model")
    predicted = [reader(r.text, r.options) for r in rows]
    intent_hits = sum(p.intent == r.intent for p, r in zip(predicted, rows))
    topics = [token_f1(r.topic, p.topic) for p, r in zip(predicted, rows) if r.topic]
    letters = [p.letter == r.letter for p, r in zip(predicted, rows) if r.letter]
    assert intent_hits >= 8, [p.intent for p in predicted]
    assert sum(topics) / len(topics) >= 0.8 and all(letters)
