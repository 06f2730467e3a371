"""The reader's prompt and one-line answer format (pure): numbering, span cutting, line round trips.

    PYTHONPATH=$PWD python -m pytest -q tests/unit/test_turn_format.py
"""

from __future__ import annotations

import re

import pytest

from prompts.turns import (MAX_WORDS, READING_PATTERN, TurnReading, clean_text, cut_span, find_span, message_words,
                           turn_messages)


@pytest.mark.parametrize("reading, line", [
    (TurnReading(intent="quiz", start=6, end=8, questions=5, difficulty="hard"), "quiz 6-8 q5 hard"),
    (TurnReading(intent="answer", letter="B"), "answer B"),
    (TurnReading(intent="quiz", same_topic=True, difficulty="easy"), "quiz same easy"),
    (TurnReading(intent="quiz", start=12, end=13, source="notes", questions=20), "quiz 12-13 notes q20"),
    (TurnReading(intent="smalltalk"), "smalltalk"),
])
def test_line_round_trip(reading, line):
    assert reading.line() == line
    assert re.fullmatch(READING_PATTERN, line)
    assert TurnReading.parse(line) == reading


@pytest.mark.parametrize("line", ["quiz 0-2", "quiz 5-3", "quiz q21", "answer E", "explain", "chat", "quiz 41-41",
                                  "quiz hard q5"])
def test_lines_outside_the_format_are_refused(line):
    if line == "explain":
        assert TurnReading.parse(line).intent == "explain"
        return
    with pytest.raises(ValueError):
        TurnReading.parse(line)


def test_prompt_numbers_the_cleaned_words_and_shows_options():
    user = turn_messages("quiz me on <b>overfitting</b>", ["a", "b", "c", "d"])[-1]["content"]
    assert "1:quiz 2:me 3:on 4:overfitting" in user
    assert "A) a B) b C) c D) d" in user
    assert "Question waiting: none" in turn_messages("hi")[-1]["content"]


def test_span_cut_and_find():
    words = message_words("Can you explain the bias-variance trade-off?")
    assert find_span(words, "bias-variance trade-off") == (5, 6)
    assert cut_span(words, 4, 6) == "bias-variance trade-off"  # the article goes, the "?" goes
    assert cut_span(words, 3, 7) is None and cut_span(words, 2, 1) is None


def test_long_messages_are_cut_and_markup_goes():
    assert len(message_words("word " * 100)) == MAX_WORDS
    assert clean_text("a <i>b</i> &amp;  c\x00") == "a b & c"
