"""The concept names the cards know, found in free text (pure): what cloze questions blank and offer.

A name is a card title (without a leading article or parentheses), an alias in the title's
parentheses ("PCA"), or a keyword - if it is specific enough to be a fair answer: several
words, an acronym, or a word of six letters or more ("dropout", not "bias" or "delta").
Names are matched on index terms (:func:`knowledge.terms.term`), so "decision trees" finds
"decision tree" and "regularization" finds "regularisation".

    names = ConceptNames.build(load_cards(), documents=[chunk.text for chunk in chunks])
    names.matches(tokens("Dropout zeroes units."))     # [(Term('dropout', ...), (0, 7))]
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from knowledge.retrieval import card_document
from knowledge.terms import term
from schemas.knowledge import ConceptCard
from schemas.text import normalise

MAX_DOC_SHARE = 0.25  # a name in more than this share of documents is too generic to ask about

Token = tuple[str, int, int]  # (index term, start, end) in the text
Span = tuple[int, int]


@dataclass(frozen=True)
class Term:
    """One concept name."""

    text: str  # display form: "dropout", "PCA", "gradient descent", "Gaussian mixture models"
    keys: tuple[str, ...]  # index terms of its words, for matching
    card_ids: frozenset[str]  # the cards using this name (a shared name marks near-synonyms)
    acronym: bool
    from_title: bool


@dataclass
class ConceptNames:
    """All names, indexed for matching, with document frequencies to tell specific names from generic ones."""

    cards: dict[str, ConceptCard]
    terms: list[Term]
    document_terms: list[frozenset[str]] = field(repr=False)
    proper: frozenset[str] = frozenset()  # lower-cased words the cards capitalise ("adam", "gaussian")
    _by_first: dict[str, list[Term]] = field(default_factory=dict, repr=False)
    _df: dict[tuple[str, ...], int] = field(default_factory=dict, repr=False)
    _broader: dict[str, frozenset[tuple[str, ...]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for t in self.terms:
            self._by_first.setdefault(t.keys[0], []).append(t)

    @classmethod
    def build(cls, cards: Iterable[ConceptCard], documents: Iterable[str] = (),
              extra: Iterable[str] = ()) -> "ConceptNames":
        """Names of ``cards``; ``documents`` (e.g. note chunks) join the cards for document frequencies;
        ``extra`` names (the notes' own subjects, :mod:`knowledge.note_terms`) join as names of no card."""
        cards, extra = list(cards), list(extra)
        proper = _proper_nouns(cards) | {w.lower() for t in extra for w in t.split()[1:] + t.split()[:1]
                                         if w[:1].isupper() and w[1:].islower()}
        entries: dict[str, dict] = {}
        for text in extra:
            keys = tuple(k for k, _, _ in tokens(text))
            if keys and _specific(text, keys):
                entries.setdefault(normalise(text), {"text": text, "keys": keys, "cards": set(), "title": False})
        for card in cards:
            for text, from_title in _names(card):
                shown = display(text, proper)
                keys = tuple(k for k, _, _ in tokens(shown))
                if not keys or not _specific(shown, keys):
                    continue
                entry = entries.setdefault(
                    normalise(shown), {"text": shown, "keys": keys, "cards": set(), "title": False}
                )
                entry["cards"].add(card.id)
                entry["title"] |= from_title
        terms = [Term(e["text"], e["keys"], frozenset(e["cards"]), is_acronym(e["text"]), e["title"])
                 for e in entries.values()]
        texts = [card_document(c) for c in cards] + list(documents)
        document_terms = [frozenset(k for k, _, _ in tokens(t)) for t in texts]
        return cls({c.id: c for c in cards}, terms, document_terms, proper)

    def matches(self, text_tokens: list[Token]) -> list[tuple[Term, Span]]:
        """(name, character span) for every occurrence of a name in the tokenised text."""
        found = []
        for i, (key, _, _) in enumerate(text_tokens):
            for t in self._by_first.get(key, ()):
                n = len(t.keys)
                if tuple(k for k, _, _ in text_tokens[i:i + n]) == t.keys:
                    found.append((t, (text_tokens[i][1], text_tokens[i + n - 1][2])))
        return found

    def idf(self, keys: tuple[str, ...]) -> float:
        """Specificity of a name: log inverse document frequency, 0 when it is too common to ask about."""
        if keys not in self._df:
            wanted = set(keys)
            self._df[keys] = sum(1 for doc in self.document_terms if wanted <= doc)
        df, n = self._df[keys], len(self.document_terms)
        return math.log((n + 1) / (df + 0.5)) if df <= MAX_DOC_SHARE * n else 0.0

    def cards_named(self, text: str) -> frozenset[str]:
        """The cards that use ``text`` (matched on index terms) as a name; empty if none does."""
        keys = tuple(k for k, _, _ in tokens(text))
        return frozenset(c for t in self._by_first.get(keys[0] if keys else "", ()) if t.keys == keys
                         for c in t.card_ids)

    def broader(self, card_id: str) -> frozenset[tuple[str, ...]]:
        """Names the card files its concept under ("is a cheap, effective regulariser", "acts as a regulariser")."""
        if card_id not in self._broader:
            found: set[tuple[str, ...]] = set()
            card = self.cards[card_id]
            for text in [card.summary] + [f.statement for f in card.facts]:
                keys = [k for k, _, _ in tokens(text)]
                for j, word in enumerate(keys):
                    if word in ("is", "as") and keys[j + 1 : j + 2] in (["a"], ["an"]):
                        window = keys[j + 2 : j + 6]
                        found.update(tuple(window[a:b]) for a in range(len(window))
                                     for b in range(a + 1, min(a + 4, len(window) + 1)))
            self._broader[card_id] = frozenset(found)
        return self._broader[card_id]


def tokens(text: str) -> list[Token]:
    """(index term, start, end) of each alphanumeric run ("k-means" -> "k", "means"; stop words kept)."""
    found, start = [], None
    for i, ch in enumerate(text + " "):
        if ch.isalnum():
            start = i if start is None else start
        elif start is not None:
            found.append((term(text[start:i].casefold()), start, i))
            start = None
    return found


def display(text: str, proper: frozenset[str], keep: bool = False) -> str:
    """Lower-case capitalised words ("Dropout" -> "dropout") unless proper nouns, acronyms or mixed case."""
    if keep:
        return text
    out = []
    for word in text.split(" "):
        parts = word.split("-")
        plain = word[:1].isupper() and all(p.isalpha() and (len(p) == 1 or p[1:].islower()) for p in parts)
        out.append(word.lower() if plain and len(parts[0]) > 1 and parts[0].lower() not in proper else word)
    return " ".join(out)


def is_acronym(text: str) -> bool:
    """"SVM", "t-SNE", "LoRA", "AdaBoost": one short word with two or more capitals."""
    return " " not in text and len(text) <= 8 and sum(ch.isupper() for ch in text) >= 2


def _names(card: ConceptCard) -> list[tuple[str, bool]]:
    """(name, from_title) in card order: the title, the title's aliases, the keywords."""
    title = card.title
    names: list[tuple[str, bool]] = []
    if "(" in title and title.endswith(")"):
        main, _, inner = title[:-1].partition("(")
        names += [(alias.strip(), True) for alias in inner.split(",") if alias.strip()]
        title = main.strip()
    for article in ("The ", "A ", "An "):
        title = title.removeprefix(article)
    if len(title.split()) <= 4 and "," not in title:
        names.insert(0, (title, True))
    return names + [(k, False) for k in card.keywords]


def _specific(text: str, keys: tuple[str, ...]) -> bool:
    """Plain words only, and specific: several words, an acronym or six letters or more."""
    if not all(ch.isalnum() or ch in " -'" for ch in text) or len(text) > 60 or len(keys) > 5:
        return False
    return len(keys) > 1 or is_acronym(text) or len(text) >= 6


def _proper_nouns(cards: list[ConceptCard]) -> frozenset[str]:
    """Lower-cased words the cards mostly write capitalised mid-sentence ("Adam", "Gaussian", "Bayes")."""
    capitalised: Counter[str] = Counter()
    other: Counter[str] = Counter()
    for card in cards:
        for text in [card.summary] + [f.statement for f in card.facts]:
            words = text.split()
            for previous, word in zip(words, words[1:]):
                word = word.strip(".,;:()\"'")
                if not word.isalpha() or previous.endswith((".", "?", "!", ":")):
                    continue
                (capitalised if word[0].isupper() and word[1:].islower() else other)[word.lower()] += 1
    return frozenset(w for w, n in capitalised.items() if n > other[w])
