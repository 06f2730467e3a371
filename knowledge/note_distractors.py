"""Wrong options for questions from notes: other key phrases of the same kind (pure, seeded, no model).

The pool holds the terms the student's notes define ("X is a ... that ...", with the category
they file X under) and the concept names the cards know. For a key, a candidate must be of the
same type (an acronym for an acronym, a phrase for a phrase) and about as long (at most
:data:`MAX_WORD_GAP` words more or fewer). Among those, the same category ("Which *optimiser*
...?" gets other optimisers), then names of the cards closest to the sentence's subject (retrieval
over the cards, ``rank_cards``) or of the key's own card's related and same-area cards, then terms
of the same note, then the closest length win; the seed breaks ties. Never offered: a phrase in the sentence or another name of a concept it names, a phrase containing the key
or contained in it, a near-synonym (a name of the key's own card or a card sharing a name with it),
or a name the key's card files itself under.

    pool = PhrasePool.build(names, chunks)
    pool.distractors("dropout", head="regularisation method", sentence=s, note_id="3f2a...", rng=random.Random(0))
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from knowledge.chunking import split_sentences
from knowledge.names import ConceptNames, display, is_acronym, tokens
from knowledge.note_checks import key_problems
from knowledge.note_forms import definitional
from schemas.knowledge import NoteChunk
from schemas.text import normalise

MAX_WORD_GAP = 2


@dataclass(frozen=True)
class Phrase:
    """A key phrase that could be an option."""

    text: str
    head: str  # the category a note files it under ("" if none)
    note_id: str  # "" for a card name
    card_ids: frozenset[str]


def _keys(text: str) -> tuple[str, ...]:
    return tuple(k for k, _, _ in tokens(text))


@dataclass
class PhrasePool:
    """Every candidate option of one knowledge base (cards + one student's notes)."""

    names: ConceptNames
    phrases: list[Phrase]
    rank_cards: Callable[[str], list[str]] = field(default=lambda text: [], repr=False)  # card ids, closest first

    @classmethod
    def build(cls, names: ConceptNames, chunks: list[NoteChunk],
              rank_cards: Callable[[str], list[str]] | None = None) -> "PhrasePool":
        seen: set[str] = set()
        phrases: list[Phrase] = []
        for chunk in chunks:
            for sentence in split_sentences(chunk.text):
                for draft in definitional(sentence):
                    text = display(draft.key, names.proper, keep=is_acronym(draft.key))
                    if normalise(text) not in seen and not key_problems(sentence, draft.key):
                        seen.add(normalise(text))
                        phrases.append(Phrase(text, draft.head, chunk.note_id, names.cards_named(text)))
        for term in names.terms:
            if normalise(term.text) not in seen:
                seen.add(normalise(term.text))
                phrases.append(Phrase(term.text, "", "", term.card_ids))
        return cls(names, phrases, rank_cards or (lambda text: []))

    def distractors(self, key: str, *, head: str, sentence: str, note_id: str, rng: random.Random,
                    k: int = 3) -> list[str]:
        """Up to ``k`` wrong options for ``key``, best first (see the module docstring)."""
        own = self.names.cards_named(key)
        named = {c for t, _ in self.names.matches(tokens(sentence)) for c in t.card_ids}  # "BatchNorm" for "batch norm"
        synonyms = set(own) | named | {c for t in self.names.terms if t.card_ids & own for c in t.card_ids}
        broader = set().union(*(self.names.broader(c) for c in own)) if own else set()
        key_keys, acronym, size = set(_keys(key)), is_acronym(key), len(key.split())
        in_sentence = normalise(sentence)
        near = self._near_cards(sentence, own)
        scored = []
        for phrase in self.phrases:
            keys = set(_keys(phrase.text))
            if (not keys or keys <= key_keys or key_keys <= keys or phrase.card_ids & synonyms
                    or _keys(phrase.text) in broader or normalise(phrase.text) in in_sentence
                    or is_acronym(phrase.text) != acronym or abs(len(phrase.text.split()) - size) > MAX_WORD_GAP):
                continue
            closeness = max((near.get(c, 0.0) for c in phrase.card_ids), default=0.0)
            score = (4 * bool(head and phrase.head == head) + closeness + bool(note_id and phrase.note_id == note_id)
                     + (abs(len(phrase.text.split()) - size) <= 1))
            scored.append((-score, rng.random(), phrase.text))
        chosen: list[str] = []
        for _, _, text in sorted(scored):
            if all(not (set(_keys(text)) <= set(_keys(c)) or set(_keys(c)) <= set(_keys(text))) for c in chosen):
                chosen.append(text)
            if len(chosen) == k:
                break
        return chosen

    def _near_cards(self, sentence: str, own: frozenset[str]) -> dict[str, float]:
        """How close each card is to the sentence's subject: 3 for the best retrieval match, down to 1."""
        near: dict[str, float] = {}
        for card_id in own:
            card = self.names.cards[card_id]
            near |= {c.id: 1.0 for c in self.names.cards.values() if c.area == card.area}
            near |= {r: 2.0 for r in card.related}
        for rank, card_id in enumerate(self.rank_cards(sentence)[:8]):
            near[card_id] = max(near.get(card_id, 0.0), 3.0 - rank / 4)
        return near
