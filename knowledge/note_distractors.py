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

Kind evidence (:mod:`knowledge.note_kinds`: the same head noun as the key among the note's own phrases, a card
fact offering both as options, both listed side by side, both subjects of the notes) ranks first; never offered:
a name of a whole field ("machine learning"), something that is not a name, the note's own title subject,
an option another sentence of the notes also states with most of the question's words, or a kind of the key or
the key's kind (:mod:`knowledge.note_precision`: "GRU" against "RNN", "smooth L1 loss" against "loss functions").

    pool = PhrasePool.build(names, chunks)
    pool.distractors("dropout", head="regularisation method", sentence=s, note_id="3f2a...", rng=random.Random(0))
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from knowledge.chunking import split_sentences
from knowledge.names import ConceptNames, display, is_acronym, tokens
from knowledge.note_checks import CODE, GENERIC, key_problems
from knowledge.note_forms import definitional
from knowledge.note_terms import note_title
from knowledge.note_kinds import also_stated, coordinated, head_noun, index_keys, is_broad, is_name, noun_phrases, sibling_sets
from knowledge.note_precision import alike, family_related, head_related, likened
from knowledge.note_presupposition import initials, variant
from schemas.knowledge import NoteChunk
from schemas.text import normalise

MAX_WORD_GAP = 2
MIN_CARD_LINKS = 2  # names of two cards offered side by side this often make the cards one kind (one link is noise)
MIN_CLOSENESS = 2.0  # a card this near the sentence (a related card, a top-5 retrieval hit) may be offered
MIN_HEAD_PHRASE = 2  # times a phrase ending in the key's head must occur in the note to be offered
# Heads too vague to make two phrases the same kind ("feature value" is no peer of "Shapley value").
_VAGUE_HEADS = frozenset(index_keys(" ".join(GENERIC - {"function", "functions", "algorithm", "algorithms",
                                                         "technique", "techniques", "method", "methods"})))


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
    sentences: list[frozenset[str]] = field(default_factory=list, repr=False)  # index keys of each note sentence
    texts: dict[str, str] = field(default_factory=dict, repr=False)  # note id -> its text (for head phrases)
    siblings: dict[tuple[str, ...], frozenset] = field(default_factory=dict, repr=False)
    card_siblings: dict[str, frozenset] = field(default_factory=dict, repr=False)  # card id -> same-kind cards
    topics: dict[str, tuple[tuple[str, ...], frozenset]] = field(default_factory=dict, repr=False)  # note's title
    card_kinds: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)  # card id -> its kinds
    families: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)  # card id -> its kinds below
    alike: list[frozenset] = field(default_factory=list, repr=False)  # names the notes liken ("Like X, Y ...")

    @classmethod
    def build(cls, names: ConceptNames, chunks: list[NoteChunk],
              rank_cards: Callable[[str], list[str]] | None = None,
              card_kinds: dict[str, frozenset[str]] | None = None,
              families: dict[str, frozenset[str]] | None = None) -> "PhrasePool":
        seen: set[str] = set()
        phrases: list[Phrase] = []
        mentioned: dict[int, set[str]] = {}  # id(term) -> the notes that mention it
        sentences: list[frozenset[str]] = []
        likened_groups: list[frozenset] = []
        texts: dict[str, str] = {}
        for chunk in chunks:
            prose = [x for x in split_sentences(chunk.text) if x[:1].isupper() and not CODE.search(x)]
            texts[chunk.note_id] = texts.get(chunk.note_id, "") + "\n" + "\n".join(prose)
            for term, _ in names.matches(tokens(chunk.text)):
                mentioned.setdefault(id(term), set()).add(chunk.note_id)
            for sentence in split_sentences(chunk.text):
                sentences.append(frozenset(index_keys(sentence)))
                likened_groups.extend(alike(sentence, names))
                for draft in definitional(sentence):
                    text = display(draft.key, names.proper, keep=is_acronym(draft.key))
                    if normalise(text) not in seen and not key_problems(sentence, draft.key):
                        seen.add(normalise(text))
                        phrases.append(Phrase(text, draft.head, frozenset({chunk.note_id}), names.cards_named(text)))
        for term in names.terms:
            if normalise(term.text) not in seen:
                seen.add(normalise(term.text))
                phrases.append(Phrase(term.text, "", frozenset(mentioned.get(id(term), ())), term.card_ids))
        own_acronyms = Counter(a for text in texts.values() for a in re.findall(r"\b[A-Z][A-Z0-9-]{2,7}\b", text)
                               if not names.cards_named(a))
        for acronym, count in own_acronyms.items():
            if count >= MIN_HEAD_PHRASE and normalise(acronym) not in seen:
                seen.add(normalise(acronym))  # "SHAP", "ICE" in a chapter on LIME: names of the notes' own field
                phrases.append(Phrase(acronym, "", frozenset(n for n, t in texts.items() if acronym in t), frozenset()))
        siblings = sibling_sets([f.answer, *f.distractors] for c in names.cards.values() for f in c.facts)
        texts_listing = [f.statement for c in names.cards.values() for f in c.facts] + [
            x for t in texts.values() for x in t.split("\n") if x]
        for text in texts_listing:
            longest = [(t.keys, span) for t, span in names.matches(tokens(text))]
            for a, b in coordinated(text, longest):
                siblings[a] = siblings.get(a, frozenset()) | {b}
                siblings[b] = siblings.get(b, frozenset()) | {a}
        topics = {}
        for chunk in chunks:
            if chunk.chunk == 0 and (title := note_title(chunk.text)):
                topics[chunk.note_id] = (_keys(title), names.cards_named(title))
        return cls(names, phrases, rank_cards or (lambda text: []), sentences, texts, siblings,
                   _card_siblings(names, siblings), topics, card_kinds or {}, families or {}, likened_groups)

    def distractors(self, key: str, *, head: str, sentence: str, note_id: str, rng: random.Random,
                    k: int = 3, stem: str = "", same_kind: int = 0) -> list[str]:
        """Up to ``k`` wrong options for ``key``, best first (see the module docstring); [] unless at least
        ``same_kind`` of the first three carry evidence of being the key's kind (:mod:`knowledge.note_kinds`)."""
        own = self.names.cards_named(key)
        named = {c for t, _ in self.names.matches(tokens(sentence)) for c in t.card_ids}  # "BatchNorm" for "batch norm"
        synonyms = set(own) | named | {c for t in self.names.terms if t.card_ids & own for c in t.card_ids}
        broader = set().union(*(self.names.broader(c) for c in own)) if own else set()
        key_keys, acronym, size, plural = set(_keys(key)), is_acronym(key), len(key.split()), _plural(key)
        in_sentence = normalise(sentence)
        near = self._near_cards(sentence, own, key)
        subjects = {t.keys for t in self.names.terms if not t.card_ids} | {  # the notes' own subjects and acronyms
            _keys(p.text) for p in self.phrases if not p.card_ids and is_acronym(p.text)}
        key_subject, siblings = _keys(key) in subjects, self.siblings.get(_keys(key), frozenset())
        card_siblings = set().union(*(self.card_siblings.get(c, frozenset()) for c in own)) if own else set()
        key_kinds = set().union(*(self.card_kinds.get(c, frozenset()) for c in own)) if own else set()
        key_head = key.split()[-1] if size > 1 and head_noun(key) not in _VAGUE_HEADS else ""
        scored = []
        for phrase in self._with_head(key_head, note_id, size):
            keys = set(_keys(phrase.text))
            if (not keys or keys <= key_keys or key_keys <= keys or phrase.card_ids & synonyms
                    or _keys(phrase.text) in broader or normalise(phrase.text) in in_sentence
                    or is_acronym(phrase.text) != acronym or abs(len(phrase.text.split()) - size) > MAX_WORD_GAP
                    or is_broad(phrase.text) or not is_name(phrase.text) or self._is_topic(phrase, note_id)
                    or stem and also_stated(phrase.text, stem, key, self.sentences)
                    or family_related(own, phrase.card_ids, self.families) or head_related(key, phrase.text)
                    or likened(_keys(key), own, _keys(phrase.text), phrase.card_ids, self.alike)
                    or variant(key, phrase.text) or self._spells_key(phrase.text, own)):
                continue  # a kind of the key, its kind ("GRU" for "RNN") or a variant ("SBRL" for "BRL"): true too
            closeness = max((near.get(c, 0.0) for c in phrase.card_ids), default=0.0)
            same_note = bool(note_id) and note_id in phrase.note_ids
            sibling = (_keys(phrase.text) in siblings or bool(phrase.card_ids & card_siblings)
                       or any(self.card_kinds.get(c, frozenset()) & key_kinds for c in phrase.card_ids))
            if not (same_note or closeness or sibling or not note_id and not near):
                continue  # off the field: neither in the student's note nor near the sentence's topic
            same_head = bool(key_head) and (same_note or not note_id) and head_noun(phrase.text) == head_noun(key)
            kind = (5 * same_head + 5 * sibling
                    + 3 * (key_subject and _keys(phrase.text) in subjects) + 4 * bool(head and phrase.head == head))
            score = (kind + closeness + 3 * same_note
                     + (abs(len(phrase.text.split()) - size) <= 1) + 0.5 * (_plural(phrase.text) == plural))
            if note_id and not (kind or same_note or closeness >= MIN_CLOSENESS):
                continue  # neither of the key's kind, nor in the note, nor a close card: "leaky ReLU" for "learning rate"
            scored.append((-score, rng.random(), phrase.text, phrase.card_ids, kind > 0))
        chosen: list[tuple[str, bool]] = []
        cards_chosen: set[str] = set()
        for _, _, text, cards, of_kind in sorted(scored):
            if cards & cards_chosen:
                continue  # two names of one concept ("layer norm", "layer normalisation"): both would be wrong
            if all(not (set(_keys(text)) <= set(_keys(c)) or set(_keys(c)) <= set(_keys(text))) for c, _ in chosen):
                chosen.append((text, of_kind))
                cards_chosen |= cards
            if len(chosen) == k:
                break
        if sum(of_kind for _, of_kind in chosen[:3]) < same_kind:
            return []
        return [text for text, _ in chosen]

    def _spells_key(self, text: str, own: frozenset[str]) -> bool:
        """Whether ``text``'s initials are a name of the key's card (blind review round 3, itree-01: "classification
        and regression trees" spells CART, a name of decision trees)."""
        return len(text.split()) > 2 and bool(own & self.names.cards_named(initials(text)))

    def _is_topic(self, phrase: Phrase, note_id: str) -> bool:
        """Whether ``phrase`` names what the whole note is about (its title): nearly every sentence of a chapter
        on batch normalisation is also true of batch normalisation (blind review round 1, batch-norm-03)."""
        keys, cards = self.topics.get(note_id, ((), frozenset()))
        return bool(keys) and _keys(phrase.text) == keys or bool(cards & phrase.card_ids)

    def _with_head(self, head: str, note_id: str, size: int) -> list[Phrase]:
        """The pool, plus the note's own phrases ending in ``head`` ("pooling layers" for "convolutional layers")."""
        if not head or note_id not in self.texts:
            return self.phrases
        known = {normalise(p.text) for p in self.phrases}
        extra, seen = [], set()
        found = [display(t, self.names.proper, keep=is_acronym(t))
                 for t in noun_phrases(self.texts[note_id], head, max_words=max(2, size))]
        counts = Counter(normalise(t) for t in found)
        for shown in found:
            if counts[normalise(shown)] < MIN_HEAD_PHRASE:
                continue  # said once: more likely a stray word before the head ("understanding convolutional layers")
            if normalise(shown) not in known and normalise(shown) not in seen and not key_problems(shown, shown):
                seen.add(normalise(shown))
                extra.append(Phrase(shown, "", frozenset({note_id}), self.names.cards_named(shown)))
        return self.phrases + extra

    def _near_cards(self, sentence: str, own: frozenset[str], key: str = "") -> dict[str, float]:
        """How close each card is to the sentence's subject or the key (a name of no card, "Shapley value"):
        3 for the best retrieval match, down to 1."""
        near: dict[str, float] = {}
        for card_id in sorted(own):
            card = self.names.cards[card_id]
            # max, not overwrite: with two own cards, the second card's area (1) overwrote the first's related
            # cards (2) in set order, so options changed with PYTHONHASHSEED (notes report, "warmup").
            for other, closeness in [*((c.id, 1.0) for c in self.names.cards.values() if c.area == card.area),
                                     *((r, 2.0) for r in card.related)]:
                near[other] = max(near.get(other, 0.0), closeness)
        for query in (sentence, key) if key else (sentence,):
            for rank, card_id in enumerate(self.rank_cards(query)[:8]):
                near[card_id] = max(near.get(card_id, 0.0), 3.0 - rank / 4)
        return near


def _card_siblings(names: ConceptNames, siblings: dict[tuple[str, ...], frozenset]) -> dict[str, frozenset]:
    """Cards of one kind: some name of each is offered beside a name of the other (a card fact's options, a list)."""
    by_keys = {t.keys: t.card_ids for t in names.terms}
    links: Counter = Counter()
    for keys, others in siblings.items():
        for card in by_keys.get(keys, ()):
            links.update((card, c) for other in others for c in by_keys.get(other, ()) if c != card)
    linked: dict[str, set[str]] = {}
    for (card, other), count in links.items():
        if count >= MIN_CARD_LINKS:
            linked.setdefault(card, set()).add(other)
    return {c: frozenset(v) for c, v in linked.items()}
