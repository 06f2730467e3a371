"""The reader's prompt and one-line answer format (pure): the per-message grammar, span cutting, line round trips.

    PYTHONPATH=$PWD python -m pytest -q tests/unit/test_turn_format.py
"""

from __future__ import annotations

import re

import pytest

from prompts.turns import (MAX_TOPIC_WORDS, MAX_WORDS, READING_PATTERN, TurnReading, clean_text, cut_span, find_span,
                           message_spans, message_words, reading_pattern, turn_messages)


@pytest.mark.parametrize("reading, line", [
    (TurnReading(intent="quiz", topic="precision and recall", questions=5, difficulty="hard"),
     'quiz "precision and recall" q5 hard'),
    (TurnReading(intent="answer", letter="B"), "answer B"),
    (TurnReading(intent="quiz", same_topic=True, difficulty="easy"), "quiz same easy"),
    (TurnReading(intent="quiz", topic="k-means", source="notes", questions=20), 'quiz "k-means" notes q20'),
    (TurnReading(intent="smalltalk"), "smalltalk"),
])
def test_line_round_trip(reading, line):
    assert reading.line() == line
    assert re.fullmatch(READING_PATTERN, line)
    assert TurnReading.parse(line) == reading


@pytest.mark.parametrize("line", ['quiz ""', 'quiz "a" "b"', "quiz q21", "answer E", "explain", "chat", "quiz 4-5",
                                  "quiz hard q5", 'quiz q5 "dropout"'])
def test_lines_outside_the_format_are_refused(line):
    if line == "explain":
        assert TurnReading.parse(line).intent == "explain"
        return
    with pytest.raises(ValueError):
        TurnReading.parse(line)


def test_prompt_shows_the_cleaned_words_and_options():
    user = turn_messages("quiz me on <b>overfitting</b>", ["a", "b", "c", "d"])[-1]["content"]
    assert "Message: quiz me on overfitting\n" in user
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


def test_the_grammar_admits_only_the_message_own_spans():
    text = "Can you test me on precision and recall? 5 questions, hard ones"
    pattern = reading_pattern(text)
    assert re.fullmatch(pattern, 'quiz "precision and recall" q5 hard')
    assert re.fullmatch(pattern, "quiz q5 hard")
    assert not re.fullmatch(pattern, 'quiz "precision and accuracy" q5 hard')  # not in the message: refused
    assert not re.fullmatch(pattern, 'quiz "the precision" q5')  # a leading article is never part of a topic
    assert "recall" in message_spans(text) and "recall?" not in message_spans(text)
    assert max(len(s.split()) for s in message_spans("w " * 30)) == MAX_TOPIC_WORDS
    assert re.fullmatch(reading_pattern(""), "help")
