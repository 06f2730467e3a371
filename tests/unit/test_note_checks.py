"""Self-contained questions from notes: each check, the question forms and same-kind distractors (pure, fast).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_note_checks.py -q
"""

from __future__ import annotations

import random

import pytest

from knowledge.cards import load_cards
from knowledge.names import ConceptNames, is_acronym
from knowledge.note_checks import key_problems, plain_text, sentence_problems
from knowledge.note_distractors import PhrasePool
from knowledge.note_forms import BLANK, definitional, problems
from schemas.knowledge import NoteChunk

GOOD = "Dropout is a regularisation method that zeroes random hidden units during training."


@pytest.mark.parametrize("sentence, check", [
    ("In practice, this design alleviates the vanishing gradient problem.", "deictic"),
    ("These models are trained with the cross-entropy loss on labelled data.", "deictic"),
    ("The method described above converges faster than plain gradient descent.", "deictic"),
    ("The following layer normalises every feature across the minibatch.", "deictic"),
    ("Batch normalization was proposed by Ioffe and Szegedy, and they tested it on ImageNet.", "deictic"),
    ("It normalises the activations of every layer over the minibatch.", "dangling"),
    ("Suppose the people looking at the explanations understand decision trees best.", "dangling"),
    ("The alternative is to prevent the problem from occurring by adaptive normalization.", "dangling"),
    ("Beyond that, cosine schedules have been found to work well on some problems.", "deictic"),
    ("When called with the number of updates it returns the value of the learning rate.", "deictic"),
    ("The permutation importance was introduced by @breiman2001random for random forests.", "reference"),
    ("However, the validation loss goes up again after many epochs.", "dangling"),
    ("So far, we have used a learning rate of 1 for every experiment.", "narrative"),
    ("Dropout is applied by calling nn.Dropout(p) on the hidden layer output.", "code"),
    ("The learning rate is stored in the variable learning_rate of the trainer.", "code"),
    ("The gradient is computed with `loss.backward` before every optimiser step.", "code"),
    ("The loss is $L = \\sum_i (y_i - f(x_i))^2$ for the squared error model.", "code"),
    ("As shown in Figure 3, the training loss decreases smoothly with warmup.", "reference"),
    ("The update rule of Adam is given in Section 12.10 of the optimisation chapter.", "reference"),
    ("Batch normalization is discussed in detail in :numref:`sec_batch_norm` of the book.", "reference"),
    ("Dropout helps.", "length"),
    ("Why does the validation loss go up again after many training epochs?", "form"),
    ("The three most common learning rate schedules are the following ones:", "form"),
    ("weight decay adds the squared norm of the weights to the training loss.", "form"),
    ("D) Signs (+/-) show the classifications of the locally learned model.", "form"),
])
def test_each_check_refuses_what_it_names(sentence, check):
    assert check in sentence_problems(sentence), sentence_problems(sentence)


@pytest.mark.parametrize("sentence", [
    GOOD,
    "Momentum keeps a running average of past gradients and steps along that average direction.".replace(
        "that average", "the average"),
    "Layer normalization normalises the features of each example independently of the minibatch.",
    "A learning rate warmup increases the learning rate linearly over the first few hundred steps.",
])
def test_self_contained_sentences_pass_every_check(sentence):
    assert sentence_problems(sentence) == []


def test_long_sentences_fail_the_length_check():
    assert "length" in sentence_problems("Dropout zeroes units. " * 15)


def test_markdown_emphasis_is_removed_before_checking():
    assert plain_text("LIME **works for tabular data**, text and _images_.") == "LIME works for tabular data, text and images."


def test_the_key_must_be_stated_in_the_sentence():
    assert "not stated" in key_problems(GOOD, "batch size")
    assert key_problems(GOOD, "dropout") == []  # stated (case aside)


@pytest.mark.parametrize("sentence, key, problem", [
    (GOOD, "method", "generic"),
    (GOOD, "the", "no content"),
    ("A learning rate of 0.1 was used for the first 30 epochs of training.", "30", "no content"),
    ("Dropout zeroes units, and dropout is used in most transformer layers.", "Dropout", "stated twice"),
    ("The comments were manually labeled as spam or legitimate by annotators.", "labeled", "not a noun"),
    ("The function nn.Dropout zeroes random hidden units of the network.", "nn.Dropout", "not a phrase"),
    (GOOD, "regularisation method that zeroes random hidden units", "key length"),
])
def test_each_key_check_refuses_what_it_names(sentence, key, problem):
    assert problem in key_problems(sentence, key)


def test_a_stem_must_hide_the_key_and_keep_context():
    assert key_problems(GOOD, "Dropout", stem=f"{BLANK} is a regularisation method that zeroes random hidden units.") == []
    assert "key in stem" in key_problems(GOOD, "Dropout", stem="Dropout is a ____ method.")
    assert "too little context" in key_problems(GOOD, "Dropout", stem=f"{BLANK} is a method.")


@pytest.mark.parametrize("sentence, stem, key, form", [
    (GOOD, "Which regularisation method zeroes random hidden units during training?", "Dropout", "which"),
    ("Batch normalization is a technique used to stabilise the training of deep networks.",
     "Which technique is used to stabilise the training of deep networks?", "Batch normalization", "which"),
    ("A unit that outputs the maximum of zero and its input is called a rectified linear unit (ReLU).",
     "What is a unit that outputs the maximum of zero and its input called?", "rectified linear unit", "called"),
    ("Perplexity refers to the exponentiated cross-entropy of a language model.",
     "Which term refers to the exponentiated cross-entropy of a language model?", "Perplexity", "refers"),
    ("The learning rate is the step size taken by each gradient descent update.",
     "What is the step size taken by each gradient descent update?", "learning rate", "what-is"),
])
def test_definitions_become_questions(sentence, stem, key, form):
    draft = definitional(sentence)[0]
    assert (draft.stem, draft.key, draft.form) == (stem, key, form)
    assert problems(sentence, draft) == []


@pytest.mark.parametrize("sentence", [
    "The goal is to understand why the model made a certain prediction.",  # a description, not a name
    "Data points are sampled from a Gaussian distribution around the instance.",  # passive, not a definition
    "The other artists are Katy Perry, LMFAO, Eminem and Shakira.",
])
def test_descriptions_and_passives_are_not_definitions(sentence):
    assert definitional(sentence) == []


def test_a_plain_definition_is_a_cloze_on_the_defined_term():
    sentence = "Momentum is a running average of past gradients used in place of the gradient."
    draft = definitional(sentence)[-1]
    assert draft.form == "cloze-definition" and draft.key == "Momentum"
    assert draft.stem == f"{BLANK} is a running average of past gradients used in place of the gradient."


@pytest.fixture(scope="module")
def pool() -> PhrasePool:
    chunk = NoteChunk(note_id="0123456789ab", path="/notes/regularisers.md", chunk=0, text=(
        "Dropout is a regularisation method that zeroes random hidden units during training.\n"
        "Weight decay is a regularisation method that shrinks every weight towards zero at each step.\n"
        "Early stopping is a regularisation method that ends training when the validation loss rises.\n"
        "Label smoothing is a regularisation method that mixes the one-hot targets with a uniform distribution.\n"
        "The Adam optimiser is an optimiser that scales each step by running moments of the gradient."))
    names = ConceptNames.build(load_cards(), [chunk.text])
    return PhrasePool.build(names, [chunk])


def test_distractors_share_the_category_and_never_repeat_the_sentence(pool):
    chosen = pool.distractors("dropout", head="regularisation method", sentence=GOOD, note_id="0123456789ab",
                              rng=random.Random(0))
    assert sorted(chosen) == ["early stopping", "label smoothing", "weight decay"]


def test_distractors_match_the_key_type_and_length(pool):
    acronyms = pool.distractors("PCA", head="", sentence="PCA projects data onto directions of largest variance.",
                                note_id="", rng=random.Random(1))
    assert len(acronyms) == 3 and all(is_acronym(d) for d in acronyms)
    phrases = pool.distractors("gradient descent", head="", sentence="Gradient descent follows the negative gradient.",
                               note_id="", rng=random.Random(1))
    assert len(phrases) == 3 and not any(is_acronym(d) for d in phrases)
    assert all(abs(len(d.split()) - 2) <= 2 for d in phrases)
    assert all("gradient descent" not in d.lower() for d in phrases)  # never a broader or narrower name
