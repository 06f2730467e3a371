"""Split a student's notes into retrieval chunks, and chunks into sentences (pure, no I/O).

A chunk is what retrieval returns and what a model is shown as reference, so it should hold
one topic and be short enough to read: sections (Markdown headings) and paragraphs are kept
together when they fit, small ones are packed up to ``min_chars``, and only a paragraph longer
than ``max_chars`` is split - at sentence ends, else between words, never inside a word (a
single "word" longer than a chunk, e.g. a pasted base64 blob, is the one exception). A chunk
that continues a section starts with that section's heading, so it still says what it is about.

    chunk_text(open("lecture.md").read(), ChunkConfig())   # -> ["# Dropout\\n\\nDropout ...", ...]
    split_sentences("Dropout is a regulariser. It drops units.")
"""

from __future__ import annotations

from dataclasses import dataclass, field

CHUNKER_VERSION = 1  # bump when chunking changes, so re-adding an unchanged file re-chunks it
_ABBREVIATIONS = frozenset({"e.g", "i.e", "etc", "vs", "fig", "eq", "dr", "mr", "mrs", "ms", "prof", "cf", "al",
                            "approx", "resp", "no", "sec", "ch"})
_LIST_MARKERS = ("- ", "* ", "+ ", "• ")


@dataclass(frozen=True)
class ChunkConfig:
    """Chunk sizes in characters."""

    min_chars: int = field(default=500, metadata={"help": "pack paragraphs/sections until a chunk has this many"})
    max_chars: int = field(default=1000, metadata={"help": "no chunk is longer (heading prefix included)"})
    heading_chars: int = field(default=120, metadata={"help": "longest heading repeated on continuation chunks"})


@dataclass(frozen=True)
class _Block:
    text: str
    heading: str  # the section heading this block belongs to ("" before the first heading)
    is_heading: bool = False


def _heading(line: str) -> str | None:
    """The text of a Markdown ATX heading line ("## Dropout" -> "Dropout"), else None."""
    stripped = line.strip()
    hashes = len(stripped) - len(stripped.lstrip("#"))
    if 1 <= hashes <= 6 and stripped[hashes:hashes + 1] == " " and stripped[hashes:].strip():
        return stripped[hashes:].strip().rstrip("#").strip()
    return None


def _blocks(text: str, markdown: bool) -> list[_Block]:
    """Headings, paragraphs and fenced code blocks, each with its section heading."""
    blocks: list[_Block] = []
    heading = ""
    paragraph: list[str] = []
    in_fence = False

    def flush() -> None:
        if paragraph and "".join(paragraph).strip():
            blocks.append(_Block("\n".join(paragraph).strip("\n"), heading))
        paragraph.clear()

    for line in text.splitlines():
        if markdown and line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            paragraph.append(line)
            if not in_fence:
                flush()
            continue
        if in_fence:
            paragraph.append(line)
            continue
        title = _heading(line) if markdown else None
        if title is not None:
            flush()
            heading = line.strip()[:200]
            blocks.append(_Block(line.strip(), heading, is_heading=True))
        elif not line.strip():
            flush()
        else:
            paragraph.append(line.rstrip())
    flush()
    return blocks


def _split_long(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` characters: whole sentences, else whole words."""
    pieces: list[str] = []
    current = ""
    for sentence in split_sentences(text) or [text]:
        for part in _split_words(sentence, limit) if len(sentence) > limit else [sentence]:
            if current and len(current) + 1 + len(part) > limit:
                pieces.append(current)
                current = part
            else:
                current = f"{current} {part}" if current else part
    if current:
        pieces.append(current)
    return pieces


def _split_words(text: str, limit: int) -> list[str]:
    pieces: list[str] = []
    current = ""
    for word in text.split():
        while len(word) > limit:  # one "word" longer than a chunk: the only mid-word cut
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:limit])
            word = word[limit:]
        if current and len(current) + 1 + len(word) > limit:
            pieces.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        pieces.append(current)
    return pieces


def chunk_text(text: str, config: ChunkConfig = ChunkConfig(), markdown: bool = True) -> list[str]:
    """The chunks of ``text`` (empty list for blank text); see the module docstring for the rules."""
    body_limit = config.max_chars - config.heading_chars - 2
    chunks: list[str] = []
    current: list[_Block] = []

    def size() -> int:
        return sum(len(b.text) for b in current) + 2 * max(len(current) - 1, 0)

    def flush() -> list[_Block]:
        """Close the current chunk; trailing headings move on to the next one (returned)."""
        carry: list[_Block] = []
        while current and current[-1].is_heading:
            carry.insert(0, current.pop())
        if current:
            chunks.append("\n\n".join(b.text for b in current).strip())
        current.clear()
        return carry

    for block in _blocks(text, markdown):
        pieces = [block.text] if len(block.text) <= body_limit else _split_long(block.text, body_limit)
        for piece in pieces:
            part = _Block(piece, block.heading, block.is_heading)
            if part.is_heading and size() >= config.min_chars:
                current.extend(flush())  # a new section starts a new chunk once the current one is big enough
            if current and size() + 2 + len(piece) > config.max_chars:
                current.extend(flush())
                if size() + 2 + len(piece) > config.max_chars:  # very long carried headings: a chunk of their own
                    chunks.append("\n\n".join(b.text for b in current).strip())
                    current.clear()
            if not current and not part.is_heading and part.heading:
                # A continuation: repeat the section heading so the chunk still says what it is about.
                current.append(_Block(part.heading[: config.heading_chars], part.heading, True))
            current.append(part)
    if current:
        chunks.append("\n\n".join(b.text for b in current).strip())
    return [c for c in chunks if c]


def _is_boundary(text: str, i: int) -> bool:
    """Whether the punctuation at ``text[i]`` ends a sentence."""
    if i + 1 < len(text) and not text[i + 1].isspace() and text[i + 1] not in "\"')]":
        return False
    if text[i] == ".":
        start = i
        while start > 0 and not text[start - 1].isspace():
            start -= 1
        token = text[start:i].lower().strip("(\"'")
        if token in _ABBREVIATIONS or "." in token or (len(token) == 1 and token.isalpha()) or token.isdigit():
            return False
    rest = text[i + 1 :].lstrip("\"')] \t")
    return not rest or rest[0] == "\n" or rest[0].isupper() or rest[0].isdigit() or rest[0] in "\"'(`*#-"


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph; list items and lines ending a sentence stay separate; whitespace collapsed."""
    sentences: list[str] = []
    for raw_line in _logical_lines(text):
        start = 0
        for i, ch in enumerate(raw_line):
            if ch in ".?!" and _is_boundary(raw_line, i):
                end = i + 1
                while end < len(raw_line) and raw_line[end] in "\"')]":
                    end += 1
                sentences.append(raw_line[start:end])
                start = end
        sentences.append(raw_line[start:])
    return [" ".join(s.split()) for s in sentences if s.strip()]


def _logical_lines(text: str) -> list[str]:
    """Join hard-wrapped lines; keep list items, headings and blank-line breaks apart."""
    lines: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        starts_item = stripped.startswith(_LIST_MARKERS) or _numbered(stripped) or stripped.startswith("#")
        if not stripped or not lines or starts_item or not lines[-1] or lines[-1].startswith("#"):
            lines.append(stripped)
        else:
            lines[-1] = f"{lines[-1]} {stripped}"
    return [line for line in lines if line]


def _numbered(line: str) -> bool:
    head = line.split(" ", 1)[0]
    return len(head) > 1 and head[-1] in ".)" and head[:-1].isdigit()
