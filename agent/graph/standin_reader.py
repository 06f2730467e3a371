"""STAND-IN turn reader (rules only) until helper "turns" lands ``agent.turns.build_reader``.

Same signature as interface A (``reader(text, options) -> TurnRequest``), used by the app and the
model integration test of this branch only; the graph depends on the ``TurnReader`` protocol
(:mod:`agent.graph.context`), never on this module. DELETE at merge and build the reader with
``agent.turns.build_reader(service)`` (one line in :mod:`agent.app.resources`).

Rules: a letter A-D with an answer cue (or with a question waiting) is an answer, and so are the
words of one option; asking to be tested is a quiz whose topic is the span after "on"/"about";
counts ("5 questions") and difficulty words are read; a few keywords mark retry, help, review,
progress, export and small talk; anything else is an explanation.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from schemas import MAX_QUESTIONS
from schemas.turn import MAX_TOPIC_CHARS, TurnRequest

_NUMBERS = {w: n for n, w in enumerate("one two three four five six seven eight nine ten".split(), start=1)}
_COUNT = re.compile(r"\b(\d{1,2}|" + "|".join(_NUMBERS) + r")[\s-]+(?:\w+\s+)?(?:questions?|qs)\b", re.I)
_DIFFICULTY = {"hard": "hard", "harder": "hard", "difficult": "hard", "tough": "hard", "challenging": "hard",
               "easy": "easy", "simple": "easy", "basic": "easy", "beginner": "easy", "medium": "medium"}
_LETTER = re.compile(r"(?<![\w'])([A-D])(?![\w'])(?!\s+[a-z])")
_CUE = re.compile(r"\b(?:answer|i think|it'?s|it is|i choose|i pick|go with|option)\b", re.I)
_LOWER_LETTER = re.compile(r"\b(?:answer|it'?s|it is|choose|pick|option)\s*(?:is\s*)?:?\s*([a-d])\W*$", re.I)
_QUIZ = re.compile(r"\b(?:quiz\w*|test me|test my|exam|examine me|ask me|questions?)\b", re.I)
_TOPIC = re.compile(r"\b(?:on|about|covering|for)\s+(.+?)(?=[?.!,;:]|\s+-\s|\s+(?:with|maybe|using)\b|$)", re.I)
_EXPLAIN_TOPIC = re.compile(
    r"\b(?:what (?:is|are|does)|explain|tell me about|how does|why does|why do|define)\s+(.+?)"
    r"(?=\s+(?:work|mean|do|reduce|help|matter)\b|[?.!,;:]|$)", re.I)
_FILLER = re.compile(r"^(?:the|a|an|some)\s+|\s+(?:please|pls|now|again|then|with|using|and)$", re.I)
_SAME = re.compile(r"\b(?:same(?: topic)?|same one|another (?:one|quiz)|more questions|again)\b", re.I)
_KEYWORDS = (
    ("retry", re.compile(r"\b(?:retry|try again|(?:got|get) wrong|missed)\b", re.I)),
    ("help", re.compile(r"\b(?:help|what can you do|how do i use|commands?)\b", re.I)),
    ("review", re.compile(r"\b(?:review|due|revise)\b", re.I)),
    ("progress", re.compile(r"\b(?:progress|how am i doing|my scores?|mastered)\b", re.I)),
    ("export", re.compile(r"\b(?:export|anki|download)\b", re.I)),
    ("smalltalk", re.compile(r"^\W*(?:hi|hello|hey|thanks?|thank you|thx|cheers|bye|goodbye|ok|okay|cool|great)\b"
                             r"[\w\s!.,']{0,25}$", re.I)),
)
_STOP = {"the", "a", "an", "of", "to", "is", "it", "in", "and", "or", "i", "think", "its", "it's", "answer", "my"}


def build_reader(service=None):
    """The rules-only stand-in (``service`` is accepted for interface A's signature and unused)."""
    return read_turn


def read_turn(text: str, options: Sequence[str] | None = None) -> TurnRequest:
    """One free-text turn read by rules (never raises)."""
    text = " ".join(text.split())
    letter = _letter(text, options)
    if letter is not None:
        return TurnRequest(intent="answer", letter=letter)
    if _QUIZ.search(text):
        topic = _span(_TOPIC, text)
        topic = None if topic and _SAME.search(topic) else topic
        return TurnRequest(intent="quiz", topic=topic, same_topic=topic is None and bool(_SAME.search(text)),
                           questions=_count(text), difficulty=_difficulty(text))
    for intent, pattern in _KEYWORDS:
        if pattern.search(text):
            return TurnRequest(intent=intent)
    return TurnRequest(intent="explain", topic=_span(_EXPLAIN_TOPIC, text))


def _letter(text: str, options: Sequence[str] | None) -> str | None:
    found = set(_LETTER.findall(text))
    if len(found) > 1:  # "A B C D", "is it A or B?": not one answer
        return None
    if found and (options or _CUE.search(text)):
        return found.pop()
    lower = _LOWER_LETTER.search(text)
    if lower:
        return lower.group(1).upper()
    return _option_words(text, options) if options and not re.search(r"[?]|\b(?:what|why|how|explain)\b", text, re.I) \
        else None


def _option_words(text: str, options: Sequence[str]) -> str | None:
    """The letter of the one option whose content words the text holds (at least 60% of them)."""
    words = _words(text)
    shares = [len(_words(o) & words) / max(1, len(_words(o))) for o in options]
    best = max(shares)
    return "ABCD"[shares.index(best)] if best >= 0.6 and shares.count(best) == 1 else None


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9']+", text.casefold()) if w not in _STOP}


def _span(pattern: re.Pattern, text: str) -> str | None:
    match = pattern.search(_COUNT.sub(" ", text) if pattern is _TOPIC else text)
    if match is None:
        return None
    span = match.group(1).strip()
    while (trimmed := _FILLER.sub("", span).strip()) != span:
        span = trimmed
    span = span[:MAX_TOPIC_CHARS].strip()
    return span if span and span in text else None


def _count(text: str) -> int | None:
    match = _COUNT.search(text)
    if match is None:
        return None
    word = match.group(1).casefold()
    n = int(word) if word.isdigit() else _NUMBERS[word]
    return n if 1 <= n <= MAX_QUESTIONS else None


def _difficulty(text: str) -> str | None:
    found = [_DIFFICULTY[w] for w in re.findall(r"[a-z]+", text.casefold()) if w in _DIFFICULTY]
    return found[-1] if found else None
