"""Running-example sentences, connectives, subject questions, the notes' own names, in-field distractors (pure).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_note_context.py -q
"""

from __future__ import annotations

import random

import pytest

from knowledge.cards import load_cards
from knowledge.names import ConceptNames
from knowledge.note_context import context_problems, detach
from knowledge.note_distractors import PhrasePool
from knowledge.note_forms import named_questions
from knowledge.note_terms import note_terms
from schemas.knowledge import NoteChunk


@pytest.mark.parametrize("sentence", [
    "The temperature and humidity had the largest positive contributions.",   # past-tense result
    "At 8:00 AM the predicted number of rentals rises sharply.",             # a time
    "A learning rate of 0.1 makes training diverge quickly.",                # a number
    "Momentum and scale are clearly visible in the state variables.",        # the example's variables
    "The model predicts fewer rentals in winter than in spring.",            # "the model" as subject
    "Three local surrogate models with different kernel widths are computed.",  # a procedure step
    "Your goal is to understand why a classifier made a certain prediction.",  # the reader's situation
    "Make sure to pick a meaningful reference dataset for sampling.",        # an instruction
    "The gap between both curves indicates overfitting of the network.",     # two curves shown, not named
])
def test_running_example_sentences_are_refused(sentence):
    assert context_problems(sentence) == ["context"]


@pytest.mark.parametrize("sentence", [
    "Dropout zeroes random hidden units during training.",
    "PCA projects the data onto the directions of largest variance.",        # "the data" as object is fine
    "L2 regularisation adds the squared norm of the weights to the loss.",   # L2 is a name, not a number
    "Batch normalization is thought to make the optimization landscape smoother.",
])
def test_general_statements_pass(sentence):
    assert context_problems(sentence) == []


def test_unknown_capitalised_words_are_refused_only_when_proper_names_are_given():
    sentence = "Body mass is highly important for sex classification for Gentoo penguins."
    assert context_problems(sentence) == [] and context_problems(sentence, frozenset({"gaussian"})) == ["context"]
    assert context_problems("Noise is often drawn from a Gaussian distribution.", frozenset({"gaussian"})) == []


def test_leading_connectives_come_off():
    assert detach("In practice, dropout is disabled at test time.") == "Dropout is disabled at test time."
    assert detach("However, note that warmup helps.") == "Warmup helps."
    assert detach("For example, warmup helps.") == "For example, warmup helps."  # an example stays an example


@pytest.mark.parametrize("sentence, key, stem, form", [
    ("Warmup can be applied to any scheduler.", "Warmup", "What can be applied to any scheduler?", "subject"),
    ("PFI, which permutes one feature, measures the loss increase.", "PFI", "What measures the loss increase?",
     "subject"),
    ("A common technique for regularization is noise injection.", "noise injection",
     "What is a common technique for regularization?", "reverse"),
    ("To reduce overfitting, one uses dropout.", "dropout", "What is used to reduce overfitting?", "purpose"),
])
def test_named_concepts_are_asked_for_by_their_role(sentence, key, stem, form):
    start = sentence.index(key)
    drafts = named_questions(sentence, (start, start + len(key)))
    assert [(d.stem, d.key, d.form) for d in drafts] == [(stem, key, form)]


def test_plural_subjects_and_non_verbs_make_no_subject_question():
    assert named_questions("Transformers use attention in every layer.", (0, 12)) == []
    assert named_questions("Batch normalization implementations differ.", (0, 19)) == []


def test_the_notes_own_subjects_and_acronyms_are_names():
    text = ("# Shapley Values {#shapley}\n\nThe Shapley value is a fair payout.\n"
            "We use permutation feature importance (PFI) here.")
    assert note_terms([text]) == ["Shapley value", "permutation feature importance", "PFI"]
    names = ConceptNames.build(load_cards(), [text], extra=note_terms([text]))
    assert "shapley" in names.proper and names.cards_named("PFI") == frozenset()
    assert any(t.text == "PFI" for t in names.terms)


def test_distractors_stay_in_the_notes_field():
    chunk = NoteChunk(note_id="0123456789ab", path="/notes/opt.md", chunk=0, text=(
        "Warmup can be applied to any scheduler.\nMomentum and Adam and weight decay and the learning rate "
        "schedule and cosine annealing and SGD all matter for the optimiser."))
    names = ConceptNames.build(load_cards(), [chunk.text])
    pool = PhrasePool.build(names, [chunk])
    chosen = pool.distractors("warmup", head="", sentence="Warmup can be applied to any scheduler.",
                              note_id=chunk.note_id, rng=random.Random(0))
    assert len(chosen) == 3
    mentioned = {p.text for p in pool.phrases if chunk.note_id in p.note_ids}
    assert set(chosen) <= mentioned, chosen  # only names the note mentions (no retrieval given)
