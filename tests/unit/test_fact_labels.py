"""The labelling rule for facts written without ids: ids, kinds and difficulties are added, hand labels kept.

    HF_HUB_OFFLINE=1 PYTHONPATH=$PWD .venv/bin/python -m pytest tests/unit/test_fact_labels.py -q
"""

from __future__ import annotations

import pytest
import yaml

from knowledge.cards import CARDS_DIR, load_card_file
from knowledge.fact_labels import fill, item_kind, main


def _fact(question: str, answer: str, statement: str = "A statement long enough to be a fact.") -> dict:
    return {"statement": statement, "answer": answer, "questions": [question], "distractors": ["x", "y", "z"]}


@pytest.mark.parametrize("question, answer, kind", [
    ("A spam filter flags 50 emails and 40 are spam. What is its precision?", "0.8", "computation"),
    ("What is the formula for hinge loss with labels in {-1, +1}?", "max(0, 1 - y f(x))", "recall"),
    ("A model scores well in training but badly in production. What is wrong?", "Dataset shift", "scenario"),
    ("Why does dropout reduce overfitting?", "It prevents co-adaptation", "understanding"),
    ("How should the data be split when patients repeat?", "By patient", "application"),
    ("What is an epoch?", "One pass over the data", "recall"),
])
def test_item_kind_rule(question, answer, kind):
    assert item_kind(_fact(question, answer)) == kind


def test_fill_labels_new_facts_and_keeps_hand_labels(tmp_path):
    card = {
        "id": "toy-card", "title": "Toy card", "area": "testing",
        "summary": "A made-up concept used only to test the labelling of facts without ids.",
        "facts": [
            {"id": "toy-card.hand", "kind": "scenario", "difficulty": "medium",
             **_fact("What is the hand-labelled fact?", "Hand labelled", "The hand-labelled fact is kept as written.")},
            _fact("Why is the sky blue in the toy card?", "Rayleigh scattering", "The toy sky is blue from scattering."),
            _fact("What is the first toy answer here?", "Rayleigh scattering again", "A second statement for the toy."),
        ],
        "misconceptions": [{"claim": "A claim that is plainly false.", "correction": "The correction of it."}] * 2,
    }
    path = tmp_path / "99_toy.yaml"
    path.write_text(yaml.safe_dump([card], sort_keys=False), encoding="utf-8")
    text, changed = fill(path)
    assert changed == 2
    path.write_text(text, encoding="utf-8")
    facts = load_card_file(path)[0].facts
    assert [f.id for f in facts] == ["toy-card.hand", "toy-card.rayleigh-scattering", "toy-card.rayleigh-scattering-again"]
    assert [(f.kind, f.difficulty) for f in facts] == [("scenario", "medium"), ("understanding", "medium"),
                                                       ("recall", "easy")]
    assert fill(path) == (text, 0)  # a second run changes nothing


def test_the_shipped_cards_need_no_labels(capsys):
    assert main(["--cards", str(CARDS_DIR), "--dry-run"]) == 0
    assert all(line.endswith(": 0 facts labelled") for line in capsys.readouterr().out.splitlines())
