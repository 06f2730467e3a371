"""Fact ids stay stable: every shipped id still exists (or is aliased) with the same answer; ids travel with questions.

    HF_HUB_OFFLINE=1 PYTHONPATH=$PWD .venv/bin/python -m pytest tests/unit/test_fact_ids.py -q
"""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from knowledge.cards import load_cards
from knowledge.fact_ids import ALIASES, MANIFEST, append_new, problems, read_aliases, read_manifest, resolve
from schemas import MultipleChoiceQuestion, PlanItem
from schemas.knowledge import FACT_ID_PATTERN, ConceptCard, NoteChunk, note_fact_id


@pytest.fixture(scope="module")
def cards():
    return load_cards()


def test_the_committed_manifest_matches_the_cards(cards):
    # Fails when a shipped id disappears, changes its answer, or a new fact was not added to the manifest.
    assert problems(cards, read_manifest(), read_aliases()) == []


def test_every_fact_has_a_well_formed_id_under_its_card(cards):
    ids = [f.id for c in cards for f in c.facts]
    assert len(ids) == len(set(ids)) == sum(len(c.facts) for c in cards)
    for card in cards:
        for fact in card.facts:
            assert re.match(FACT_ID_PATTERN, fact.id) and fact.id.startswith(card.id + "."), fact.id


def test_a_removed_id_is_reported_unless_aliased(cards):
    manifest = read_manifest()
    gone = next(iter(manifest))
    fewer = [c.model_copy(update={"facts": [f for f in c.facts if f.id != gone]}) for c in cards]
    found = problems(fewer, manifest, {})
    assert found == [f"{gone}: gone from the cards without an alias or withdrawal entry"]
    assert problems(fewer, manifest, {gone: "-"}) == []
    other = next(f.id for c in cards for f in c.facts if f.id != gone)
    assert problems(fewer, manifest, {gone: other}) == []
    assert "target does not exist" in problems(fewer, manifest, {gone: "nowhere.at-all"})[0]


def test_a_changed_answer_is_reported(cards):
    manifest = dict(read_manifest())
    fact_id = next(iter(manifest))
    manifest[fact_id] = "Something else entirely"
    found = problems(cards, manifest, {})
    assert len(found) == 1 and found[0].startswith(f"{fact_id}: answer changed")


def test_a_new_fact_must_be_listed(cards, tmp_path):
    manifest = dict(read_manifest())
    missing = manifest.popitem()[0]
    assert problems(cards, manifest, {}) == [f"{missing}: not in the manifest (run python -m knowledge.fact_ids --update)"]
    path = tmp_path / "ids.txt"
    path.write_text("".join(f"{k}\t{v}\n" for k, v in manifest.items()), encoding="utf-8")
    assert append_new(cards, path) == [missing]
    assert append_new(cards, path) == []  # appending twice adds nothing
    assert problems(cards, read_manifest(path), {}) == []


def test_manifest_files_are_tab_separated_and_unique(tmp_path):
    assert MANIFEST.exists() and ALIASES.exists()
    path = tmp_path / "ids.txt"
    path.write_text("a.b\tone\na.b\ttwo\n", encoding="utf-8")
    with pytest.raises(ValueError, match="listed twice"):
        read_manifest(path)
    path.write_text("a.b one\n", encoding="utf-8")
    with pytest.raises(ValueError, match="tab-separated"):
        read_manifest(path)


def test_resolve_finds_a_fact_by_id(cards):
    card = cards[0]
    ref = resolve(card.facts[1].id)
    assert ref is not None and ref.card.id == card.id and ref.index == 1 and ref.fact == card.facts[1]
    assert resolve("no-such-card.no-such-fact") is None


def test_card_rejects_foreign_or_repeated_fact_ids(cards):
    data = cards[0].model_dump()
    data["facts"][0]["id"] = "another-card.some-fact"
    with pytest.raises(ValidationError, match="does not start with its card id"):
        ConceptCard.model_validate(data)
    data = cards[0].model_dump()
    data["facts"][1]["id"] = data["facts"][0]["id"]
    with pytest.raises(ValidationError, match="repeats a fact id"):
        ConceptCard.model_validate(data)
    data = cards[0].model_dump()
    data["facts"][0]["id"] = "Not An Id"
    with pytest.raises(ValidationError):
        ConceptCard.model_validate(data)


def test_note_fact_ids_depend_on_content_and_position_only():
    text = "Dropout zeroes random units during training so that units cannot co-adapt."
    a = NoteChunk(note_id="n1", path="/a/notes.md", chunk=0, text=text)
    b = NoteChunk(note_id="n2", path="/b/moved.md", chunk=3, text=text)  # same text, other file and position
    assert a.fact_id(0) == b.fact_id(0) == note_fact_id(text, 0)
    assert re.match(FACT_ID_PATTERN, a.fact_id(0)) and a.fact_id(0).startswith("note-")
    assert a.fact_id(0) != a.fact_id(1)
    assert a.fact_id(0) != note_fact_id(text + " Edited.", 0)


def test_plan_items_and_questions_carry_fact_ids():
    item = PlanItem(source="card:dropout", fact=0, concept="Dropout", fact_id="dropout.random-units")
    assert item.model_dump()["fact_id"] == "dropout.random-units"
    question = MultipleChoiceQuestion(question="What does dropout zero?", options=["a", "b", "c", "d"], answer="A",
                                      concept="Dropout", fact_id="dropout.random-units")
    assert MultipleChoiceQuestion.model_validate_json(question.model_dump_json()).fact_id == "dropout.random-units"
    with pytest.raises(ValidationError):
        PlanItem(source="card:dropout", fact=0, concept="Dropout", fact_id="no dots or spaces allowed")


def test_generated_quizzes_carry_the_fact_id_of_each_question_into_json_and_grades(knowledge_base):
    # The whole path without a model: plan -> write -> assemble -> Quiz JSON -> grade.
    from agent.grading import grade
    from agent.quiz.service import TutorService
    from schemas import Quiz, StudentAnswer

    quiz = TutorService(knowledge_base).generate_quiz("dropout", 8, seed=5)
    payload = Quiz.model_validate_json(quiz.model_dump_json())
    for i, question in enumerate(payload.questions):
        ref = resolve(question.fact_id)
        assert ref is not None and question.source == f"card:{ref.card.id}", question.fact_id
        assert question.explanation == ref.fact.statement and question.correct_option == ref.fact.answer
        graded = grade(payload, StudentAnswer(quiz_id=payload.meta.quiz_id, index=i, letter=question.answer))
        assert graded.fact_id == question.fact_id


def test_cloze_facts_from_notes_get_the_chunk_sentence_id(cards):
    from knowledge.cloze import cloze_items
    from knowledge.names import ConceptNames

    chunk = NoteChunk(note_id="abc", path="/n.md", chunk=2, text=(
        "Overfitting shows up when the training loss keeps falling while the validation loss rises. "
        "Dropout is a regularisation method that zeroes random hidden units at every training step."))
    items = cloze_items(chunk, ConceptNames.build(cards, [chunk.text]), max_items=3)
    assert items
    for item in items:
        fact = item.as_fact()
        assert fact.id == item.fact_id == chunk.fact_id(item.sentence_index)
        assert (fact.kind, fact.difficulty) == ("recall", "easy" if item.form.startswith("cloze") else "medium")


def test_note_facts_are_found_again_by_id_after_reindexing(cards):
    from knowledge.base import KnowledgeBase
    from knowledge.cloze import cloze_items, names_for, note_fact_by_id

    text = ("Overfitting shows up when the training loss keeps falling while the validation loss rises. "
            "Dropout is a regularisation method that zeroes random hidden units at every training step.")
    first = KnowledgeBase(list(cards), [NoteChunk(note_id="aaa", path="/a.md", chunk=0, text=text)])
    item = cloze_items(first.chunks["note:aaa#0"], names_for(first), max_items=1)[0]
    # The same text re-added from another path, at another chunk position: same id, same question.
    again = KnowledgeBase(list(cards), [NoteChunk(note_id="bbb", path="/moved/b.md", chunk=4, text=text)])
    found = note_fact_by_id(again, item.fact_id)
    assert found is not None
    fact = found[1]  # distractors are drawn with the chunk's source as seed, so only they may differ
    assert (fact.id, fact.statement, fact.answer, fact.questions) == (item.fact_id, item.sentence, item.answer,
                                                                       [item.stem])
    assert note_fact_by_id(again, "note-000000000000.s0") is None
    assert note_fact_by_id(again, "dropout.random-units") is None
