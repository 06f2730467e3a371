"""``tutor notes``: index your own notes so that explanations and quizzes can draw on them.

    tutor notes add lecture4.md slides.pdf notes/     # a folder adds its .md/.txt/.pdf files (recursive)
    tutor notes add week5.pdf --user ada              # ada's notes: only ada's quizzes draw on them
    tutor notes list                                  # id, chunks, added, title, path
    tutor notes remove 3f2a9c1b0d4e                   # or the file's path
    tutor notes search "dropout"                      # what the tutor would retrieve (cards and notes)

Notes belong to one student (``--user``, default the open mode's student) and live in
``<notes folder>/users/<name>/`` (:mod:`knowledge.library`); the notes folder is ``$TUTOR_DATA_DIR/notes``
(default ``~/.local/share/ml-tutor/notes``) or ``--notes-dir``. Each file is added completely or not at all; a file that cannot be added is
reported on one line and the command exits 1 after trying the others.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    notes = sub.add_parser("notes", help="add, list, remove or search your own notes (Markdown, text, PDF)")
    actions = notes.add_subparsers(dest="notes_command", metavar="ACTION", required=True)

    add = actions.add_parser("add", help="index files or folders of notes (.md, .markdown, .txt, .text, .pdf)")
    add.add_argument("paths", nargs="+", type=Path, help="files, or folders whose supported files are added")
    _notes_dir_argument(add)
    add.set_defaults(handler=run_add)

    listing = actions.add_parser("list", help="show the indexed notes")
    listing.add_argument("--format", choices=["text", "json"], default="text", help="json: one JSON document")
    _notes_dir_argument(listing)
    listing.set_defaults(handler=run_list)

    remove = actions.add_parser("remove", help="forget notes by id (or id prefix) or by path")
    remove.add_argument("refs", nargs="+", metavar="ID|PATH", help="note id, id prefix (4+ characters) or path")
    _notes_dir_argument(remove)
    remove.set_defaults(handler=run_remove)

    search = actions.add_parser("search", help="show what retrieval finds for a query (cards and notes)")
    search.add_argument("query", help="a topic or question, in quotes")
    search.add_argument("-k", type=int, default=5, help="number of results")
    _notes_dir_argument(search)
    search.set_defaults(handler=run_search)


def _notes_dir_argument(parser: argparse.ArgumentParser) -> None:
    from knowledge.settings import DEFAULT_USER

    parser.add_argument("--user", default=DEFAULT_USER,
                        help=f"the student whose notes these are (default: {DEFAULT_USER}, the open mode's student); "
                        "only their quizzes and explanations draw on them")
    parser.add_argument("--notes-dir", type=Path, default=None,
                        help="folder of indexed notes "
                        "(default: $TUTOR_DATA_DIR/notes, else ~/.local/share/ml-tutor/notes)")


def _store(args):
    from knowledge.library import NoteLibrary
    from knowledge.settings import default_notes_dir

    return NoteLibrary(args.notes_dir or default_notes_dir()).store(args.user)


def run_add(args) -> int:
    from knowledge.notes import NoteError, collect_files

    store = _store(args)
    files, errors = collect_files(args.paths)
    for path in files:
        try:
            result = store.add(path)
        except NoteError as exc:
            errors.append(str(exc))
            continue
        note = result.note
        print(f"{result.status:<9} {note.id}  {len(note.chunks):>4} chunks  {note.path}")
    for error in errors:
        print(f"error: {error}", file=sys.stderr)
    if files or not errors:
        print(f"notes folder: {store.directory}", file=sys.stderr)
    return 1 if errors else 0


def run_list(args) -> int:
    store = _store(args)
    notes = store.notes()
    for problem in store.problems:
        print(f"warning: {problem}", file=sys.stderr)
    if args.format == "json":
        rows = [note.model_dump(mode="json", exclude={"chunks"}) | {"chunks": len(note.chunks)} for note in notes]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return 0
    if not notes:
        print(f"no notes in {store.directory} (add some with `tutor notes add FILE`)", file=sys.stderr)
        return 0
    for note in notes:
        missing = "" if Path(note.path).exists() else "  (source file gone; chunks kept)"
        print(f"{note.id}  {len(note.chunks):>4} chunks  {note.added:%Y-%m-%d %H:%M}  {note.title[:50]:<50}  "
              f"{note.path}{missing}")
    return 0


def run_remove(args) -> int:
    from knowledge.notes import NoteError

    store = _store(args)
    failed = False
    for ref in args.refs:
        try:
            note = store.remove(ref)
        except NoteError as exc:
            print(f"error: {exc}", file=sys.stderr)
            failed = True
            continue
        print(f"removed   {note.id}  {note.path}")
    return 1 if failed else 0


def run_search(args) -> int:
    from knowledge.base import KnowledgeBase

    store = _store(args)
    kb = KnowledgeBase.load(store.directory)
    hits = kb.search(args.query, k=args.k)
    if not hits:
        print("nothing matches", file=sys.stderr)
        return 0
    for hit in hits:
        print(f"{hit.score:.3f}  {hit.kind:<4}  {hit.key:<40}  {hit.title[:60]}")
    return 0
