"""Every student's own notes: one :class:`NoteStore` per student, so a quiz draws only on its student's notes.

    library = NoteLibrary(default_notes_dir())
    library.add_upload("ada", "week5.md", data, max_bytes=10_000_000)   # a file uploaded in the chat
    library.store("ada").add(Path("lecture4.pdf"))                      # `tutor notes add lecture4.pdf --user ada`
    library.chunks("ada")                                               # what ada's quizzes may draw on

Layout under the notes folder: ``users/<name>/<id>.json`` (the indexed notes, :mod:`knowledge.notes`) and
``users/<name>/files/<file name>`` (uploaded files, kept so that re-uploading a file updates its note).
A name that is not a plain account name (:data:`USER_NAME`) gets a folder named by its hash, so no name
can reach outside its folder. Notes indexed before notes were per student (``<id>.json`` directly in the
notes folder) move to the open mode's student (:data:`knowledge.settings.DEFAULT_USER`) on first use.

Uploads are checked before anything is written: a supported suffix, at most ``max_bytes``, readable text
(or a PDF with extractable text); the file is then written atomically and indexed, and removed again if
indexing fails, so a refused upload leaves nothing behind. Every refusal is a :class:`NoteError` whose
message is one line for the student.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from common.files import write_atomic
from knowledge.notes import SUFFIXES, AddResult, NoteError, NoteStore, parse_note
from knowledge.settings import DEFAULT_USER
from schemas.knowledge import NoteChunk

USER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")  # as agent.app.accounts.NAME
MAX_FILE_NAME = 100


def user_folder(user: str) -> str:
    """The folder name of ``user``'s notes: the name itself if it is a plain account name, else its hash."""
    if USER_NAME.fullmatch(user) and user not in (".", ".."):
        return user
    return "u-" + hashlib.sha256(user.encode("utf-8")).hexdigest()[:16]


def safe_file_name(name: str) -> str:
    """An uploaded file's name reduced to a plain file name in its folder ("../a b.md" -> "a-b.md")."""
    base = Path(name.replace("\\", "/")).name
    stem, suffix = os.path.splitext(base)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip(".-") or "notes"
    return stem[: MAX_FILE_NAME - len(suffix)] + suffix.lower()


class NoteLibrary:
    """The notes of every student under one folder."""

    def __init__(self, root: Path, legacy_owner: str = DEFAULT_USER):
        self.root = Path(root).expanduser()
        self.legacy_owner = legacy_owner

    def directory(self, user: str) -> Path:
        if not user:
            raise NoteError("notes belong to a student: no user given")
        return self.root / "users" / user_folder(user)

    def store(self, user: str) -> NoteStore:
        """``user``'s notes (the notes from before per-student notes join the open mode's student)."""
        store = NoteStore(self.directory(user))
        if user == self.legacy_owner:
            self._adopt_legacy(store.directory)
        return store

    def chunks(self, user: str) -> list[NoteChunk]:
        return self.store(user).chunks() if user else []

    def fingerprint(self, user: str) -> tuple[tuple[str, int], ...]:
        """Changes whenever ``user``'s notes change (names and modification times of the note files)."""
        folder = self.directory(user) if user else None
        if folder is None or not folder.is_dir():
            return ()
        return tuple(sorted((f.name, f.stat().st_mtime_ns) for f in folder.glob("*.json")))

    def add_upload(self, user: str, name: str, data: bytes, *, max_bytes: int) -> AddResult:
        """Check, keep and index a file uploaded by ``user``; :class:`NoteError` (nothing written) if refused."""
        file_name = safe_file_name(name)
        suffix = Path(file_name).suffix
        if suffix not in SUFFIXES:
            shown = suffix or "no extension"
            raise NoteError(f"{name}: I can only read {', '.join(sorted(SUFFIXES))} files, not {shown}.")
        if len(data) > max_bytes:
            raise NoteError(f"{name}: {len(data) / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit "
                            "for uploaded notes; split it into smaller files.")
        parse_note(Path(name).name, SUFFIXES[suffix], data)  # refuses unreadable text or PDFs before writing
        store = self.store(user)
        target = store.directory / "files" / file_name
        existed = target.exists()
        previous = target.read_bytes() if existed else None
        write_atomic(target, data, mode=0o600)
        try:
            return store.add(target)
        except NoteError:
            write_atomic(target, previous, mode=0o600) if previous is not None else target.unlink(missing_ok=True)
            raise

    def _adopt_legacy(self, folder: Path) -> None:
        if not self.root.is_dir():
            return
        for file in self.root.glob("*.json"):
            folder.mkdir(parents=True, exist_ok=True)
            if not (folder / file.name).exists():
                os.replace(file, folder / file.name)
