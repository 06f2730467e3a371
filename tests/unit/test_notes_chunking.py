"""Chunking notes (sizes, headings, never mid-word) and splitting sentences (pure).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_notes_chunking.py -q
"""

from __future__ import annotations

import random

import pytest

from knowledge.chunking import ChunkConfig, chunk_text, split_sentences

CONFIG = ChunkConfig()


def section(title: str, sentence: str, repeat: int) -> str:
    return f"## {title}\n\n" + " ".join([sentence] * repeat) + "\n"


def test_small_sections_are_packed_and_big_ones_split_at_sentences():
    text = "# Week 5\n\n" + section("Dropout", "Dropout zeroes units at random.", 3) + "\n" + \
        section("Early stopping", "Early stopping watches the validation loss closely.", 60)
    chunks = chunk_text(text, CONFIG)
    assert all(len(c) <= CONFIG.max_chars for c in chunks)
    assert chunks[0].startswith("# Week 5") and "## Dropout" in chunks[0]
    later = chunks[1:]
    assert len(later) >= 3 and all(c.startswith("## Early stopping") for c in later)
    assert all(c.rstrip().endswith("closely.") for c in later)  # cut between sentences
    assert all(len(c) >= CONFIG.min_chars for c in chunks[1:-1])


def test_a_new_section_starts_a_new_chunk_once_the_current_one_is_big_enough():
    text = section("First", "A sentence about the first topic goes here.", 14) + "\n" + \
        section("Second", "Another sentence about a second topic.", 3)
    chunks = chunk_text(text, CONFIG)
    assert len(chunks) == 2 and chunks[1].startswith("## Second") and "## Second" not in chunks[0]


def test_no_chunk_ends_with_a_dangling_heading():
    text = "# Intro\n\nShort intro.\n\n## Long\n\n" + "Words keep coming here. " * 80
    chunks = chunk_text(text, CONFIG)
    assert not any(c.rstrip().endswith("## Long") for c in chunks)


def test_words_are_never_cut():
    rng = random.Random(7)
    vocabulary = ["gradient", "descent.", "regularisation,", "a", "the", "backpropagation!", "x" * 40, "token"]
    for _ in range(100):
        paragraphs = [" ".join(rng.choice(vocabulary) for _ in range(rng.randint(0, 400))) for _ in range(5)]
        text = "\n\n".join(p if rng.random() < 0.7 else f"## {p[:60]}" for p in paragraphs)
        chunks = chunk_text(text, CONFIG)
        assert all(0 < len(c) <= CONFIG.max_chars for c in chunks)
        source_words = text.split()
        chunk_words = iter(w for c in chunks for w in c.split())
        assert all(any(w == c for c in chunk_words) for w in source_words)  # in order, whole, none lost


def test_only_a_word_longer_than_a_chunk_is_cut():
    blob = "A" * 2500
    chunks = chunk_text(f"before {blob} after", CONFIG)
    assert "".join("".join(c.split()) for c in chunks) == f"before{blob}after"
    assert all(len(c) <= CONFIG.max_chars for c in chunks)


def test_code_fences_are_not_headings_and_blank_text_gives_nothing():
    text = "# Notes\n\n```python\n# a comment, not a heading\nmodel.train()\n```\n"
    chunks = chunk_text(text, CONFIG)
    assert chunks == ["# Notes\n\n```python\n# a comment, not a heading\nmodel.train()\n```"]
    assert chunk_text("", CONFIG) == [] and chunk_text(" \n\n\t", CONFIG) == []


def test_plain_text_hashes_are_not_headings():
    chunks = chunk_text("# not a heading in a .txt file\n\nbody", CONFIG, markdown=False)
    assert chunks == ["# not a heading in a .txt file\n\nbody"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Dropout is a regulariser. It drops units.", ["Dropout is a regulariser.", "It drops units."]),
        ("Use e.g. dropout or i.e. noise. Then stop.", ["Use e.g. dropout or i.e. noise.", "Then stop."]),
        ("A value of 3.5 is fine. Fig. 2 shows it!", ["A value of 3.5 is fine.", "Fig. 2 shows it!"]),
        ("Is it good? Yes.", ["Is it good?", "Yes."]),
        ("This line is wrapped\nacross two lines.", ["This line is wrapped across two lines."]),
        ("- first item\n- second item", ["- first item", "- second item"]),
        ("## Heading\nText under it.", ["## Heading", "Text under it."]),
        ("", []),
    ],
)
def test_split_sentences(text, expected):
    assert split_sentences(text) == expected
