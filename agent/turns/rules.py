"""Rules that read a chat turn without a model (pure: no torch, no model): the fallback and the guard rails.

Counts ("5 questions", "five", "maybe 3", "a dozen"), difficulty words, letters ("B", "I think it's B",
"my answer: D", "the second one", "option 2", an answer in words matched against the waiting options),
cue words for every intent, markup stripped, injection-looking or keyboard junk read as ``help``, and a
topic span cut after a lead-in ("quiz me on ...", "what is ...") up to a clause boundary. Tuned on
``evaluation/data/turns_dev.jsonl`` only; measured on the frozen test set by ``tutor eval turns --reader rules``.

    read_rules("Can you test me on precision and recall? 5 questions, hard ones").request
    # TurnRequest(intent='quiz', topic='precision and recall', questions=5, difficulty='hard', ...)
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from agent.turns import cues
from prompts.turns import clean_text, cut_span, find_span, message_words
from schemas.quiz import LETTERS
from schemas.turn import TurnRequest

_PUNCT = "\"'`.,;:!?()[]{}<>*_~-"
PRONOUNS = frozenset({"it", "this", "that", "them", "these", "those", "that topic", "this topic", "one", "the same topic",
                      "same topic", "the same thing", "what", "which"})
_ANSWER_FILLER = frozenset(
    "i i'd id i'm im think it's its it is the one about answer my say go with guess maybe believe definitely pretty "
    "sure option going to that this hmm um so probably final a an i'll ill choose pick".split()
)
_LETTER_CUES = frozenset("is it's its with answer answer: option say choose pick guess go maybe definitely hmm then".split())


@dataclass(frozen=True)
class RuleReading:
    """The rules' reading, plus what a model reading may not override (``strong``)."""

    request: TurnRequest
    strong: bool  # junk, a clear letter answer or a command word: the model's intent is not asked for


def read_rules(text: str, options: Sequence[str] | None = None) -> RuleReading:
    """Read ``text`` (and the waiting ``options``) with rules alone; never raises."""
    cleaned = clean_text(text)
    intent, strong = ("help", True) if cues.JUNK.search(text or "") else _intent(cleaned, options)
    fields: dict = {"intent": intent}
    if intent == "answer":
        fields["letter"] = find_letter(cleaned, options)
    if intent in ("quiz", "explain"):
        same = intent == "quiz" and bool(_SAME.search(cleaned))
        fields["topic"] = None if same and not _QUIZ_TOPIC_NAMED.search(cleaned) else find_topic(cleaned, intent)
        fields["same_topic"] = same and fields["topic"] is None
    if intent == "quiz":
        fields["questions"] = find_count(cleaned)
        fields["difficulty"] = find_difficulty(cleaned)
        fields["source"] = find_source(cleaned)
    return RuleReading(TurnRequest(**fields), strong)


# ------------------------------------------------------------------------------------ intent

def _intent(cleaned: str, options: Sequence[str] | None) -> tuple[str, bool]:
    lower = cleaned.lower()
    words = [w.strip(_PUNCT) for w in lower.split()]
    if not re.search(r"[a-z0-9]", lower) or cues.JUNK.search(cleaned):
        return "help", True
    if options and (letter_token(cleaned) or _ordinal_letter(lower)):
        return "answer", True
    if len(words) == 1 and (len(words[0]) == 1 or words[0].isdigit() or cues.KEYBOARD.match(words[0])):
        return "help", True  # a lone letter with no question waiting (or not A-D), a number, keyboard junk
    for intent, pattern in (("retry", cues.RETRY), ("review", cues.REVIEW), ("progress", cues.PROGRESS),
                            ("export", cues.EXPORT), ("help", cues.HELP)):
        if pattern.search(lower):
            return intent, len(words) <= 2
    if all(w in cues.SMALLTALK_WORDS for w in words if w):
        return "smalltalk", False
    explain_cue = cues.EXPLAIN.search(lower)
    if options and not explain_cue and _word_letter(lower, options):
        return "answer", False
    return _quiz_or_explain(lower, words), False


def _quiz_or_explain(lower: str, words: list[str]) -> str:
    quiz = [m.start() for m in cues.QUIZ.finditer(lower)]
    explain = [m.start() for m in cues.EXPLAIN.finditer(lower)]
    if quiz and (not explain or max(quiz) > max(explain)):
        return "quiz"
    if not explain and (find_count(lower) or find_difficulty(lower)):
        return "quiz"
    if explain:
        return "explain"
    if words and words[0] in cues.SMALLTALK_WORDS and len(words) <= 3:
        return "smalltalk"
    return "explain"


# ------------------------------------------------------------------------------------ letters

def letter_token(text: str) -> str | None:
    """The letter A-D written as a letter ("B", "(a)", "d)", "it's c"), or None (none, or two different ones)."""
    raw = text.split()
    found = None
    for i, word in enumerate(raw):
        core = word.strip(_PUNCT)
        if core.upper() not in LETTERS or len(core) != 1:
            continue
        before = raw[i - 1].strip(_PUNCT).lower() if i else ""
        last = i == len(raw) - 1 or all(w.strip(_PUNCT).lower() in _ANSWER_FILLER for w in raw[i + 1 :])
        if core == "a" and not (last or before in _LETTER_CUES or len(raw) == 1):
            continue  # the article "a"
        if core == "A" and i == 0 and len(raw) > 2 and not last:
            continue  # "A quiz on ..."
        if found is not None and found != core.upper():
            return None  # "A B C D", "B or C": no one answer
        found = core.upper()
    return found


def _ordinal_letter(lower: str) -> str | None:
    words = [w.strip(_PUNCT) for w in lower.split()]
    m = re.search(r"\b(?:option|number|answer|choice)\s*#?([1-4])\b", lower)
    if m:
        return LETTERS[int(m.group(1)) - 1]
    if len(words) == 1 and words[0] in ("1", "2", "3", "4"):
        return LETTERS[int(words[0]) - 1]
    if len(words) <= 7:
        for word in words:
            if word in cues.ORDINALS:
                return cues.ORDINALS[word]
    return None


def _similar(a: str, b: str) -> bool:
    """Same word, or sharing a 4-letter start ("clipping"/"clips", "gradient"/"gradients")."""
    shorter = min(len(a), len(b))
    prefix = 0
    for x, y in zip(a, b):
        if x != y:
            break
        prefix += 1
    return a == b or (shorter >= 4 and prefix >= min(4, shorter))


def _word_letter(lower: str, options: Sequence[str]) -> str | None:
    content = [w for w in (w.strip(_PUNCT) for w in lower.split()) if w and w not in _ANSWER_FILLER]
    if not content:
        return None
    scores = []
    for option in options:
        option_words = [w.strip(_PUNCT) for w in clean_text(option).lower().split()]
        scores.append(sum(any(_similar(w, o) for o in option_words) for w in content))
    best = max(scores)
    if best == 0 or scores.count(best) > 1 or best <= len(content) / 2:  # most words name the option
        return None
    return LETTERS[scores.index(best)]


def find_letter(text: str, options: Sequence[str] | None) -> str | None:
    """The option chosen: a written letter, an ordinal/number, or the option named in words."""
    if not options:
        return None
    lower = text.lower()
    return letter_token(text) or _ordinal_letter(lower) or _word_letter(lower, options)


# ------------------------------------------------------------------------------------ details

_COUNT = re.compile(
    r"\b(\d{1,2}|" + "|".join(sorted((re.escape(n) for n in cues.NUMBER_WORDS), key=len, reverse=True)) + r")"
    r"(?:[- ]?(?:questions?|qs|q's|items?)\b|\s+(?:hard|easy|tough|difficult|medium|challenging)?\s*(?:questions?|ones)\b"
    r"|\s+of them\b)",
    re.IGNORECASE,
)
_BARE_COUNT = re.compile(r"^(?:maybe |just |only )?(\d{1,2}|" + "|".join(n for n in cues.NUMBER_WORDS if " " not in n)
                         + r")[.!?]*$", re.IGNORECASE)
_SAME = re.compile(r"\b(same (topic|thing)|same again|again but|on (that|it)\b|that topic|another one on|"
                   r"another round|more questions on the same)", re.IGNORECASE)
_QUIZ_TOPIC_NAMED = re.compile(r"\b(on|about|of) (?!that\b|it\b|the same\b|this\b)\w", re.IGNORECASE)


def find_count(text: str) -> int | None:
    """The number of questions asked for (1-20), or None."""
    m = _COUNT.search(text) or _BARE_COUNT.search(text.strip())
    if not m:
        return None
    raw = m.group(1).lower()
    value = int(raw) if raw.isdigit() else cues.NUMBER_WORDS.get(raw)
    return value if value and 1 <= value <= 20 else None


def find_difficulty(text: str) -> str | None:
    """easy / medium / hard from a difficulty word, or None."""
    for word in re.findall(r"[a-z]+", text.lower()):
        if word in cues.DIFFICULTY_WORDS:
            return cues.DIFFICULTY_WORDS[word]
    return None


def find_source(text: str) -> str:
    lower = text.lower()
    if re.search(r"\bmy notes\b", lower):
        return "notes"
    if re.search(r"\b(only|just) (the )?cards\b|\bfrom the cards\b", lower):
        return "cards"
    return "any"


# ------------------------------------------------------------------------------------ topic

def find_topic(cleaned: str, intent: str) -> str | None:
    """The concept phrase after a lead-in, cut at the first clause boundary; a span of the message's words."""
    leads = cues.QUIZ_LEADS if intent == "quiz" else cues.EXPLAIN_LEADS
    candidate = _after_lead(cleaned, leads, latest=intent == "quiz")
    if candidate is None and intent == "explain":
        candidate = _until_stop(cleaned)
    if candidate and candidate.lower() in PRONOUNS and (intent == "explain" or "," in cleaned):
        candidate = _until_stop(cleaned.split(",")[0])  # "supervised learning, what is it?"
    if candidate and candidate.lower() in PRONOUNS:
        other = _after_lead(cleaned, cues.EXPLAIN_LEADS, latest=False) if intent == "quiz" else None
        candidate = other if other and other.lower() not in PRONOUNS else None
    return _as_span(cleaned, candidate)


def _after_lead(cleaned: str, leads: Sequence[str], latest: bool) -> str | None:
    best = None
    for lead in leads:
        for m in re.finditer(rf"\b{lead}\s*", cleaned, re.IGNORECASE):
            if m.end() >= len(cleaned):
                continue
            if best is None or (latest and m.end() > best.end()):
                best = m
            if not latest:
                break
        if best is not None and not latest:
            break
    return _until_stop(cleaned[best.end():]) if best else None


_LEAD_TRIM = frozenset({"what", "how", "is", "are", "the", "a", "an", "like", "even", "me", "about", "on", "of", "so",
                        "um", "uh", "ok", "okay", "hey", "hi", "now", "then", "and"})
_TAIL_TRIM = frozenset({"is", "are", "does", "do", "works", "work", "please", "pls", "plz", "lol", "again", "now",
                        "trained", "used", "better", "than", "bad", "good", "important", "useful", "needed", "really", "actually", "exactly", "for"})


def _until_stop(text: str) -> str | None:
    m = cues.TOPIC_STOPS.search(text)
    piece = text[: m.start()] if m else text
    words = piece.split()
    while words and words[0].lower().strip(_PUNCT) in _LEAD_TRIM:
        words.pop(0)
    while words and words[-1].lower().strip(_PUNCT) in _TAIL_TRIM:
        words.pop()
    phrase = " ".join(w for w in words).strip(_PUNCT.replace("-", "") + " ")
    return phrase or None


def _as_span(cleaned: str, phrase: str | None) -> str | None:
    """``phrase`` re-cut from the message's words (the same cut the model's positions get)."""
    if not phrase:
        return None
    words = message_words(cleaned)
    span = find_span(words, phrase)
    return cut_span(words, *span) if span else None
