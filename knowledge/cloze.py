"""Cloze (fill-in-the-blank) quiz items from a student's note chunks (pure, deterministic, no model).

A sentence from the notes becomes a question by blanking one concept name the cards know
(:mod:`knowledge.names`); the key is that name, so it is right by construction - the student
wrote the sentence. The most specific name wins (idf over cards and notes: "dropout" beats
"model"). Distractors are names of the same kind (acronyms for an acronym, concept names for a
name) from the answer card's related cards, then from its area - never a name in the sentence,
a broader or narrower name of the answer ("regularisation" for "L2 regularisation"), a name the
answer's card files itself under, or a card that shares a name with it (near-synonyms).

    names = ConceptNames.build(load_cards(), documents=[c.text for c in chunks])
    for item in cloze_items(chunk, names):
        print(item.stem, item.answer, item.distractors, item.source)

The quiz planner uses :func:`note_cloze_items` (plan items ``note:<id>#<chunk>`` with
``fact`` = sentence index) and the writer :func:`note_fact`, which returns the item as a card fact.
"""

from __future__ import annotations

import random
import weakref
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from knowledge.chunking import split_sentences
from knowledge.names import ConceptNames, Span, Term, display, tokens
from knowledge.retrieval import words
from schemas.knowledge import ConceptCard, Fact, NoteChunk
from schemas.text import normalise

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase

BLANK = "____"
MIN_SENTENCE, MAX_SENTENCE = 40, 230  # the stem is the sentence, and stems are at most 240 characters
MIN_CONTEXT_WORDS = 4  # content words left beside the blank, so the sentence still says something


@dataclass(frozen=True)
class ClozeItem:
    """One fill-in-the-blank question drawn from a note chunk."""

    stem: str  # the sentence with the key name replaced by ``BLANK``
    answer: str
    distractors: tuple[str, str, str]
    sentence: str  # the original sentence (the explanation shown after answering)
    source: str  # "note:<id>#<chunk>"
    sentence_index: int  # index into ``split_sentences(chunk.text)``
    card_id: str  # the card the answer names
    concept: str  # that card's title
    fact_id: str  # stable: from the chunk's text and the sentence index (NoteChunk.fact_id)

    def as_fact(self) -> Fact:
        """The item in the card-fact shape the quiz writer already handles."""
        return Fact(
            id=self.fact_id,
            kind="recall",  # a blanked name from the student's own sentence
            difficulty="easy",
            statement=self.sentence, answer=self.answer, questions=[self.stem], distractors=list(self.distractors)
        )


def cloze_items(chunk: NoteChunk, names: ConceptNames, *, max_items: int = 3, seed: int = 0) -> list[ClozeItem]:
    """Up to ``max_items`` items from ``chunk``, most specific answers first, no answer twice; in text order."""
    items = [cloze_for_sentence(chunk, i, names, seed) for i in range(len(split_sentences(chunk.text)))]
    ranked = sorted((it for it in items if it is not None), key=lambda it: -names.idf(_keys(it.answer)))
    chosen: list[ClozeItem] = []
    for item in ranked:
        if len(chosen) < max_items and all(normalise(item.answer) != normalise(c.answer) for c in chosen):
            chosen.append(item)
    return sorted(chosen, key=lambda it: it.sentence_index)


def cloze_for_sentence(chunk: NoteChunk, index: int, names: ConceptNames, seed: int = 0) -> ClozeItem | None:
    """The item for sentence ``index`` of ``chunk`` (see :func:`split_sentences`), or None if it makes no fair one."""
    sentences = split_sentences(chunk.text)
    sentence = _statement(sentences[index]) if 0 <= index < len(sentences) else None
    if sentence is None:
        return None
    sentence_tokens = tokens(sentence)
    matches = names.matches(sentence_tokens)
    chosen = _key_name(matches, names)
    if chosen is None:
        return None
    key, (start, end) = chosen
    stem = sentence[:start] + BLANK + sentence[end:]
    if sum(1 for w in words(stem) if w.isalpha()) < MIN_CONTEXT_WORDS:
        return None
    answer = display(sentence[start:end], names.proper, keep=key.acronym)
    rng = random.Random(f"cloze:{seed}:{chunk.source}:{index}")
    distractors = _distractors(key, answer, {t.text for t, _ in matches} | {answer}, names, rng)
    if len(distractors) < 3:
        return None
    card = names.cards[min(key.card_ids)]
    return ClozeItem(stem, answer, tuple(distractors), sentence, chunk.source, index, card.id, card.title,
                     chunk.fact_id(index))


def _key_name(matches: list[tuple[Term, Span]], names: ConceptNames) -> tuple[Term, Span] | None:
    """The most specific name that can be blanked without the sentence giving it away."""
    best = None
    for candidate, span in matches:
        if sum(1 for t, _ in matches if t is candidate) != 1:
            continue  # said twice: one blank would leave the answer in the stem
        if any(_within(span, s) and s != span for _, s in matches):
            continue  # part of a longer name ("regularisation" in "L2 regularisation"): blank the whole name
        if any(t is not candidate and t.card_ids & candidate.card_ids and not _within(s, span) for t, s in matches):
            continue  # a synonym elsewhere in the sentence gives the answer away
        score = names.idf(candidate.keys) + 0.5 * candidate.from_title + 0.2 * (len(candidate.keys) - 1)
        if score > 0 and (best is None or score > best[0]):
            best = (score, candidate, span)
    return None if best is None else (best[1], best[2])


def _distractors(key: Term, answer: str, present: set[str], names: ConceptNames, rng: random.Random) -> list[str]:
    """Three names of the same kind, closest cards first, none of which could also be right."""
    own = key.card_ids
    excluded = set(own) | {c for t in names.terms if t.card_ids & own for c in t.card_ids}  # near-synonym cards
    related = [r for c in sorted(own) for r in names.cards[c].related]
    related += [c.id for c in names.cards.values() if own & set(c.related)]
    areas = {names.cards[c].area for c in own}
    same_area = [c.id for c in names.cards.values() if c.area in areas]
    answer_keys = set(key.keys) | set(_keys(answer))
    broader = set().union(*(names.broader(c) for c in own))
    by_card: dict[str, list[Term]] = defaultdict(list)
    for t in names.terms:
        if t.acronym == key.acronym:
            for card_id in t.card_ids:
                by_card[card_id].append(t)

    def fair(t: Term, chosen: list[str]) -> bool:
        keys = set(t.keys)
        return not (keys <= answer_keys or answer_keys <= keys or t.keys in broader or t.text in present
                    or any(normalise(t.text) == normalise(c) for c in chosen))

    chosen: list[str] = []
    used: set[str] = set()
    for tier in (related, same_area):
        tier = [c for c in dict.fromkeys(tier) if c not in excluded]
        rng.shuffle(tier)
        for titles_only in (True, False):  # concept names (titles) before other names
            for card_id in tier:
                pick = next((t for t in by_card.get(card_id, []) if card_id not in used
                             and (t.from_title or not titles_only) and fair(t, chosen)), None)
                if pick is not None:
                    chosen.append(pick.text)
                    used.add(card_id)
                if len(chosen) == 3:
                    return chosen
    return chosen


def _statement(sentence: str) -> str | None:
    """The sentence without a list marker, if it is a plain statement of fitting length; else None."""
    text = sentence.strip()
    for marker in ("- ", "* ", "+ ", "• "):
        text = text.removeprefix(marker)
    if text.startswith(("#", "|", ">")) or text.endswith("?") or "`" in text:
        return None
    if not MIN_SENTENCE <= len(text) <= MAX_SENTENCE or sum(ch.isalpha() for ch in text) < 0.6 * len(text):
        return None
    return text


def _keys(text: str) -> tuple[str, ...]:
    return tuple(k for k, _, _ in tokens(text))


def _within(inner: Span, outer: Span) -> bool:
    return outer[0] <= inner[0] and inner[1] <= outer[1]


# --------------------------------------------------------------------- knowledge-base glue

_NAMES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def names_for(kb: "KnowledgeBase") -> ConceptNames:
    """The concept names of ``kb``'s cards, with its note chunks counted in; built once per knowledge base."""
    if kb not in _NAMES:
        _NAMES[kb] = ConceptNames.build(kb.cards.values(), [c.text for c in kb.chunks.values()])
    return _NAMES[kb]


def note_cloze_items(kb: "KnowledgeBase", topic: str, *, chunks: int = 3, per_chunk: int = 2) -> list[list[ClozeItem]]:
    """Cloze items from the note chunks that best match ``topic``, grouped by chunk (best chunk first)."""
    groups = []
    for hit in kb.search(topic, k=chunks, kinds=("note",)):
        items = cloze_items(hit.chunk, names_for(kb), max_items=per_chunk) if hit.chunk is not None else []
        if items:
            groups.append(items)
    return groups


def note_fact(kb: "KnowledgeBase", source: str, index: int) -> tuple[ConceptCard, Fact]:
    """(card the answer names, the item as a fact) for sentence ``index`` of chunk ``source``; KeyError if none."""
    item = cloze_for_sentence(kb.chunks[source], index, names_for(kb)) if source in kb.chunks else None
    if item is None:
        raise KeyError(f"no cloze question for {source} sentence {index}")
    return kb.card(item.card_id), item.as_fact()


def note_fact_by_id(kb: "KnowledgeBase", fact_id: str) -> tuple[ConceptCard, Fact] | None:
    """The note fact with stable id ``fact_id`` (``note-<hash>.s<n>``) among ``kb``'s chunks, or None.

    For stored answers and review schedules: the id survives re-indexing and moving the file, and a
    chunk whose text changed simply no longer has the fact.
    """
    prefix, _, position = fact_id.rpartition(".s")
    if not prefix.startswith("note-") or not position.isdigit():
        return None
    index = int(position)
    for chunk in kb.chunks.values():
        if chunk.fact_id(index) == fact_id:
            try:
                return note_fact(kb, chunk.source, index)
            except KeyError:
                return None
    return None
