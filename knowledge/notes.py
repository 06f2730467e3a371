"""The student's own notes: read Markdown, text and PDF files, chunk them, keep them in the data directory.

    store = NoteStore(default_notes_dir())      # ~/.local/share/ml-tutor/notes (or $TUTOR_DATA_DIR/notes)
    store.add(Path("lecture4.md"))              # AddResult(status="added", note=...)
    store.notes(); store.remove("3f2a9c1b"); store.chunks()   # chunks() feeds KnowledgeBase

Storage: one JSON file per note, ``<id>.json``, written to a temporary file and renamed, so a
reader never sees half a note and a failed add leaves nothing behind. The id is the first 12
hex digits of the SHA-256 of the file's resolved absolute path, so re-adding a path finds its
note: unchanged content (same SHA-256, same chunker version) is a no-op, changed content
replaces the old chunks. Chunks are stored (not re-read from the source), so notes survive the
source file moving away.

Input rules (each failure is a :class:`NoteError` with a one-line message naming the file):
supported suffixes ``.md``/``.markdown``/``.txt``/``.text``/``.pdf``; text must be UTF-8 (a BOM
is fine) and at most :data:`MAX_TEXT_BYTES`; PDFs at most :data:`MAX_PDF_BYTES`, not encrypted,
with extractable text; empty files are refused. A directory stands for the supported files
inside it, recursively, hidden files and folders skipped (see :func:`collect_files`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from common.files import write_atomic
from knowledge.chunking import CHUNKER_VERSION, ChunkConfig, chunk_text
from schemas.knowledge import NoteChunk
from schemas.text import strip_control

log = logging.getLogger(__name__)

SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text", ".pdf": "pdf"}
MAX_TEXT_BYTES = 2_000_000  # a text note (or the text extracted from a PDF): ~400 pages of prose
MAX_PDF_BYTES = 20_000_000  # PDFs carry fonts and images, so the file may be larger than its text
ID_LENGTH = 12


class NoteError(ValueError):
    """A file cannot be added as a note, or a note reference matches nothing; the message is for the user."""


class StoredNote(BaseModel):
    """One note as stored in ``<id>.json``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{12}$")]
    path: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    kind: Literal["markdown", "text", "pdf"]
    sha256: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    size: int = Field(ge=0, description="bytes of the source file")
    added: datetime
    updated: datetime
    chunker: int = CHUNKER_VERSION
    chunks: list[Annotated[str, StringConstraints(min_length=1, max_length=4000)]] = Field(min_length=1)

    def note_chunks(self) -> list[NoteChunk]:
        return [NoteChunk(note_id=self.id, path=self.path, chunk=i, text=t) for i, t in enumerate(self.chunks)]


@dataclass(frozen=True)
class AddResult:
    status: Literal["added", "updated", "unchanged"]
    note: StoredNote


def note_id(path: Path) -> str:
    """The stable id of the note for ``path`` (same file, same id, whatever the working directory)."""
    return hashlib.sha256(str(path.resolve()).encode("utf-8")).hexdigest()[:ID_LENGTH]


def collect_files(paths: list[Path]) -> tuple[list[Path], list[str]]:
    """Files to add and one-line errors: a directory expands to its supported files (recursive).

    A named file with an unsupported suffix is an error; inside a directory such files are skipped.
    """
    files: list[Path] = []
    errors: list[str] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                errors.append(f"{path}: no {', '.join(SUFFIXES)} files inside")
            files.extend(found)
        elif not path.exists():
            errors.append(f"{path}: no such file or directory")
        elif path.suffix.lower() not in SUFFIXES:
            errors.append(_unsupported(path))
        else:
            files.append(path)
    unique = list(dict.fromkeys(p.resolve() for p in files))
    return unique, errors


def read_note(path: Path) -> tuple[str, str, str, bytes]:
    """``(kind, title, text, raw bytes)`` of one supported file, or :class:`NoteError`."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise NoteError(_unsupported(path))
    if not path.is_file():
        raise NoteError(f"{path}: no such file" if not path.exists() else f"{path}: not a regular file")
    limit = MAX_PDF_BYTES if kind == "pdf" else MAX_TEXT_BYTES
    size = path.stat().st_size
    if size > limit:
        raise NoteError(f"{path}: {size / 1e6:.1f} MB is over the {limit / 1e6:.0f} MB limit for a {kind} note; "
                        "split it into smaller files")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise NoteError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    title, text = parse_note(str(path), kind, raw)
    return kind, title or _title(text, path, markdown=kind == "markdown"), text, raw


def parse_note(label: str, kind: str, raw: bytes) -> tuple[str | None, str]:
    """``(title or None, text)`` of a note's bytes, or :class:`NoteError` naming ``label`` (no I/O)."""
    if not raw.strip():
        raise NoteError(f"{label}: empty file, nothing to add")
    title, text = _read_pdf(label, raw) if kind == "pdf" else (None, _decode(label, raw))
    text = strip_control(text.replace("\r\n", "\n").replace("\r", "\n"))
    if not text.strip():
        raise NoteError(f"{label}: no text to add")
    if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
        raise NoteError(f"{label}: more than {MAX_TEXT_BYTES / 1e6:.0f} MB of text; split it into smaller files")
    return title, text


def _unsupported(path: Path) -> str:
    return f"{path}: unsupported file type '{path.suffix or '(none)'}' (supported: {', '.join(SUFFIXES)})"


def _decode(path: str, raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif b"\x00" in raw[:8192]:
        raise NoteError(f"{path}: looks like a binary file, not text")
    else:
        encoding = "utf-8-sig"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise NoteError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8 and add it again") from exc


def _read_pdf(path: str, raw: bytes) -> tuple[str | None, str]:
    import io

    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):  # an owner password alone still lets us read
            raise NoteError(f"{path}: the PDF is password-protected; save an unprotected copy and add that")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or None
    except NoteError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged PDF makes pypdf raise nearly anything (PdfReadError, KeyError, ...)
        raise NoteError(f"{path}: not a readable PDF ({type(exc).__name__}: {str(exc)[:80]})") from exc
    text = "\n\n".join(_dehyphenate(p) for p in pages if p.strip())
    if not text.strip():
        raise NoteError(f"{path}: the PDF has no extractable text (scanned pages?); add a text export instead")
    return (" ".join(str(title).split())[:200] or None) if title else None, text


def _dehyphenate(page: str) -> str:
    """Re-join words a PDF hyphenated across lines ("regu-\\nlarisation")."""
    lines = page.splitlines()
    out: list[str] = []
    for line in lines:
        if out and out[-1].endswith("-") and line[:1].islower() and out[-1][-2:-1].isalpha():
            out[-1] = out[-1][:-1] + line
        else:
            out.append(line)
    return "\n".join(out)


def _title(text: str, path: Path, markdown: bool) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if markdown:
        for line in lines:
            if line.startswith("#") and line.lstrip("#").strip():
                return line.lstrip("#").strip()[:200]
    first = lines[0] if lines else ""
    return first[:200] if 0 < len(first) <= 100 else path.stem[:200] or path.name


class NoteStore:
    """The notes in one folder (created on first write; a missing folder simply holds no notes)."""

    def __init__(self, directory: Path, config: ChunkConfig = ChunkConfig()):
        self.directory = Path(directory).expanduser()
        self.config = config
        self.problems: list[str] = []  # unreadable note files met by the last notes() call

    # ----------------------------------------------------------------------- reading

    def notes(self) -> list[StoredNote]:
        """Every stored note, oldest first; unreadable files are skipped and listed in ``problems``."""
        self.problems = []
        notes = []
        if not self.directory.is_dir():
            return []
        for file in sorted(self.directory.glob("*.json")):
            try:
                notes.append(StoredNote.model_validate_json(file.read_bytes()))
            except (OSError, ValidationError, ValueError) as exc:
                self.problems.append(f"{file}: unreadable note file skipped ({type(exc).__name__})")
                log.warning(self.problems[-1])
        return sorted(notes, key=lambda n: (n.added, n.path))

    def chunks(self) -> list[NoteChunk]:
        """All chunks of all notes, for the retrieval index."""
        return [chunk for note in self.notes() for chunk in note.note_chunks()]

    def find(self, ref: str) -> StoredNote:
        """The note whose id, unique id prefix (>= 4 characters) or source path is ``ref``."""
        notes = self.notes()
        ref = ref.strip()
        by_id = [n for n in notes if n.id == ref.lower()]
        if not by_id and len(ref) >= 4:
            by_id = [n for n in notes if n.id.startswith(ref.lower())]
        if len(by_id) > 1:
            raise NoteError(f"'{ref}' matches {len(by_id)} notes; give more of the id")
        if by_id:
            return by_id[0]
        path = str(Path(ref).expanduser().resolve())
        by_path = [n for n in notes if n.path == path]
        if by_path:
            return by_path[0]
        raise NoteError(f"no note with id or path '{ref}' (see `tutor notes list`)")

    # ----------------------------------------------------------------------- writing

    def add(self, path: Path) -> AddResult:
        """Add or refresh the note for ``path``; nothing is written unless the whole file was read."""
        path = Path(path).expanduser()
        kind, title, text, raw = read_note(path)
        resolved = str(path.resolve())
        if len(resolved) > 1000:
            raise NoteError(f"{path}: path longer than 1000 characters")
        ident = note_id(path)
        digest = hashlib.sha256(raw).hexdigest()
        existing = self._load(ident)
        if existing is not None and existing.sha256 == digest and existing.chunker == CHUNKER_VERSION:
            return AddResult("unchanged", existing)
        chunks = chunk_text(text, self.config, markdown=kind == "markdown")
        if not chunks:
            raise NoteError(f"{path}: no text to add")
        now = datetime.now(timezone.utc)
        note = StoredNote(
            id=ident, path=resolved, title=title, kind=kind, sha256=digest, size=len(raw),
            added=existing.added if existing else now, updated=now, chunker=CHUNKER_VERSION, chunks=chunks,
        )
        self._write(note)
        return AddResult("updated" if existing else "added", note)

    def remove(self, ref: str) -> StoredNote:
        """Delete the note ``ref`` (id, id prefix or path) and return what was removed."""
        note = self.find(ref)
        (self.directory / f"{note.id}.json").unlink(missing_ok=True)
        return note

    def _load(self, ident: str) -> StoredNote | None:
        file = self.directory / f"{ident}.json"
        try:
            return StoredNote.model_validate_json(file.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValidationError, ValueError):
            return None  # a damaged file is simply replaced

    def _write(self, note: StoredNote) -> None:
        text = json.dumps(note.model_dump(mode="json"), ensure_ascii=False, indent=1)
        write_atomic(self.directory / f"{note.id}.json", text)
