"""Cloze questions from note chunks, and quizzes that draw on notes (no model: seeded choices).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_notes_cloze.py -q
"""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.base import KnowledgeBase
from knowledge.cards import cards_by_id, load_cards
from knowledge.chunking import split_sentences
from knowledge.cloze import BLANK, cloze_for_sentence, cloze_items, note_fact
from knowledge.names import ConceptNames
from knowledge.notes import NoteStore
from schemas.knowledge import NoteChunk
from schemas.text import normalise

NOTE = NoteChunk(
    note_id="0123456789ab",
    path="/home/student/week5.md",
    chunk=2,
    text=(
        "## Training tricks\n\n"
        "Dropout randomly zeroes hidden activations during training, which stops units from co-adapting.\n"
        "L2 regularisation adds the squared size of the weights to the loss, so large weights are penalised.\n"
        "PCA projects the data onto the directions of largest variance.\n"
        "We met on Tuesday afternoon to revise for the exam together.\n"
        "Why does the validation loss go up again?"
    ),
)


@pytest.fixture(scope="module")
def vocabulary() -> ConceptNames:
    return ConceptNames.build(load_cards(), [NOTE.text])


def test_items_ask_for_a_card_name_the_sentence_states(vocabulary):
    items = cloze_items(NOTE, vocabulary, max_items=5)
    answers = {item.answer: item for item in items}
    assert set(answers) == {"dropout", "L2 regularisation", "PCA"}
    sentences = split_sentences(NOTE.text)
    for item in items:
        assert item.source == "note:0123456789ab#2"
        assert sentences[item.sentence_index].endswith(item.sentence)
        if item.form.startswith("cloze"):
            assert item.stem.count(BLANK) == 1
            assert item.stem.replace(BLANK, item.answer).lower() == item.sentence.lower()
        else:  # a question on the sentence's subject: "What projects the data onto ...?"
            assert item.stem.startswith("What ") and item.stem.endswith("?") and BLANK not in item.stem
            assert item.answer.lower() in item.sentence.lower()
        assert normalise(item.answer) not in normalise(item.stem)
        assert item.card_id in cards_by_id() and item.concept == cards_by_id()[item.card_id].title
    assert answers["dropout"].card_id == "dropout" and answers["PCA"].card_id == "pca"


def test_distractors_are_same_kind_names_that_are_not_right(vocabulary):
    cards = cards_by_id()
    for item in cloze_items(NOTE, vocabulary, max_items=5):
        options = [item.answer, *item.distractors]
        assert len({normalise(o) for o in options}) == len(options) and 3 <= len(item.distractors) <= 5
        own_names = {normalise(n) for n in [cards[item.card_id].title, *cards[item.card_id].keywords]}
        for distractor in item.distractors:
            assert normalise(distractor) not in normalise(item.sentence)
            assert normalise(distractor) not in own_names
            assert not set(normalise(distractor).split()) >= set(normalise(item.answer).split())
    pca = next(i for i in cloze_items(NOTE, vocabulary, max_items=5) if i.answer == "PCA")
    assert all(d.replace("-", "").isupper() or any(ch.isupper() for ch in d[1:]) for d in pca.distractors)
    l2 = next(i for i in cloze_items(NOTE, vocabulary, max_items=5) if i.answer == "L2 regularisation")
    assert "regularisation" not in l2.distractors  # broader names could also be right


def test_unsuitable_sentences_give_no_item(vocabulary):
    sentences = split_sentences(NOTE.text)
    for index, sentence in enumerate(sentences):
        if sentence.startswith("##") or "Tuesday" in sentence or sentence.endswith("?"):
            assert cloze_for_sentence(NOTE, index, vocabulary) is None, sentence
    assert cloze_for_sentence(NOTE, 99, vocabulary) is None


def test_items_are_deterministic_and_limited(vocabulary):
    first = cloze_items(NOTE, vocabulary, max_items=2)
    assert first == cloze_items(NOTE, vocabulary, max_items=2) and len(first) == 2
    assert [i.sentence_index for i in first] == sorted(i.sentence_index for i in first)


def test_an_item_is_a_valid_card_fact(vocabulary):
    item = cloze_items(NOTE, vocabulary)[0]
    fact = item.as_fact()
    assert fact.statement == item.sentence and fact.answer == item.answer and fact.questions == [item.stem]


# ----------------------------------------------------------------- quizzes that draw on notes


@pytest.fixture
def kb_with_notes(tmp_path: Path) -> KnowledgeBase:
    notes = tmp_path / "notes"
    source = tmp_path / "week5.md"
    source.write_text(NOTE.text, encoding="utf-8")
    NoteStore(notes).add(source)
    return KnowledgeBase.load(notes)


def test_note_fact_resolves_plan_items(kb_with_notes):
    source = next(iter(kb_with_notes.chunks))
    index = next(i for i, s in enumerate(split_sentences(kb_with_notes.chunks[source].text)) if "Dropout" in s)
    concept, fact = note_fact(kb_with_notes, source, index)
    assert concept == "Dropout" and fact.answer == "dropout" and BLANK in fact.questions[0]
    with pytest.raises(KeyError):
        note_fact(kb_with_notes, source, 0)  # the heading
    with pytest.raises(KeyError):
        note_fact(kb_with_notes, "note:ffffffffffff#0", 1)


def test_quiz_on_a_noted_topic_includes_note_questions(kb_with_notes):
    from agent.quiz.service import TutorService

    quiz = TutorService(kb_with_notes).generate_quiz("dropout regularisation weights", count=10, seed=3)
    from_notes = [q for q in quiz.questions if q.source and q.source.startswith("note:")]
    assert from_notes, [q.source for q in quiz.questions]
    for question in from_notes:
        assert question.correct_option in {"dropout", "L2 regularisation", "PCA"}
        assert normalise(question.correct_option) not in normalise(question.question.replace(BLANK, " "))
        assert question.explanation in NOTE.text
    assert len(quiz.questions) == 10


def test_quiz_without_notes_is_unchanged(knowledge_base):
    from agent.quiz.service import TutorService

    quiz = TutorService(knowledge_base).generate_quiz("dropout", count=5, seed=3)
    assert all(q.source.startswith("card:") for q in quiz.questions)


def test_names_match_word_forms_and_display_like_the_cards(vocabulary):
    from knowledge.names import display, is_acronym, tokens

    found = {t.text for t, _ in vocabulary.matches(tokens("Decision trees and regularization both help."))}
    assert {"decision tree", "regularisation"} <= found or {"decision trees", "regularisation"} <= found
    assert display("Dropout", vocabulary.proper) == "dropout"
    assert display("Gaussian mixture models", vocabulary.proper) == "Gaussian mixture models"
    assert display("LoRA", vocabulary.proper) == "LoRA" and display("k-means", vocabulary.proper) == "k-means"
    assert is_acronym("SVM") and is_acronym("t-SNE") and not is_acronym("dropout") and not is_acronym("L2")
    assert vocabulary.idf(("dropout",)) > vocabulary.idf(("model",)) == 0.0  # generic words are never keys


def test_two_items_asking_the_same_thing_count_once():
    from knowledge.cloze import ClozeItem, _same_question

    def item(sentence: str, answer: str = "Shapley value") -> ClozeItem:
        return ClozeItem("stem", answer, ("a", "b", "c"), sentence, "note:x#0", 0, "", "notes", "note-x.s0")

    first = item("The Shapley value is the average marginal contribution of a feature value across coalitions.")
    second = item("The Shapley value is the weighted average of all marginal contributions across coalitions.")
    other = item("Shapley values always need a reference dataset to sample the missing players from.")
    assert _same_question(first, second)
    assert not _same_question(first, other)
    assert not _same_question(first, item(first.sentence, answer="LIME"))
