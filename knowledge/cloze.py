"""Quiz items from a student's note chunks: self-contained sentences made into questions (pure, no model).

A sentence becomes an item only if it stands alone (:mod:`knowledge.note_checks`: no "this design", no
code, no figure or section references, no "thus"/"as expected"/"the new ...", a sensible length;
:mod:`knowledge.note_precision`: no unnamed "the gates", no blank inside a list). Definitional sentences
come first and are turned into questions where a rule can (:mod:`knowledge.note_forms`: "X is a method that ..." ->
"Which method ...?"); other sentences are blanked at the most specific concept name the cards know
(idf over cards and notes: "dropout" beats "model"). The key is stated in the sentence - the student's
own notes - so it is right by construction, and the key checks refuse anything but a content phrase
stated once. Distractors are other key phrases of the same kind (:mod:`knowledge.note_distractors`), never
one the notes liken to the key or a kind of it (card_families.yaml: no "GRU" against "RNN").

No model call: choosing among these candidates with the fine-tuned model has not been shown to help
(no committed ablation), so the rules' order stands.

    names = ConceptNames.build(load_cards(), documents=[c.text for c in chunks])
    for item in cloze_items(chunk, names):
        print(item.stem, item.answer, item.distractors, item.source)

The quiz planner uses :func:`note_cloze_items` (plan items ``note:<id>#<chunk>`` with
``fact`` = sentence index) and the writer :func:`note_fact`, which returns the item as a fact.
"""

from __future__ import annotations

import random
import re
import weakref
from collections import Counter
from functools import lru_cache
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from knowledge.cards import load_yaml
from knowledge.chunking import split_sentences
from knowledge.names import ConceptNames, Span, Term, display, tokens
from knowledge.note_distractors import PhrasePool
from knowledge.note_kinds import card_kind_map
from knowledge.note_checks import content_words, plain_text
from knowledge.note_context import context_problems, detach
from knowledge.note_terms import note_terms
from knowledge.note_forms import BLANK, FORMS, Draft, cloze, definitional, named_questions, problems
from knowledge.note_precision import family_map, precision_problems
from schemas.knowledge import Fact, NoteChunk
from schemas.text import normalise

if TYPE_CHECKING:
    from knowledge.base import KnowledgeBase

__all__ = ["BLANK", "ClozeItem", "cloze_items", "cloze_for_sentence", "note_cloze_items", "note_fact"]
_LIST_MARKERS = ("- ", "* ", "+ ", "• ")
# Of the three options shown, how many must carry evidence of the key's kind (knowledge.note_kinds). Kind evidence
# ranks options first; as a gate it cost too many questions: on the 9 dev chapters of the notes report, 1 kept
# about 8 questions and 2 about 6, against 32 without (one chapter rarely names three peers of its key).
SAME_KIND = 0
# Questions with one answer per notes quiz: round 1 asked 10 Shapley-value items of 10, three near-identical.
MAX_SAME_ANSWER = 3
CARD_KINDS = Path(__file__).with_name("data") / "card_kinds.yaml"
CARD_FAMILIES = Path(__file__).with_name("data") / "card_families.yaml"
SAME_QUESTION_OVERLAP = 0.5  # share of content words two items on one answer may share before one is dropped


@dataclass(frozen=True)
class ClozeItem:
    """One question drawn from a sentence of a note chunk."""

    stem: str  # a question, or the sentence with the key replaced by ``BLANK``
    answer: str
    distractors: tuple[str, ...]  # 3 to 5: the writer samples three, so a retry can avoid one the key check refuses
    sentence: str  # the original sentence (the explanation shown after answering)
    source: str  # "note:<id>#<chunk>"
    sentence_index: int  # index into ``split_sentences(chunk.text)``
    card_id: str  # the card the answer names ("" when the answer is a term of the notes only)
    concept: str  # that card's title, else the note section's heading
    fact_id: str  # stable: from the chunk's text and the sentence index (NoteChunk.fact_id)
    form: str = "cloze-name"  # how the stem was made (knowledge.note_forms.FORMS)

    def as_fact(self) -> Fact:
        """The item in the card-fact shape the quiz writer already handles."""
        return Fact(
            id=self.fact_id,
            kind="recall",  # a term of the student's own sentence
            difficulty="easy" if self.form.startswith("cloze") else "medium",
            statement=self.sentence, answer=self.answer, questions=[self.stem], distractors=list(self.distractors)
        )


def cloze_items(chunk: NoteChunk, names: ConceptNames, *, max_items: int = 3, seed: int = 0,
                pool: PhrasePool | None = None) -> list[ClozeItem]:
    """Up to ``max_items`` items from ``chunk``: question forms first, then the most specific answers; in text order."""
    pool = pool or PhrasePool.build(names, [chunk])
    count = len(split_sentences(chunk.text))
    items = [it for i in range(count) if (it := cloze_for_sentence(chunk, i, names, seed, pool)) is not None]
    ranked = sorted(items, key=lambda it: (FORMS.index(it.form), -names.idf(_keys(it.answer))))
    chosen: list[ClozeItem] = []
    for item in ranked:
        if len(chosen) < max_items and all(normalise(item.answer) != normalise(c.answer) for c in chosen):
            chosen.append(item)
    return sorted(chosen, key=lambda it: it.sentence_index)


def candidate_drafts(sentence: str, names: ConceptNames) -> list[Draft]:
    """Every draft the rules can make of ``sentence``, best first (unchecked)."""
    drafts = definitional(sentence)
    matches = names.matches(tokens(sentence))
    spans = {span for _, span in matches}
    for span in sorted(spans, key=lambda s: (s[0] - s[1], s[0])):  # longest names first
        if sum(1 for s in spans if _within(span, s)) == 1:  # not part of a longer name
            drafts.extend(named_questions(sentence, span))
    chosen = _key_name(matches, names)
    if chosen is not None and (draft := cloze(sentence, chosen[1])) is not None:
        drafts.append(draft)
    return sorted(drafts, key=lambda d: FORMS.index(d.form))


def known_words(names: ConceptNames) -> frozenset[str]:
    """Lower-cased words a capitalised word inside a sentence may be: the cards' proper nouns and name words."""
    held = _KNOWN.get(id(names))
    if held is None or held[0]() is not names:
        _KNOWN.clear()
        held = _KNOWN[id(names)] = (weakref.ref(names), names.proper | {w.lower() for t in names.terms
                                                                         for w in t.text.split()})
    return held[1]


_KNOWN: dict[int, tuple[weakref.ref, frozenset[str]]] = {}


def cloze_for_sentence(chunk: NoteChunk, index: int, names: ConceptNames, seed: int = 0,
                       pool: PhrasePool | None = None) -> ClozeItem | None:
    """The item for sentence ``index`` of ``chunk`` (see :func:`split_sentences`), or None if it makes no fair one."""
    sentences = split_sentences(chunk.text)
    if not 0 <= index < len(sentences):
        return None
    sentence = detach(plain_text(_unlisted(sentences[index])))
    if context_problems(sentence, known_words(names)):
        return None  # a player of the book's running example ("for Adelie") or a person
    pool = pool or PhrasePool.build(names, [chunk])
    for draft in candidate_drafts(sentence, names):
        if problems(sentence, draft) or precision_problems(sentence, draft.key, draft.stem, names):
            continue
        answer = display(draft.key, names.proper, keep=draft.key.isupper() or draft.form == "called")
        # Seeded by the sentence's stable fact id, not chunk.source: the source holds the note id, a hash of the
        # file's path, so the same notes uploaded to another folder got other options (notes report, two runs).
        rng = random.Random(f"cloze:{seed}:{chunk.fact_id(index)}")
        distractors = pool.distractors(answer, head=draft.head, sentence=sentence, note_id=chunk.note_id, rng=rng,
                                       k=5, stem=draft.stem.replace(BLANK, " "), same_kind=SAME_KIND)
        if len(distractors) < 3:
            continue
        card_ids = names.cards_named(answer)
        card = names.cards[min(card_ids)] if card_ids else None
        return ClozeItem(draft.stem, answer, tuple(distractors), sentence, chunk.source, index,
                         card.id if card else "", card.title if card else _section(chunk), chunk.fact_id(index),
                         draft.form)
    return None


def _unlisted(sentence: str) -> str:
    text = sentence.strip()
    for marker in _LIST_MARKERS:
        text = text.removeprefix(marker)
    return text


def _section(chunk: NoteChunk) -> str:
    """The chunk's section heading, else the note's file name: what a note-only item is "about"."""
    first = chunk.text.lstrip().split("\n", 1)[0]
    heading = re.sub(r"\s*\{[^}]*\}", "", first.lstrip("#")).strip() if first.startswith("#") else ""
    return (heading or PurePath(chunk.path).stem or "your notes")[:120]


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


def _keys(text: str) -> tuple[str, ...]:
    return tuple(k for k, _, _ in tokens(text))


def _within(inner: Span, outer: Span) -> bool:
    return outer[0] <= inner[0] and inner[1] <= outer[1]


# --------------------------------------------------------------------- knowledge-base glue

_NAMES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_POOLS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def names_for(kb: "KnowledgeBase") -> ConceptNames:
    """The concept names of ``kb``'s cards, with its note chunks counted in; built once per knowledge base."""
    if kb not in _NAMES:
        texts = [c.text for c in kb.chunks.values()]
        _NAMES[kb] = ConceptNames.build(kb.cards.values(), texts, extra=note_terms(texts))
    return _NAMES[kb]


def pool_for(kb: "KnowledgeBase") -> PhrasePool:
    """The options pool of ``kb`` (its cards' names and its notes' defined terms); built once per knowledge base."""
    if kb not in _POOLS:
        def rank_cards(text: str) -> list[str]:
            return [hit.key for hit in kb.search(text, k=8, kinds=("card",))]

        _POOLS[kb] = PhrasePool.build(names_for(kb), list(kb.chunks.values()), rank_cards, card_kinds(),
                                      card_families())
    return _POOLS[kb]


@lru_cache(maxsize=1)
def card_kinds() -> dict[str, frozenset[str]]:
    """The cards' kinds (knowledge/data/card_kinds.yaml): peers offered as wrong options for each other."""
    return card_kind_map(load_yaml(CARD_KINDS.read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def card_families() -> dict[str, frozenset[str]]:
    """Card id -> the cards above or below it (knowledge/data/card_families.yaml): never options for each other."""
    return family_map(load_yaml(CARD_FAMILIES.read_text(encoding="utf-8")))


def note_cloze_items(kb: "KnowledgeBase", topic: str | None, *, chunks: int = 3,
                     per_chunk: int = 2) -> list[list[ClozeItem]]:
    """Items from the note chunks that best match ``topic`` (every chunk, in order, when None), grouped by chunk."""
    if topic:
        found = [hit.chunk for hit in kb.search(topic, k=chunks, kinds=("note",)) if hit.chunk is not None]
    else:
        found = list(kb.chunks.values())
    groups, answers = [], Counter()
    for chunk in found:
        items = cloze_items(chunk, names_for(kb), max_items=per_chunk, pool=pool_for(kb))
        items = [it for it in items if not any(_same_question(it, k) for g in groups for k in g)]
        items = [it for it in items if answers.update([normalise(it.answer)]) or answers[normalise(it.answer)]
                 <= MAX_SAME_ANSWER]
        if items:
            groups.append(items)
    return groups


def _same_question(a: ClozeItem, b: ClozeItem) -> bool:
    """Whether two items ask for the same answer with mostly the same words ("the average of all marginal
    contributions" twice, blind review round 1)."""
    if normalise(a.answer) != normalise(b.answer):
        return False
    wa, wb = ({w.lower() for w in content_words(x.sentence)} for x in (a, b))
    return len(wa & wb) >= SAME_QUESTION_OVERLAP * min(len(wa), len(wb))


def note_item(kb: "KnowledgeBase", source: str, index: int) -> ClozeItem:
    """The item for sentence ``index`` of chunk ``source``; KeyError if that sentence makes none."""
    chunk = kb.chunks.get(source)
    item = cloze_for_sentence(chunk, index, names_for(kb), pool=pool_for(kb)) if chunk is not None else None
    if item is None:
        raise KeyError(f"no question from {source} sentence {index}")
    return item


def note_fact(kb: "KnowledgeBase", source: str, index: int) -> tuple[str, Fact]:
    """(the concept the item is about, the item as a fact) for sentence ``index`` of chunk ``source``; KeyError if none."""
    item = note_item(kb, source, index)
    return item.concept, item.as_fact()


def note_fact_by_id(kb: "KnowledgeBase", fact_id: str) -> tuple[str, Fact] | None:
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
