"""Streaming in whole sentences: an answer never stops mid-sentence (pure, no model).

    HF_HUB_OFFLINE=1 PYTHONPATH=$PWD .venv/bin/python -m pytest tests/unit/test_explain_sentences.py -q
"""

from __future__ import annotations

import pytest

from agent.explain.sentences import complete_sentences, ends_cleanly, join_sentences, split_complete


def pieces(text: str, size: int = 3) -> list[str]:
    """``text`` as a token-like stream of small pieces."""
    return [text[i : i + size] for i in range(0, len(text), size)]


def test_a_trailing_fragment_is_dropped():
    text = "Bias is error from simple assumptions. Variance is error from sensitivity. The irreducible"
    assert list(complete_sentences(pieces(text))) == [
        "Bias is error from simple assumptions.", "Variance is error from sensitivity."]


@pytest.mark.parametrize("size", [1, 2, 5, 100])
def test_sentences_come_out_whole_whatever_the_piece_size(size):
    text = "Dropout zeroes units at random, e.g. half of them. At test time nothing is dropped! Why? Scaling."
    assert list(complete_sentences(pieces(text, size))) == [
        "Dropout zeroes units at random, e.g. half of them.", "At test time nothing is dropped!", "Why?", "Scaling."]


def test_decimals_abbreviations_and_list_numbers_do_not_end_a_sentence():
    text = "The loss is 0.69 vs. 1.2 for a coin.\n1. Assign points. Precision is 0.8."
    done, rest = split_complete(text, final=True)
    assert done == ["The loss is 0.69 vs. 1.2 for a coin.", "1. Assign points.", "Precision is 0.8."]
    assert rest == ""


def test_a_full_stop_at_the_end_of_the_buffer_waits_for_the_next_piece():
    # "0." might continue as "0.5": only the end of the stream (final) or a space closes it.
    assert split_complete("The probability is 0.") == ([], "The probability is 0.")
    assert split_complete("The probability is 0.", final=True) == (["The probability is 0."], "")
    assert list(complete_sentences(["The probability is 0.", "5 here."])) == ["The probability is 0.5 here."]


def test_closing_quotes_and_brackets_stay_with_their_sentence():
    text = 'It is called "inertia." (It is a sum.) Next'
    assert list(complete_sentences(pieces(text))) == ['It is called "inertia."', "(It is a sum.)"]


def test_max_sentences_stops_and_closes_the_source():
    closed = []

    def source():
        try:
            yield from pieces("One. Two. Three. Four. Five.")
        finally:
            closed.append(True)

    assert list(complete_sentences(source(), max_sentences=2)) == ["One.", "Two."]
    assert closed == [True]


def test_a_stream_with_no_sentence_end_yields_nothing():
    assert list(complete_sentences(pieces("the the the the the the the"))) == []


@pytest.mark.parametrize("text, clean", [
    ("Dropout zeroes units. It regularises.", True),
    ("It is called inertia.\"", True),
    ("The irreducible", False),
    ("Bias falls. The irreducible", False),
    ("", False),
    ("   .", False),
    ("Use e.g.", False),
])
def test_ends_cleanly(text, clean):
    assert ends_cleanly(text) is clean


def test_join_sentences_spaces_them():
    assert "".join(join_sentences(["A b.", "C d."])) == "A b. C d."


@pytest.mark.parametrize("text, sentence", [
    ('They are called regression tasks."}', "They are called regression tasks."),
    ("It is **inertia.**", "It is **inertia.**"),
    ("It is inertia.*", "It is inertia."),
    ('He said "stop."', 'He said "stop."'),
    ("(It is a sum.))", "(It is a sum.)"),
])
def test_stray_closing_marks_are_dropped(text, sentence):
    assert list(complete_sentences(pieces(text))) == [sentence]
