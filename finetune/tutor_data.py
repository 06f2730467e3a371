"""Build the tutor's SFT dataset from the knowledge cards (deterministic; no model needed).

Each kind of row is rendered with the exact prompts the tutor uses at run time
(:mod:`prompts`), as chat ``messages`` whose last assistant turn is the target:

* **question writing** - a card fact -> a :class:`schemas.QuestionDraft` JSON (the generation
  schema of the "free" strategy), from the authored question form, answer and distractors;
* **explanations** - a concrete question (a fact's question forms, "What is <concept>?") with the
  facts retrieved for it -> a short answer that starts with the answer (:mod:`finetune.explain_data`);
* **turn** - a student's chat message -> the turn reader's one-line answer (:mod:`finetune.turn_data`).

(Feedback rows were dropped with their prompt: no turn of the tutor asks the model for feedback; the
grade and the card's fact are shown as they are.)

A fixed set of concepts is held out (never trained on) so the adapter can be judged on facts it
has not seen: ``heldout.jsonl`` lists their facts.

    python -m finetune.tutor_data --out runs/tutor_sft      # writes train.jsonl, heldout.jsonl, manifest.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
from functools import lru_cache
from pathlib import Path

from common.files import write_atomic
from finetune import explain_data
from finetune.turn_data import turn_rows
from knowledge.base import KnowledgeBase
from prompts.tutor import write_question_messages
from knowledge.cards import load_cards
from schemas import QuestionDraft
from schemas.knowledge import ConceptCard

HELDOUT_SHARE = 0.15
SEED = 1234


# Concepts the frozen turn test sets (evaluation/data/turns_test*.jsonl) ask about while they had no card;
# their cards came later and stay out of training so the test sets keep measuring unseen topics.
HELDOUT_CARDS = frozenset({"diffusion-models", "graph-neural-networks", "beam-search", "autoencoders", "knowledge-distillation",
                           "variational-autoencoders", "self-supervised-learning", "mixture-of-experts"})


def is_heldout(card_id: str) -> bool:
    """Stable assignment by hash (adding cards never moves an existing card across the split), plus
    :data:`HELDOUT_CARDS`."""
    return card_id in HELDOUT_CARDS or int(hashlib.sha256(card_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < HELDOUT_SHARE


def question_rows(card: ConceptCard, rng: random.Random) -> list[dict]:
    rows = []
    for fact in card.facts:
        for stem in fact.questions:
            distractors = rng.sample(list(fact.distractors), 3)
            draft = QuestionDraft(
                question=_clip(stem, 160),
                correct_answer=_clip(fact.answer, 100),
                distractors=[_clip(d, 100) for d in distractors],
                explanation=_clip(fact.statement, 200),
            )
            target = json.dumps(draft.model_dump(), ensure_ascii=False)
            rows.append(_row(write_question_messages(card.title, fact.statement), target, "question", card.id))
    return rows


def _clip(text: str, limit: int) -> str:
    """``text`` cut at a word boundary to fit the generation schema's bound."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def explanation_rows(card: ConceptCard) -> list[dict]:
    """Question -> short grounded answer rows (:mod:`finetune.explain_data`), over trained-on cards only."""
    rng = random.Random(f"{SEED}:explain:{card.id}")
    pairs = explain_data.explanation_rows(card, _training_knowledge(), rng)
    return [_row(messages, target, "explain", card.id) for messages, target in pairs]


@lru_cache(maxsize=1)
def _training_knowledge() -> KnowledgeBase:
    """The cards that are trained on (held-out facts must never appear, not even as context)."""
    return KnowledgeBase([c for c in load_cards() if not is_heldout(c.id)])


def _row(messages: list[dict], target: str, kind: str, card_id: str) -> dict:
    return {"messages": [*messages, {"role": "assistant", "content": target}], "kind": kind, "card": card_id}


def build(out: Path) -> dict:
    """Write ``train.jsonl`` (shuffled), ``heldout.jsonl`` (held-out facts) and ``manifest.json``."""
    rng = random.Random(SEED)
    train: list[dict] = []
    heldout: list[dict] = []
    cards = load_cards()
    for card in cards:
        if is_heldout(card.id):
            heldout.extend(
                {"card": card.id, "concept": card.title, "fact": i, "statement": f.statement, "answer": f.answer}
                for i, f in enumerate(card.facts)
            )
            continue
        train += question_rows(card, rng) + explanation_rows(card)
    train += turn_rows(
        [c for c in cards if not is_heldout(c.id)], [c for c in cards if is_heldout(c.id)], random.Random(SEED + 1)
    )
    rng.shuffle(train)
    out.mkdir(parents=True, exist_ok=True)
    digest = _write_jsonl(out / "train.jsonl", train)
    _write_jsonl(out / "heldout.jsonl", heldout)
    kinds = {k: sum(r["kind"] == k for r in train) for k in ("question", "explain", "turn")}
    manifest = {
        "train_rows": len(train),
        "kinds": kinds,
        "heldout_cards": sorted({h["card"] for h in heldout}),
        "heldout_facts": len(heldout),
        "train_sha256": digest,
        "seed": SEED,
    }
    write_atomic(out / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return manifest


def _write_jsonl(path: Path, rows: list[dict]) -> str:
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    write_atomic(path, text)
    return hashlib.sha256(text.encode()).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/tutor_sft"), help="output folder")
    args = parser.parse_args(argv)
    manifest = build(args.out)
    print(json.dumps({k: v for k, v in manifest.items() if k != "heldout_cards"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
