"""The curated card set: every card valid, ids unique, related ids real, facts distinct; broken sets rejected.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_cards.py -q
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from knowledge.cards import CARDS_DIR, CardError, check_card_set, load_card_file, load_cards, near_duplicate_stems
from schemas.knowledge import ConceptCard, Fact
from schemas.text import normalise


@pytest.fixture(scope="module")
def cards() -> tuple[ConceptCard, ...]:
    return load_cards()


def test_every_card_file_loads_and_validates(cards):
    files = sorted(CARDS_DIR.glob("*.yaml"))
    assert files, "no card files found"
    per_file = [load_card_file(path) for path in files]
    assert all(per_file), "a card file holds no cards"
    assert sum(len(f) for f in per_file) == len(cards)
    assert len(cards) >= 100


def test_ids_are_unique_and_related_ids_exist(cards):
    ids = Counter(c.id for c in cards)
    assert [i for i, n in ids.items() if n > 1] == []
    dangling = [(c.id, r) for c in cards for r in c.related if r not in ids]
    assert dangling == []
    assert all(c.id not in c.related for c in cards)


def test_facts_are_not_empty_or_duplicated(cards):
    statements = Counter(normalise(f.statement) for c in cards for f in c.facts)
    assert [s for s, n in statements.items() if n > 1] == []
    for card in cards:
        assert 3 <= len(card.facts) <= 16, card.id
        for fact in card.facts:
            assert normalise(fact.statement) and normalise(fact.answer), card.id
            options = [normalise(o) for o in [fact.answer, *fact.distractors]]
            assert len(set(options)) == len(options), f"{card.id}: answer repeated among distractors"
            assert all(q.strip() for q in fact.questions), card.id


def test_no_question_is_asked_under_two_cards(cards):
    # Issue 13: the same z-score question came up under k-means, PCA and SVM quizzes.
    owners: dict[str, set[str]] = {}
    for card in cards:
        for fact in card.facts:
            for stem in fact.questions:
                owners.setdefault(normalise(stem), set()).add(card.id)
    assert [s for s, ids in owners.items() if len(ids) > 1] == []
    assert near_duplicate_stems(cards) == []


def test_near_duplicate_stems_are_found():
    a = _card("alpha")
    own = [f.model_copy(update={"answer": f"beta answer {i}"}) for i, f in enumerate(_card("beta").facts)]
    assert near_duplicate_stems([a, _card("beta").model_copy(update={"facts": own})]) == []
    copy = a.facts[0].model_copy(update={"id": "beta.copy", "statement": "A reworded statement of the same fact.",
                                         "questions": ["Which fact is fact 0 of alpha?"]})
    b = _card("beta").model_copy(update={"facts": [copy, *own[1:]]})
    assert near_duplicate_stems([a, b]) == [("alpha.fact-0", "beta.copy")]


def test_every_card_fact_is_labelled_with_kind_and_difficulty(cards):
    kinds = Counter(f.kind for c in cards for f in c.facts)
    assert None not in kinds and None not in {f.difficulty for c in cards for f in c.facts}
    assert set(kinds) == {"recall", "understanding", "application", "computation", "scenario"}


def test_deep_cards_mix_item_kinds_and_cite_sources(cards):
    # Issue 13: a card that can fill a 10-question quiz on itself mixes recall with harder kinds.
    deep = [c for c in cards if len(c.facts) >= 10]
    assert len(deep) >= 7
    for card in deep:
        kinds = Counter(f.kind for f in card.facts)
        assert len(kinds) >= 3 and kinds["recall"] <= len(card.facts) // 2, (card.id, kinds)
        assert {f.difficulty for f in card.facts} >= {"easy", "hard"} or len({f.difficulty for f in card.facts}) == 3
        assert len(card.references) >= 3, card.id


def test_deep_card_keys_are_stated_by_their_facts(cards):
    # The standard for facts written since issue 13: the statement states the key and no distractor as well,
    # so the quiz writer verifies the key without a model (agent.quiz.checks.lexical_support).
    from agent.quiz.checks import lexical_support

    unverified = [f.id for c in cards if len(c.facts) >= 10 for f in c.facts
                  if not lexical_support(f.statement, f.answer, list(f.distractors)).verified]
    assert unverified == []


def test_titles_are_distinct(cards):
    titles = Counter(normalise(c.title) for c in cards)
    assert [t for t, n in titles.items() if n > 1] == []


def test_syllabus_lists_exactly_the_cards(cards):
    listed: set[str] = set()
    for line in (CARDS_DIR / "SYLLABUS.md").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            listed.update(part.strip() for part in line.split(",") if part.strip())
    assert listed == {c.id for c in cards}


# ------------------------------------------------------------------ broken card sets are rejected


def _card(card_id: str, related=(), statement_prefix: str | None = None) -> ConceptCard:
    prefix = statement_prefix or card_id
    facts = [
        {"id": f"{card_id}.fact-{i}", "statement": f"{prefix} fact number {i} is a complete sentence.",
         "answer": f"answer {i}",
         "questions": [f"What is fact {i} of {card_id}?"], "distractors": ["wrong one", "wrong two", "wrong three"]}
        for i in range(3)
    ]
    return ConceptCard.model_validate({
        "id": card_id, "title": card_id.title(), "area": "testing",
        "summary": f"A made-up concept called {card_id}, used only to test the card checks.",
        "facts": facts,
        "misconceptions": [
            {"claim": "A claim that is plainly false.", "correction": "The correction of that claim."}
        ] * 2,
        "related": list(related),
    })


def test_check_card_set_accepts_a_consistent_set():
    check_card_set([_card("alpha", related=["beta"]), _card("beta", related=["alpha"])])


@pytest.mark.parametrize(
    "cards, message",
    [
        ([_card("alpha"), _card("alpha", statement_prefix="other")], "duplicate card ids"),
        ([_card("alpha", related=["missing-card"])], "related ids that do not exist"),
        ([_card("alpha"), _card("beta", statement_prefix="alpha")], "fact statements used more than once"),
        ([_card("alpha"), _card("beta").model_copy(update={"facts": [
            f.model_copy(update={"questions": [f"What is fact {i} of alpha?"]}) for i, f in enumerate(_card("beta").facts)
        ]})], "question stems used by more than one card"),
    ],
)
def test_check_card_set_rejects_inconsistent_sets(cards, message):
    with pytest.raises(CardError, match=message):
        check_card_set(cards)


def test_a_malformed_card_file_names_the_file_and_card(tmp_path: Path):
    good = _card("alpha").model_dump()
    broken = dict(good, id="broken-card", facts=good["facts"][:1])  # fewer than three facts
    path = tmp_path / "99_broken.yaml"
    path.write_text(yaml.safe_dump([good, broken]), encoding="utf-8")
    with pytest.raises(CardError, match=r"99_broken\.yaml: card broken-card"):
        load_card_file(path)
    path.write_text("id: not-a-list\n", encoding="utf-8")
    with pytest.raises(CardError, match="expected a list"):
        load_card_file(path)


def test_card_and_fact_validators_reject_bad_content():
    with pytest.raises(ValidationError, match="lists itself"):
        _card("alpha", related=["alpha"])
    with pytest.raises(ValidationError, match="repeat each other"):
        Fact(id="alpha.same", statement="A perfectly fine statement.", answer="Same", questions=["Which one is it here?"],
             distractors=["same", "other", "third"])
