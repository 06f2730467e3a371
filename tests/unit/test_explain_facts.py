"""Fact-level retrieval and the explainer's answer logic on a tiny knowledge base (pure, no model).

    HF_HUB_OFFLINE=1 PYTHONPATH=$PWD .venv/bin/python -m pytest tests/unit/test_explain_facts.py -q
"""

from __future__ import annotations

import pytest

from agent.explain import Explainer
from agent.explain.sentences import ends_cleanly
from knowledge.base import KnowledgeBase
from knowledge.facts import FactRanker, states_answer
from schemas.knowledge import ConceptCard, Fact, Misconception, NoteChunk


def fact(card_id: str, statement: str, answer: str, question: str) -> Fact:
    slug = "-".join("".join(c for c in w if c.isalnum()) for w in statement.lower().split()[:4])
    return Fact(id=f"{card_id}.{slug}", statement=statement, answer=answer, questions=[question],
                distractors=["one x", "two y", "three z"])


MISC = [Misconception(claim="A false claim about it.", correction="The correction of it."),
        Misconception(claim="Another false claim here.", correction="Another correction here.")]

KMEANS = ConceptCard(
    id="k-means", title="k-means clustering", area="clustering",
    summary="k-means splits data into k clusters around centroids. You must choose k yourself.",
    keywords=["k-means", "centroid"],
    facts=[
        fact("k-means", "k-means minimises the within-cluster sum of squared distances to the centroids.",
             "Within-cluster sum of squared distances", "What objective does k-means minimise?"),
        fact("k-means", "The elbow method plots inertia against k and picks the k where the curve bends.",
             "Where the inertia curve bends", "How can the number of clusters k be chosen?"),
        fact("k-means", "k-means++ starts centroids far apart, each drawn in proportion to its squared distance.",
             "In proportion to squared distance", "How does k-means++ initialise the centroids?"),
    ],
    misconceptions=MISC,
)
DROPOUT = ConceptCard(
    id="dropout", title="Dropout", area="deep learning",
    summary="Dropout zeroes random units during training so that units cannot co-adapt.",
    keywords=["dropout"],
    facts=[
        fact("dropout", "Dropout zeroes each unit with probability p during training.", "With probability p",
             "How often does dropout zero a unit?"),
        fact("dropout", "At test time dropout is switched off, so no units are dropped.", "No units are dropped",
             "What does dropout do at test time?"),
        fact("dropout", "Inverted dropout scales surviving activations by 1/(1-p) during training.", "By 1/(1-p)",
             "How are surviving activations scaled in inverted dropout?"),
    ],
    misconceptions=MISC,
)


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    note = NoteChunk(note_id="n1", path="lecture.md", chunk=0,
                     text="Silhouette scores compare cohesion with separation. A higher silhouette means better clusters.")
    return KnowledgeBase([KMEANS, DROPOUT], [note])


def test_the_fact_that_answers_the_question_ranks_first_not_the_cards_first_fact(kb):
    facts = FactRanker(kb).rank("How do I pick k, the number of clusters, in k-means?", topic="k-means")
    assert facts[0].statement.startswith("The elbow method")
    assert facts[0].source == "k-means" and facts[0].kind == "fact"


def test_the_question_picks_the_fact_within_the_card(kb):
    ranker = FactRanker(kb)
    assert "test time" in ranker.rank("Is dropout used at test time?", topic="dropout")[0].statement
    assert "1/(1-p)" in ranker.rank("how much are the surviving activations scaled?", topic="dropout")[0].statement


@pytest.mark.parametrize("question, topic", [("What is dropout?", "dropout"), ("Can you explain dropout simply?", None),
                                             ("what does dropout mean", "dropout")])
def test_a_question_that_only_names_the_concept_gets_its_definition_first(kb, question, topic):
    facts = FactRanker(kb).rank(question, topic)
    assert facts[0].kind == "summary" and facts[0].statement.startswith("Dropout zeroes random units")
    assert {f.source for f in facts} == {"dropout"} and facts[1].statement == DROPOUT.facts[0].statement


def test_a_concrete_question_is_not_a_definition_request(kb):
    assert not FactRanker(kb).asks_for_concept("Is dropout used at test time?", "dropout", DROPOUT)
    assert FactRanker(kb).asks_for_concept("What is dropout?", None, DROPOUT)


def test_note_sentences_are_facts_with_their_note_source(kb):
    facts = FactRanker(kb).rank("what does a higher silhouette score mean?", topic=None, k=3)
    note = next(f for f in facts if f.kind == "note")
    assert note.source == "note:n1#0" and "silhouette" in note.statement.casefold()


def test_nothing_known_gives_no_facts(kb):
    assert FactRanker(kb).rank("zyzzyva basket weaving", topic=None) == []


def test_k_limits_and_facts_are_distinct(kb):
    facts = FactRanker(kb).rank("dropout", topic="dropout", k=10)
    statements = [f.statement for f in facts]
    assert len(statements) == len(set(statements)) and len(statements) <= 10


@pytest.mark.parametrize("text, answer, expected", [
    ("Bias usually falls and variance rises as complexity grows.", "Bias falls and variance rises", True),
    ("Regularisation shrinks the weights.", "Regularization", True),  # spellings folded
    ("Variance rises.", "Bias falls and variance rises", False),
    ("1 1 1 1 1 1", "Bias falls and variance rises", False),
    ("anything", "", False),
])
def test_states_answer(text, answer, expected):
    assert states_answer(text, answer) is expected


def test_extractive_answer_is_the_top_facts_and_ends_cleanly(kb):
    stream = Explainer(kb).explain("How do I pick k in k-means?", topic="k-means")
    text = "".join(stream.pieces)
    assert text.startswith("The elbow method") and ends_cleanly(text)
    assert stream.mode == "extractive" and stream.sources[0] == "k-means"
    assert stream.key_facts == [f.statement for f in stream.facts] and len(stream.key_facts) == 3


def test_model_mode_needs_a_model(kb):
    with pytest.raises(ValueError, match="needs a model"):
        Explainer(kb, mode="model")
    with pytest.raises(ValueError, match="needs a model"):
        Explainer(kb).explain("dropout", mode="model")


def test_unknown_question_says_so(kb):
    stream = Explainer(kb).explain("zyzzyva basket weaving")
    assert "don't have notes" in "".join(stream.pieces) and stream.sources == []


class FakeRuntime:
    """The runtime's two calls the explainer makes; ``stream`` yields ``output`` in 4-character pieces."""

    def __init__(self, output: str, closed: list[bool]):
        self.output, self.closed = output, closed

    def chat(self, messages):
        return messages[-1]["content"]

    def stream(self, prompt, max_new_tokens):
        try:
            yield from (self.output[i : i + 4] for i in range(0, len(self.output), 4))
        finally:
            self.closed.append(True)


def _model_explainer(kb, monkeypatch, output: str) -> tuple[Explainer, list[bool]]:
    closed: list[bool] = []
    return Explainer(kb, lm=object(), runtime=FakeRuntime(output, closed), mode="model"), closed


def test_model_answer_is_cut_at_its_last_sentence_end(kb, monkeypatch):
    explainer, _ = _model_explainer(kb, monkeypatch, "Use the elbow method. It plots inertia against k. The irreducible")
    stream = explainer.explain("How do I pick k in k-means?", topic="k-means")
    text = "".join(stream.pieces)
    assert text == "Use the elbow method. It plots inertia against k." and stream.mode == "model"
    assert "".join(stream.raw).endswith("The irreducible")


def test_model_answer_stops_the_model_after_three_sentences(kb, monkeypatch):
    explainer, closed = _model_explainer(kb, monkeypatch, "One a. Two b. Three c. Four d. Five e.")
    assert "".join(explainer.explain("dropout?", topic="dropout").pieces) == "One a. Two b. Three c."
    assert closed == [True]


def test_model_answer_without_any_sentence_falls_back_to_the_best_fact(kb, monkeypatch):
    explainer, _ = _model_explainer(kb, monkeypatch, "1 1 1 1 1 1 1 1 1 1 1 1 1")
    stream = explainer.explain("Is dropout used at test time?", topic="dropout")
    assert "".join(stream.pieces) == stream.facts[0].statement
