"""Turn-reading training rows: varied student messages -> the reader's one-line answer (deterministic).

Messages are generated from the titles, aliases and keywords of the cards the adapter trains on
(never a held-out card's: a phrase that contains a held-out title, alias or keyword is dropped), in
many phrasings (:mod:`finetune.turn_phrases`) with typos, casing, filler, two-clause requests, counts
and difficulty words, answers as letters, ordinals and words, and every other intent. Each row is the
exact prompt of :func:`prompts.turns.turn_messages` plus the target line of
:meth:`prompts.turns.TurnReading.line` (the topic as word positions, found in the generated message).

    rows = turn_rows(train_cards, heldout_cards, random.Random(1234))   # called by finetune.tutor_data
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from finetune import turn_phrases as P
from prompts.turns import TurnReading, cut_span, find_span, message_words, turn_messages
from schemas.knowledge import ConceptCard
from schemas.quiz import LETTERS

KIND = "turn"
ROWS_PER_CARD = 16
_SYMBOLS = re.compile(r"[^\w\s\-'/+]")
_QUESTION_WORD = re.compile(r"(what|how|why|when|which|who)\b", re.IGNORECASE)  # "What machine learning is": no topic


def card_names(card: ConceptCard) -> list[str]:
    """Title (without article and parentheses), the aliases in its parentheses, and its keywords."""
    title = re.sub(r"^(the|a|an) ", "", card.title, flags=re.IGNORECASE)
    names = [title]
    m = re.match(r"(.*?)\s*\((.*)\)\s*$", title)
    if m:
        names = [m.group(1)] + [a.strip() for a in m.group(2).split(",")]
    return list(dict.fromkeys([*names, *card.keywords]))


def _key(text: str) -> str:
    return " " + " ".join(re.findall(r"[a-z0-9]+", text.lower())) + " "


def banned_names(heldout_cards: Sequence[ConceptCard]) -> list[str]:
    """Normalised titles, aliases and keywords of the held-out cards (never in a generated row)."""
    return sorted({_key(n) for card in heldout_cards for n in card_names(card) if _key(n).strip()})


def topic_phrases(card: ConceptCard, banned: Sequence[str]) -> list[str]:
    """The card's names usable as topics: no symbols, 3+ letters, containing no held-out name."""
    usable = []
    for name in card_names(card):
        if _SYMBOLS.search(name) or len(name) < 3 or len(name.split()) > 6 or _QUESTION_WORD.match(name):
            continue
        if any(b in _key(name) for b in banned):
            continue
        usable.append(name)
    return usable


def turn_rows(train_cards: Sequence[ConceptCard], heldout_cards: Sequence[ConceptCard], rng: random.Random) -> list[dict]:
    """All turn rows: per training card (topics, answers to its questions) plus the topic-free intents."""
    banned = banned_names(heldout_cards)
    rows: list[dict] = []
    for card in train_cards:
        phrases = topic_phrases(card, banned)
        if phrases:
            rows += _card_rows(card, phrases, rng)
    rows += _general_rows(train_cards, banned, rng)
    return [r for r in rows if r is not None and not _mentions(r, banned)]


def _mentions(row: dict, banned: Sequence[str]) -> bool:
    """Whether a row's message contains a held-out name (a generic phrasing may, by chance)."""
    text = _key(row["messages"][-2]["content"])
    return any(b in text for b in banned)


# ----------------------------------------------------------------------------------- one card

def _card_rows(card: ConceptCard, phrases: list[str], rng: random.Random) -> list[dict]:
    rows = []
    for i in range(ROWS_PER_CARD):
        topic = _vary_topic(rng.choice(phrases), rng)
        kind = i % 8
        if kind in (0, 1, 2):
            rows.append(_topic_row("explain", rng.choice(P.EXPLAIN), topic, rng, card))
        elif kind in (3, 4, 5):
            rows.append(_quiz_row(topic, rng, card))
        else:
            rows.append(_answer_row(card, rng))
    return rows


def _vary_topic(topic: str, rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.45:
        return topic.lower() if not topic.isupper() else topic
    if roll < 0.55:
        return topic.upper()
    if roll < 0.68:
        return _typo(topic, rng)
    return topic


def _typo(text: str, rng: random.Random) -> str:
    """One adjacent-letter swap in a word of 5+ letters (a student's typo)."""
    words = text.split()
    long = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not long:
        return text
    i = rng.choice(long)
    j = rng.randrange(1, len(words[i]) - 2)
    w = words[i]
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    return " ".join(words)


def _dress(text: str, rng: random.Random) -> str:
    """Filler before/after and, sometimes, lower case or a typo in the request words."""
    text = rng.choice(P.FILLER_BEFORE) + text + rng.choice(P.FILLER_AFTER)
    roll = rng.random()
    if roll < 0.25:
        text = text.lower()
    elif roll < 0.3:
        text = _typo(text, rng)
    return text


def _topic_row(intent: str, template: str, topic: str, rng: random.Random, card: ConceptCard | None, **details) -> dict | None:
    text = _dress(template.format(t=topic, **{k: v for k, v in details.pop("words", {}).items()}), rng)
    words = message_words(text)
    span = find_span(words, topic)
    if span is None:  # the dressing broke the topic (typo on it): the target would be wrong
        return None
    reading = TurnReading(intent=intent, topic=cut_span(words, *span), **details)
    return _row(text, None, reading, card)


def _quiz_row(topic: str, rng: random.Random, card: ConceptCard) -> dict | None:
    roll = rng.random()
    n = rng.choice((1, 2, 3, 4, 5, 5, 6, 7, 8, 10, 10, 12, 15, 20))
    level = rng.choice(tuple(P.DIFFICULTIES))
    words = {"n": P.COUNT_WORDS.get(n, str(n)) if rng.random() < 0.3 else str(n), "d": rng.choice(P.DIFFICULTIES[level])}
    if roll < 0.4:
        return _topic_row("quiz", rng.choice(P.QUIZ), topic, rng, card)
    if roll < 0.6:
        return _topic_row("quiz", rng.choice(P.QUIZ_COUNT), topic, rng, card, questions=n, words=words)
    if roll < 0.75:
        return _topic_row("quiz", rng.choice(P.QUIZ_DIFFICULTY), topic, rng, card, difficulty=level, words=words)
    if roll < 0.9:
        return _topic_row("quiz", rng.choice(P.QUIZ_BOTH), topic, rng, card, questions=n, difficulty=level, words=words)
    source = "notes" if roll < 0.96 else "cards"
    template = rng.choice(P.NOTES if source == "notes" else P.CARDS)
    return _topic_row("quiz", template, topic, rng, card, source=source)


def _answer_row(card: ConceptCard, rng: random.Random) -> dict:
    fact = rng.choice(card.facts)
    options = [fact.answer, *rng.sample(list(fact.distractors), 3)]
    rng.shuffle(options)
    k = rng.randrange(4)
    letter = LETTERS[k]
    roll = rng.random()
    if roll < 0.5:
        text = rng.choice(P.ANSWER_LETTER).format(L=letter, l=letter.lower())
    elif roll < 0.7:
        text = rng.choice(P.ANSWER_ORDINAL).format(o=P.ORDINALS[k], k=k + 1)
    else:
        words = options[k].rstrip(".").split()
        text = rng.choice(P.ANSWER_WORDS).format(w=" ".join(words[: rng.randint(2, 6)]) if len(words) > 6 else options[k].rstrip("."))
    if rng.random() < 0.15:  # mid-quiz, something else than an answer
        text, reading = _mid_quiz(card, rng)
        return _row(text, options, reading, card)
    return _row(text, options, TurnReading(intent="answer", letter=letter), card)


def _mid_quiz(card: ConceptCard, rng: random.Random) -> tuple[str, TurnReading]:
    roll = rng.random()
    if roll < 0.4:
        return rng.choice(P.SMALLTALK), TurnReading(intent="smalltalk")
    if roll < 0.7:
        letter = rng.choice("EFGHXYZ")
        return rng.choice((letter, letter.lower())), TurnReading(intent="help")
    text = rng.choice(P.HELP)
    return text, TurnReading(intent="help")


# ----------------------------------------------------------------------------- topic-free rows

def _general_rows(cards: Sequence[ConceptCard], banned: Sequence[str], rng: random.Random) -> list[dict]:
    rows = []
    for intent, phrases, count in (("retry", P.RETRY, 90), ("review", P.REVIEW, 80), ("progress", P.PROGRESS, 80),
                                   ("export", P.EXPORT, 80), ("help", P.HELP, 80), ("smalltalk", P.SMALLTALK, 120)):
        rows += [_row(_dress(rng.choice(phrases), rng), None, TurnReading(intent=intent), None) for _ in range(count)]
    rows += [_row(rng.choice(P.JUNK), None, TurnReading(intent="help"), None) for _ in range(60)]
    rows += [_row(rng.choice("ABCDEFGXYZ"), None, TurnReading(intent="help"), None) for _ in range(20)]
    for _ in range(70):
        rows.append(_row(_dress(rng.choice(P.QUIZ_BARE), rng), None, TurnReading(intent="quiz"), None))
    for _ in range(90):
        n, level = rng.choice((2, 3, 4, 5, 6, 8, 10, 12, 15)), rng.choice(tuple(P.DIFFICULTIES))
        template = rng.choice(P.QUIZ_BARE_DETAILS + P.SAME_TOPIC_DETAILS)
        said = {"questions": n if "{n}" in template else None, "difficulty": level if "{d}" in template else None}
        text = template.format(n=P.COUNT_WORDS.get(n, str(n)) if rng.random() < 0.3 else n, d=rng.choice(P.DIFFICULTIES[level]))
        same = template in P.SAME_TOPIC_DETAILS
        rows.append(_row(text, None, TurnReading(intent="quiz", same_topic=same, **said), None))
    rows += [_row(_dress(rng.choice(P.SAME_TOPIC), rng), None, TurnReading(intent="quiz", same_topic=True), None)
             for _ in range(60)]
    return rows


def _row(text: str, options: Sequence[str] | None, reading: TurnReading, card: ConceptCard | None) -> dict:
    messages = [*turn_messages(text, options), {"role": "assistant", "content": reading.line()}]
    return {"messages": messages, "kind": KIND, "card": card.id if card else None}
