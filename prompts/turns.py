"""Reading a student's chat turn: the prompt (words numbered) and the model's one-line answer format (pure).

The model never writes the topic: it points at word positions of the message and code cuts the
span (:func:`cut_span`), so the topic is always the student's own words. The answer is one short
line under a fixed grammar (:data:`READING_PATTERN`, enforced by Outlines), e.g.::

    quiz 6-8 q5 hard          # quiz on words 6..8, 5 questions, hard
    answer B                  # the waiting question, option B
    explain 3-4               # explain words 3..4
    quiz same easy            # another quiz on the last topic, easier
    smalltalk

Fields come in a fixed order and only when said: intent, ``S-E`` word span, ``same``, source
(``notes``/``cards``), ``qN`` question count, difficulty, letter. A JSON object with the same
fields costs ~35 generated tokens; this line costs 2-8 (each generated token is one decode step
of the model, the bulk of a turn's latency on CPU).

The fine-tuning rows (:mod:`finetune.turn_data`) render their targets with :meth:`TurnReading.line`,
and the reader parses model output with :meth:`TurnReading.parse`, so both sides share one format.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.quiz import LETTERS, MAX_QUESTIONS, Letter
from schemas.turn import INTENTS, Difficulty, Intent

PROMPT_VERSION = "turns-v1"
MAX_WORDS = 40  # words shown (and pointable); longer messages are cut, a topic sits early in a request
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
    """The chat prompt: the message's words numbered, and the waiting question's options (if any)."""
    numbered = " ".join(f"{i}:{w}" for i, w in enumerate(message_words(text), start=1)) or "(empty)"
    if options:
        shown = " ".join(f"{letter}) {_short(o)}" for letter, o in zip(LETTERS, options))
        waiting = f"Question waiting: {shown}"
    else:
        waiting = "Question waiting: none"
    return [
        {"role": "system", "content": TURN_SYSTEM},
        {"role": "user", "content": f"Message: {numbered}\n{waiting}"},
    ]


def _short(option: str) -> str:
    words = clean_text(option).split()
    return " ".join(words[:MAX_OPTION_WORDS])


# ------------------------------------------------------------------------- the answer line

_POS = r"([1-9]|[1-3][0-9]|40)"
_COUNT = r"([1-9]|1[0-9]|20)"
READING_PATTERN = (
    rf"({'|'.join(INTENTS)})( {_POS}-{_POS})?( same)?( notes| cards)?( q{_COUNT})?( easy| medium| hard)?( [ABCD])?"
)
MAX_READING_TOKENS = 24  # the longest line above, with room to spare (max_new_tokens)


class TurnReading(BaseModel):
    """What the model says about a turn: intent, a word span (positions, not text) and the details said."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    intent: Intent
    start: int | None = Field(default=None, ge=1, le=MAX_WORDS)
    end: int | None = Field(default=None, ge=1, le=MAX_WORDS)
    same_topic: bool = False
    source: Literal["cards", "notes", "any"] = "any"
    questions: int | None = Field(default=None, ge=1, le=MAX_QUESTIONS)
    difficulty: Difficulty | None = None
    letter: Letter | None = None

    @model_validator(mode="after")
    def _span(self) -> "TurnReading":
        if (self.start is None) != (self.end is None):
            raise ValueError("a span needs both start and end")
        if self.start is not None and self.end < self.start:
            raise ValueError("span end before start")
        return self

    def line(self) -> str:
        """This reading in the one-line answer format (the fine-tuning target)."""
        parts = [self.intent]
        if self.start is not None:
            parts.append(f"{self.start}-{self.end}")
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
        intent, *rest = line.split()
        fields: dict = {"intent": intent}
        for part in rest:
            if "-" in part:
                fields["start"], fields["end"] = (int(x) for x in part.split("-"))
            elif part == "same":
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
