"""Notes uploaded in the chat: checked, kept per student and indexed, with one line per file for the student.

The Chainlit handler (:mod:`agent.app.main`) passes each attached file as an :class:`Upload` (its name
and the temporary path Chainlit saved it to); nothing here imports Chainlit. Every refusal - a type
other than .md/.txt/.pdf, a file over ``TUTOR_UPLOAD_MAX_MB``, text that is not UTF-8, a PDF that cannot
be read or has no text - is one line naming the file and what to do; nothing is kept of a refused file
(:meth:`knowledge.library.NoteLibrary.add_upload`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from knowledge.library import NoteLibrary
from knowledge.notes import SUFFIXES, NoteError

log = logging.getLogger(__name__)


class Upload(BaseModel):
    """One file attached to a chat message."""

    model_config = ConfigDict(frozen=True)

    name: str
    path: Path


class UploadResult(BaseModel):
    """What became of a message's files: one line each, added first."""

    added: list[str] = []
    refused: list[str] = []

    def text(self) -> str:
        lines = [f"Added to your notes: {line}" for line in self.added]
        lines += [f"⚠ Not added: {line}" for line in self.refused]
        if self.added:
            lines.append("Only your own quizzes draw on them. Try \"quiz me on my notes\" or a quiz on one of their topics.")
        return "\n\n".join(lines)


def receive(library: NoteLibrary, user: str, uploads: list[Upload], max_bytes: int) -> UploadResult:
    """Add each upload to ``user``'s notes, or say in one line why not."""
    result = UploadResult()
    for upload in uploads:
        try:
            result.added.append(_add(library, user, upload, max_bytes))
        except NoteError as exc:
            result.refused.append(str(exc))
        except Exception:  # noqa: BLE001 - one unreadable file must not lose the others, nor show a traceback
            log.exception("upload of %s failed", upload.name)
            result.refused.append(f"{upload.name}: the file could not be read; please try again or another format.")
    return result


def _add(library: NoteLibrary, user: str, upload: Upload, max_bytes: int) -> str:
    suffix = Path(upload.name).suffix.lower()
    if suffix not in SUFFIXES:  # checked before reading the file
        raise NoteError(f"{upload.name}: I can only read {', '.join(sorted(SUFFIXES))} files, "
                        f"not {suffix or 'files without an extension'}.")
    size = upload.path.stat().st_size
    if size > max_bytes:
        raise NoteError(f"{upload.name}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit "
                        "for uploaded notes; split it into smaller files.")
    added = library.add_upload(user, upload.name, upload.path.read_bytes(), max_bytes=max_bytes)
    note = added.note
    status = {"added": "", "updated": " (updated)", "unchanged": " (already there, unchanged)"}[added.status]
    return f"{upload.name}{status}: \"{note.title[:80]}\", {len(note.chunks)} sections."
