"""Wrong options for questions from notes: other key phrases of the same kind and field (pure, seeded, no model).

The pool holds the terms the student's notes define ("X is a ... that ...", with the category
they file X under) and the concept names the cards know, each with the notes that mention it. A
candidate must be in the field: mentioned in the key's own note, or named by a card near the
sentence's subject (retrieval) or the key's card; never a term from elsewhere ("Manhattan distance"
against "warmup"). It must also be of the same type as the key (an acronym for an acronym, a phrase
for a phrase) and about as long (at most :data:`MAX_WORD_GAP` words more or fewer). Among those, the same category ("Which *optimiser*
...?" gets other optimisers), then names of the cards closest to the sentence's subject (retrieval
over the cards, ``rank_cards``) or of the key's own card's related and same-area cards, names the
note mentions, the closest length and the same number (singular/plural) win; the seed breaks ties. Never offered: a phrase in the sentence or another name of a concept it
names, a phrase containing the key or contained in it, a near-synonym (a name of the key's own card or a card sharing a name with it),
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
    note_ids: frozenset[str]  # the notes that define it or mention it
    card_ids: frozenset[str]


def _plural(text: str) -> bool:
    """Whether a name reads as plural ("learning rates", "GANs"): options agree in number with the key."""
    last = text.split()[-1] if text.split() else ""
    return len(last) > 3 and last.endswith("s") and not last.endswith(("ss", "us", "is", "ics"))


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
        mentioned: dict[int, set[str]] = {}  # id(term) -> the notes that mention it
        for chunk in chunks:
            for term, _ in names.matches(tokens(chunk.text)):
                mentioned.setdefault(id(term), set()).add(chunk.note_id)
            for sentence in split_sentences(chunk.text):
                for draft in definitional(sentence):
                    text = display(draft.key, names.proper, keep=is_acronym(draft.key))
                    if normalise(text) not in seen and not key_problems(sentence, draft.key):
                        seen.add(normalise(text))
                        phrases.append(Phrase(text, draft.head, frozenset({chunk.note_id}), names.cards_named(text)))
        for term in names.terms:
            if normalise(term.text) not in seen:
                seen.add(normalise(term.text))
                phrases.append(Phrase(term.text, "", frozenset(mentioned.get(id(term), ())), term.card_ids))
        return cls(names, phrases, rank_cards or (lambda text: []))

    def distractors(self, key: str, *, head: str, sentence: str, note_id: str, rng: random.Random,
                    k: int = 3) -> list[str]:
        """Up to ``k`` wrong options for ``key``, best first (see the module docstring)."""
        own = self.names.cards_named(key)
        named = {c for t, _ in self.names.matches(tokens(sentence)) for c in t.card_ids}  # "BatchNorm" for "batch norm"
        synonyms = set(own) | named | {c for t in self.names.terms if t.card_ids & own for c in t.card_ids}
        broader = set().union(*(self.names.broader(c) for c in own)) if own else set()
        key_keys, acronym, size, plural = set(_keys(key)), is_acronym(key), len(key.split()), _plural(key)
        in_sentence = normalise(sentence)
        near = self._near_cards(sentence, own, key)
        scored = []
        for phrase in self.phrases:
            keys = set(_keys(phrase.text))
            if (not keys or keys <= key_keys or key_keys <= keys or phrase.card_ids & synonyms
                    or _keys(phrase.text) in broader or normalise(phrase.text) in in_sentence
                    or is_acronym(phrase.text) != acronym or abs(len(phrase.text.split()) - size) > MAX_WORD_GAP):
                continue
            closeness = max((near.get(c, 0.0) for c in phrase.card_ids), default=0.0)
            same_note = bool(note_id) and note_id in phrase.note_ids
            if not (same_note or closeness or not note_id and not near):
                continue  # off the field: neither in the student's note nor near the sentence's topic
            score = (4 * bool(head and phrase.head == head) + closeness + 3 * same_note
                     + (abs(len(phrase.text.split()) - size) <= 1) + 0.5 * (_plural(phrase.text) == plural))
            scored.append((-score, rng.random(), phrase.text, phrase.card_ids))
        chosen: list[str] = []
        cards_chosen: set[str] = set()
        for _, _, text, cards in sorted(scored):
            if cards & cards_chosen:
                continue  # two names of one concept ("layer norm", "layer normalisation"): both would be wrong
            if all(not (set(_keys(text)) <= set(_keys(c)) or set(_keys(c)) <= set(_keys(text))) for c in chosen):
                chosen.append(text)
                cards_chosen |= cards
            if len(chosen) == k:
                break
        return chosen

    def _near_cards(self, sentence: str, own: frozenset[str], key: str = "") -> dict[str, float]:
        """How close each card is to the sentence's subject or the key (a name of no card, "Shapley value"):
        3 for the best retrieval match, down to 1."""
        near: dict[str, float] = {}
        for card_id in own:
            card = self.names.cards[card_id]
            near |= {c.id: 1.0 for c in self.names.cards.values() if c.area == card.area}
            near |= {r: 2.0 for r in card.related}
        for query in (sentence, key) if key else (sentence,):
            for rank, card_id in enumerate(self.rank_cards(query)[:8]):
                near[card_id] = max(near.get(card_id, 0.0), 3.0 - rank / 4)
        return near
