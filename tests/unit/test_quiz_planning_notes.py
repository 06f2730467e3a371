"""Planning from a student's notes and the planner's refusals, word for word (agent.quiz.planning; pure, no model).
Written to kill the mutants `python bench/mutation.py` found alive.

    PYTHONPATH=$PWD .venv/bin/python -m pytest tests/unit/test_quiz_planning_notes.py -q
"""

from __future__ import annotations

import pytest

from agent.quiz.planning import (
    QuizUnavailable, candidate_items, intro_note, notes_cover, notes_plan_items, notes_topic, plan_quiz,
    require_material,
)
from knowledge.base import KnowledgeBase
from knowledge.cards import load_cards
from schemas.knowledge import NoteChunk

ATTENTION = NoteChunk(note_id="0123456789ab", path="/home/ada/attention.md", chunk=0, text=(
    "Multi-head attention is an attention mechanism that runs several attention heads in parallel on queries.\n"
    "Additive attention is an attention mechanism that scores a query against a key with a small network.\n"
    "Self-attention is an attention mechanism that lets every token of a sequence attend to every other token.\n"
))
BEAM = NoteChunk(note_id="ba0123456789", path="/home/ada/decoding.md", chunk=0, text=(
    "Beam search is a decoding method that keeps the best few partial sequences at every step.\n"
    "Greedy decoding is a decoding method that takes the most likely token at every step.\n"
))


@pytest.fixture(scope="module")
def with_notes() -> KnowledgeBase:
    return KnowledgeBase(list(load_cards()), [ATTENTION, BEAM])


@pytest.fixture(scope="module")
def notes_only() -> KnowledgeBase:
    return KnowledgeBase([], [ATTENTION, BEAM])


def test_notes_cover_a_topic_only_when_a_note_holds_more_than_half_its_words(with_notes, knowledge_base):
    assert notes_cover(with_notes, "additive attention mechanism")
    assert not notes_cover(with_notes, "dropout")  # a card covers it, no note does
    assert not notes_cover(with_notes, "beam zyzzyva")  # half of the words: not more than half
    assert not notes_cover(knowledge_base, "attention")  # no notes at all


def test_note_items_match_the_topic_carry_fact_ids_and_put_asked_facts_last(with_notes):
    items = notes_plan_items(with_notes, "beam search decoding")
    assert items and {i.source for i in items} == {"note:ba0123456789#0"}
    assert all(i.fact_id and i.fact_id.startswith("note-") for i in items)
    asked = notes_plan_items(with_notes, "beam search decoding", {items[0].fact_id: 1.0})
    assert asked[-1] == items[0] and asked[:-1] == items[1:]
    assert len({i.source for i in notes_plan_items(with_notes, None)}) == 2  # None: every note


def test_a_quiz_on_the_notes_names_its_subject_and_says_why_it_cannot_be_made(with_notes, knowledge_base):
    plan = plan_quiz(with_notes, "beam search from my notes", count=2, seed=0, source="notes")
    assert plan.topic == "your notes on beam search" and {i.source for i in plan.items} == {"note:ba0123456789#0"}
    assert plan_quiz(with_notes, "my notes", count=2, seed=0, source="notes").topic == "your notes"
    again = plan_quiz(with_notes, "beam search from my notes", count=2, seed=0, source="notes",
                      asked={plan.items[0].fact_id: 1.0})
    assert again.items == plan.items[::-1]  # the asked fact goes last
    with pytest.raises(QuizUnavailable) as none:
        plan_quiz(knowledge_base, "my notes", count=2, seed=0, source="notes")
    assert str(none.value) == ("You have no notes yet. Upload a .md, .txt or .pdf file here in the chat (or run "
                               "`tutor notes add FILE`), then ask me to quiz you on your notes.")
    with pytest.raises(QuizUnavailable) as nothing:
        plan_quiz(with_notes, "zyzzyva qqqq from my notes", count=2, seed=0, source="notes")
    assert str(nothing.value) == (
        "I found no sentences in your notes on \"zyzzyva qqqq\" that make a fair question on their own "
        "(definitions such as \"X is a method that ...\" work best).")


@pytest.mark.parametrize("topic, subject", [
    ("dropout, from my notes.", "dropout"), ("XGBoost from my notes", "XGBoost"), ("x" * 300, "x" * 200),
    ("notes", None), ("My notes", None),
])
def test_the_subject_of_a_notes_quiz(topic, subject):
    assert notes_topic(topic) == subject


def test_notes_come_first_on_a_topic_they_cover_and_a_notes_only_base_has_no_main_card(with_notes, notes_only):
    found = candidate_items(with_notes, "additive attention mechanism", "medium")
    assert found.concept[0].source == "note:0123456789ab#0" and found.main
    assert candidate_items(with_notes, "additive attention mechanism", "medium", source="cards").concept[0].source \
        .startswith("card:")
    only = candidate_items(notes_only, "additive attention mechanism", "medium")
    assert only.main == "" and not only.broad  # no card: no main concept (and no card names to ask about)
    with pytest.raises(QuizUnavailable) as refused:
        plan_quiz(notes_only, "additive attention mechanism", count=2, seed=0, source="cards")
    assert str(refused.value) == "I don't have material on \"additive attention mechanism\" yet. Try a topic such as: ."


def test_the_planner_refuses_a_topic_word_for_word(knowledge_base):
    with pytest.raises(QuizUnavailable) as empty:
        require_material(knowledge_base, "  ")
    assert str(empty.value) == "Please name a topic for the quiz, for example: /quiz overfitting"
    ideas = ", ".join(knowledge_base.suggestions())
    unknown = "zyzzyva qqqq xkcdq " * 5
    with pytest.raises(QuizUnavailable) as missing:
        require_material(knowledge_base, unknown)
    assert str(missing.value) == f"I don't have material on \"{unknown.strip()[:80]}\" yet. Try a topic such as: {ideas}."
    with pytest.raises(QuizUnavailable):
        require_material(knowledge_base, "dropout zyzzyva")  # half of its words: not enough
    assert require_material(knowledge_base, "dropout " * 40) == ("dropout " * 40)[:200]
    assert plan_quiz(knowledge_base, "dropout", count=2, seed=0).meta.model == "no model"


def test_a_notes_quiz_shorter_than_asked_says_so_in_its_intro(with_notes):
    plan = plan_quiz(with_notes, "my notes", count=20, seed=0, source="notes")
    n = len(plan.items)
    assert 0 < n < 20 and plan.meta.requested == 20
    assert intro_note(plan).startswith(f"Your notes give {n} fair question")
    assert "shorter than the 20 you asked for" in intro_note(plan)
    full = plan_quiz(with_notes, "my notes", count=n, seed=0, source="notes")
    assert intro_note(full) is None and full.meta.requested == n
