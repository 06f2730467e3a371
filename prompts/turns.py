"""Reading a student's chat turn: the prompt and the model's one-line answer format (pure).

The model never invents the topic: it copies a span of the student's message, and the grammar it is
decoded under (:func:`reading_pattern`, built per message) admits only the message's own spans
(contiguous words, edge punctuation and a leading article dropped, as :func:`cut_span` cuts them).
The answer is one short line, e.g.::

    quiz "precision and recall" q5 hard   # quiz on that span, 5 questions, hard
    answer B                              # the waiting question, option B
    explain "kernel trick"
    quiz same easy                        # another quiz on the last topic, easier
    smalltalk

Fields come in a fixed order and only when said: intent, ``"topic"``, ``same``, source
(``notes``/``cards``), ``qN`` question count, difficulty, letter.

Why copying and not word positions (v1, ``explain 4-5``): on the dev set the v1 adapter pointed one word
off on most multi-word topics ("can you explain the kernel trick?" -> "the kernel" -> "kernel"; topic
exact match 0.61, F1 0.84), while copying is what a small causal LM does well. A JSON object with the
same fields costs ~35 generated tokens; this line costs 2-12.

The fine-tuning rows (:mod:`finetune.turn_data`) render their targets with :meth:`TurnReading.line`,
and the reader parses model output with :meth:`TurnReading.parse`, so both sides share one format.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.quiz import LETTERS, MAX_QUESTIONS, Letter
from schemas.turn import INTENTS, Difficulty, Intent

PROMPT_VERSION = "turns-v2"  # v2: the topic is copied text, not word positions
MAX_WORDS = 40  # words shown (and copyable); longer messages are cut, a topic sits early in a request
MAX_TOPIC_WORDS = 8
MAX_OPTION_WORDS = 8
TURN_SYSTEM = "You read a student's message to a machine-learning tutor and say what it asks for."
_MARKUP = re.compile(r"<[^<>]{0,200}>")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")  # terminal colour/cursor codes pasted with text
_EDGE_PUNCT = "\"'`.,;:!?()[]{}<>*_~"
ARTICLES = frozenset({"the", "a", "an"})

Messages = list[dict[str, str]]


def clean_text(text: str) -> str:
    """``text`` without markup tags, HTML entities, control characters or repeated whitespace."""
    text = html.unescape(_MARKUP.sub(" ", _ANSI.sub("", text or "")))
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())


def message_words(text: str) -> list[str]:
    """The words the model sees and points at: the cleaned message split on whitespace, at most MAX_WORDS."""
    return clean_text(text).split()[:MAX_WORDS]


def cut_span(words: Sequence[str], start: int, end: int) -> str | None:
    """Words ``start..end`` (1-based, inclusive) as a topic: edge punctuation and a leading article dropped."""
    if not 1 <= start <= end <= len(words):
        return None
    picked = [w.strip(_EDGE_PUNCT) for w in words[start - 1 : end]]
    picked = [w for w in picked if w]
    while picked and picked[0].lower() in ARTICLES:
        picked.pop(0)
    return " ".join(picked) or None


def find_span(words: Sequence[str], phrase: str) -> tuple[int, int] | None:
    """1-based ``(start, end)`` of ``phrase``'s words in ``words`` (edge punctuation and case ignored)."""
    target = [w.strip(_EDGE_PUNCT).lower() for w in phrase.split()]
    target = [w for w in target if w]
    flat = [w.strip(_EDGE_PUNCT).lower() for w in words]
    for i in range(len(flat) - len(target) + 1):
        if target and flat[i : i + len(target)] == target:
            return i + 1, i + len(target)
    return None


def turn_messages(text: str, options: Sequence[str] | None = None) -> Messages:
    """The chat prompt: the message's cleaned words, and the waiting question's options (if any)."""
    shown_text = " ".join(message_words(text)) or "(empty)"
    if options:
        shown = " ".join(f"{letter}) {_short(o)}" for letter, o in zip(LETTERS, options))
        waiting = f"Question waiting: {shown}"
    else:
        waiting = "Question waiting: none"
    return [
        {"role": "system", "content": TURN_SYSTEM},
        {"role": "user", "content": f"Message: {shown_text}\n{waiting}"},
    ]


def _short(option: str) -> str:
    words = clean_text(option).split()
    return " ".join(words[:MAX_OPTION_WORDS])


# ------------------------------------------------------------------------- the answer line

_COUNT = r"([1-9]|1[0-9]|20)"
_TOPIC_ANY = r'"[^"]{1,120}"'
_DETAILS = rf"( same)?( notes| cards)?( q{_COUNT})?( easy| medium| hard)?( [ABCD])?"
READING_PATTERN = rf"({'|'.join(INTENTS)})( {_TOPIC_ANY})?{_DETAILS}"  # any topic text (parsing, servers)
MAX_READING_TOKENS = 48  # the longest line: intent, an 8-word topic, every detail (max_new_tokens)


def message_spans(text: str) -> list[str]:
    """Every topic the model may copy from ``text``: spans of up to MAX_TOPIC_WORDS words, cut as
    :func:`cut_span` cuts them (edge punctuation and a leading article dropped), longest first."""
    words = message_words(text)
    spans = {cut_span(words, i, j) for i in range(1, len(words) + 1)
             for j in range(i, min(len(words), i + MAX_TOPIC_WORDS - 1) + 1)}
    return sorted((s for s in spans if s and '"' not in s), key=lambda s: (-len(s), s))


def reading_pattern(text: str) -> str:
    """The answer-line grammar for one message: the topic, if any, is one of :func:`message_spans`."""
    spans = "|".join(re.escape(s) for s in message_spans(text))
    topic = rf'( "({spans})")?' if spans else ""
    return rf"({'|'.join(INTENTS)}){topic}{_DETAILS}"


class TurnReading(BaseModel):
    """What the model says about a turn: intent, a topic copied from the message and the details said."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    intent: Intent
    topic: str | None = Field(default=None, min_length=1, max_length=120, pattern=r'^[^"]+$')
    same_topic: bool = False
    source: Literal["cards", "notes", "any"] = "any"
    questions: int | None = Field(default=None, ge=1, le=MAX_QUESTIONS)
    difficulty: Difficulty | None = None
    letter: Letter | None = None

    def line(self) -> str:
        """This reading in the one-line answer format (the fine-tuning target)."""
        parts = [self.intent]
        if self.topic is not None:
            parts.append(f'"{self.topic}"')
        if self.same_topic:
            parts.append("same")
        if self.source != "any":
            parts.append(self.source)
        if self.questions is not None:
            parts.append(f"q{self.questions}")
        if self.difficulty:
            parts.append(self.difficulty)
        if self.letter:
            parts.append(self.letter)
        return " ".join(parts)

    @classmethod
    def parse(cls, line: str) -> "TurnReading":
        """The reading of one answer line (ValueError on anything outside the format)."""
        if not re.fullmatch(READING_PATTERN, line.strip()):
            raise ValueError(f"not a turn reading: {line[:80]!r}")
        line = line.strip()
        fields: dict = {}
        if '"' in line:
            head, fields["topic"], line = line.split('"', 2)
            line = head + line
        intent, *rest = line.split()
        fields["intent"] = intent
        for part in rest:
            if part == "same":
                fields["same_topic"] = True
            elif part in ("notes", "cards"):
                fields["source"] = part
            elif part.startswith("q"):
                fields["questions"] = int(part[1:])
            elif part in LETTERS:
                fields["letter"] = part
            else:
                fields["difficulty"] = part
        return cls.model_validate(fields)
