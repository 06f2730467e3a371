"""Streamed text -> whole sentences only (pure; no model).

A streamed answer used to stop wherever ``max_new_tokens`` fell ("... The irreducible"). Here the
pieces are buffered and released one complete sentence at a time; when the stream ends (end of
text or token limit) an unfinished trailing fragment is dropped, and after ``max_sentences`` the
stream is closed so generation stops early.

    for sentence in complete_sentences(["Dropout zeroes units", " at random. It is o", "ff at"]):
        print(sentence)            # "Dropout zeroes units at random."  (the fragment is dropped)

A sentence ends at ``.``, ``!`` or ``?`` (closing quotes/brackets may follow) that is followed by
white space or by the end of the stream, unless the word before it is an abbreviation ("e.g.",
"vs.") or a list number ("1."). Mid-stream a sentence is released only once the next character
has arrived, so "0." followed by "5" is never mistaken for an end.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

ABBREVIATIONS = frozenset(
    {"e.g", "i.e", "etc", "vs", "cf", "approx", "fig", "eq", "dr", "mr", "mrs", "ms", "prof", "no", "al", "resp", "viz"}
)
_END = re.compile(r"[.!?]+[\"')\]}”’*]*")
_PAIRS = {")": "(", "]": "[", "}": "{", "”": "“"}
_LIST_NUMBER = re.compile(r"(?:^|\n)\s*\(?[0-9]{1,2}$")  # "1." opening a line is a list number, "k = 2." is not


def _is_boundary(text: str, start: int) -> bool:
    """Whether the terminal punctuation at ``text[start]`` ends a sentence (judged from the text before it)."""
    before = text[:start]
    word = before.rsplit(None, 1)[-1].casefold() if before.strip() else ""
    if text[start] == "." and (word.rstrip(".") in ABBREVIATIONS or _LIST_NUMBER.search(before)):
        return False
    return bool(word)  # a lone "." is no sentence


def split_complete(text: str, final: bool = False) -> tuple[list[str], str]:
    """``text`` -> (complete sentences, the rest still open).

    With ``final`` the text has ended, so punctuation at the very end also closes a sentence;
    otherwise a sentence needs a following white-space character to count as complete.
    """
    sentences: list[str] = []
    cursor = 0
    for match in _END.finditer(text):
        end = match.end()
        at_end = end == len(text)
        if at_end and not final:
            break
        if not at_end and not text[end].isspace():
            continue
        if not _is_boundary(text, match.start()):
            continue
        sentence = _tidy(text[cursor:end].strip())
        if sentence:
            sentences.append(sentence)
        cursor = end
    return sentences, text[cursor:]


def _tidy(sentence: str) -> str:
    """Drop closing marks after the final punctuation that close nothing (a model's stray '"}' or '**')."""
    while sentence and sentence[-1] in "\"')]}”’*":
        mark = sentence[-1]
        opener = _PAIRS.get(mark)
        balanced = sentence.count(opener) >= sentence.count(mark) if opener else sentence.count(mark) % 2 == 0
        if balanced or (mark == "’" and sentence.count("‘") >= sentence.count("’")):
            break
        sentence = sentence[:-1]
    return sentence


def ends_cleanly(text: str) -> bool:
    """Whether ``text`` is non-empty and its last sentence is complete (what the report's "clean" means)."""
    sentences, rest = split_complete(text.strip(), final=True)
    return bool(sentences) and not rest.strip()


def complete_sentences(pieces: Iterable[str], max_sentences: int | None = None) -> Iterator[str]:
    """Yield each complete sentence of the streamed ``pieces`` as soon as it is known to be complete.

    Stops after ``max_sentences`` (closing ``pieces`` if it is a generator, which stops the model);
    a trailing fragment without an end is dropped.
    """
    buffer = ""
    count = 0
    source = iter(pieces)
    try:
        for piece in source:
            buffer += piece
            sentences, buffer = split_complete(buffer)
            for sentence in sentences:
                yield sentence
                count += 1
                if max_sentences is not None and count >= max_sentences:
                    return
        for sentence in split_complete(buffer, final=True)[0]:
            yield sentence
            count += 1
            if max_sentences is not None and count >= max_sentences:
                return
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()


def join_sentences(sentences: Iterable[str]) -> Iterator[str]:
    """Stream pieces for display: sentences separated by one space."""
    for n, sentence in enumerate(sentences):
        yield sentence if n == 0 else " " + sentence
