"""Questions from notes are the same in every process: not hash-seed dependent, not tied to where the file lives.

Two subprocesses with different ``PYTHONHASHSEED`` and different note ids (the id is a hash of the file's
path) build the notes questions of one small text; the questions must be identical. Before the fix, the
options for "warmup" (a name of two cards) changed with the hash seed (``PhrasePool._near_cards`` iterated a
frozenset and overwrote closeness) and with the note id (the options' random tie-break was seeded by it).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_notes_determinism.py -q
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Own text (not a chapter): "warmup" names the learning-rate-schedules and learning-rate-warmup cards.
NOTES = """# Learning-rate schedules

Warmup can be combined with any schedule, not only cosine decay.
A step schedule divides the learning rate by ten after a fixed number of epochs.
Cosine annealing lowers the learning rate along half a cosine curve.
Adam keeps running averages of the gradient and of its square.
Early stopping ends training when the validation loss stops improving.
Batch size and step size are set before training begins.
Layer normalisation and data augmentation are unrelated to the schedule.
"""

BUILD = """
import json, sys
from knowledge.base import KnowledgeBase
from knowledge.cards import load_cards
from knowledge.cloze import note_cloze_items
from schemas.knowledge import NoteChunk
chunk = NoteChunk(note_id=sys.argv[1], path="/notes/schedules.md", chunk=0, text=sys.stdin.read())
kb = KnowledgeBase(list(load_cards()), [chunk])
print(json.dumps([[it.sentence_index, it.form, it.stem, it.answer, list(it.distractors), it.card_id, it.fact_id]
                  for group in note_cloze_items(kb, None) for it in group]))
"""


def _questions(hash_seed: str, note_id: str) -> list:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", BUILD, note_id], input=NOTES, capture_output=True, text=True,
                          timeout=300, cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_notes_questions_do_not_depend_on_hash_seed_or_note_path():
    first = _questions("0", "0123456789ab")
    assert any(answer == "warmup" for _, _, _, answer, *_ in first)  # the question whose options used to vary
    for seed, note_id in (("1", "0123456789ab"), ("2", "ba9876543210")):
        assert _questions(seed, note_id) == first, f"PYTHONHASHSEED={seed}, note id {note_id}"
