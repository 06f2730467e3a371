"""Export quizzes, answer history and due facts: Anki decks (genanki), printable Markdown, JSON.

    data = export_bytes(collect(store, user, "history", now), "anki")   # one note per question

Every format takes the same :class:`Questions` (a title, the questions, and for JSON the records in
the project's schemas, :class:`schemas.study.Export`). Anki notes carry stem, options, answer,
explanation, source and a concept tag; the note model and each deck have fixed ids and each note a
guid from its fact and stem, so importing a newer export updates notes instead of duplicating them.
Callers write the bytes atomically (``common.files.write_atomic``) or hand them to the browser.
"""

from __future__ import annotations

import hashlib
import html
import itertools
import io
import re
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from agent.study.facts import fact_id_of
from schemas import LETTERS, MultipleChoiceQuestion, Quiz
from schemas.study import Export

FORMATS = ("anki", "markdown", "json")
WHATS = ("quizzes", "history", "due")
MODEL_ID = 1_734_560_981  # fixed once: Anki matches note types by id
DECK_ROOT = "ML Tutor"
SUFFIX = {"anki": ".apkg", "markdown": ".md", "json": ".json"}


@dataclass(frozen=True)
class Questions:
    """What one export holds: distinct questions (one note each) and the full records for JSON."""

    title: str
    questions: list[MultipleChoiceQuestion]
    document: Export


def from_export(document: Export, title: str) -> Questions:
    """The distinct questions of an export document (the same question twice makes one note)."""
    found: list[MultipleChoiceQuestion] = []
    if document.quiz is not None:
        found.extend(document.quiz.questions)
    for record in document.quizzes:
        found.extend(record.quiz.questions)
    found.extend(r.question for r in document.history)
    found.extend(d.question for d in document.due)
    unique: dict[str, MultipleChoiceQuestion] = {}
    for q in found:
        unique.setdefault(note_key(q), q)
    return Questions(title, list(unique.values()), document)


def quiz_export(quiz: Quiz, now: datetime) -> Questions:
    """One quiz document (``tutor quiz --format json``) as an export."""
    return from_export(Export(what="quiz", exported_at=now, quiz=quiz), f"Quiz: {quiz.topic}")


def export_name(what: str, fmt: str) -> str:
    """A file name for a download: ``ml-tutor-history.apkg``."""
    return f"ml-tutor-{what}{SUFFIX[fmt]}"


def note_key(question: MultipleChoiceQuestion) -> str:
    return f"{fact_id_of(question)}|{question.question.casefold()}"


def export_bytes(items: Questions, fmt: str) -> bytes:
    if fmt == "anki":
        return anki_package(items)
    if fmt == "markdown":
        return markdown(items).encode("utf-8")
    if fmt == "json":
        return (items.document.model_dump_json(indent=2) + "\n").encode("utf-8")
    raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")


# ------------------------------------------------------------------------------------ anki


def anki_package(items: Questions) -> bytes:
    """An .apkg (zip holding the deck's SQLite collection): one note per question."""
    import genanki

    deck_name = f"{DECK_ROOT}::{items.title}"
    deck = genanki.Deck(_deck_id(deck_name), deck_name)
    for q in items.questions:
        deck.add_note(genanki.Note(model=_model(), fields=_fields(q), tags=[concept_tag(q.concept)],
                                   guid=genanki.guid_for(note_key(q))))
    package = genanki.Package(deck)
    stamp = items.document.exported_at.timestamp()
    # genanki's write_to_file leaves its temporary SQLite file behind; build the same zip here instead.
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "collection.anki2"
        with sqlite3.connect(path) as db:
            package.write_to_db(db.cursor(), stamp, _ids(stamp))
        db.close()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.write(path, "collection.anki2")
            archive.writestr("media", "{}")
    return buffer.getvalue()


def _ids(stamp: float):
    return itertools.count(int(stamp * 1000))


def _deck_id(name: str) -> int:
    """A stable deck id from the deck's name (Anki keeps one deck per id)."""
    return int(hashlib.sha256(name.encode("utf-8")).hexdigest()[:8], 16) & 0x7FFFFFFF or 1


def _model():
    import genanki

    fields = ["Question", "Options", "Answer", "Explanation", "Source", "Concept"]
    front = "<div class=stem>{{Question}}</div>{{Options}}"
    back = "{{FrontSide}}<hr id=answer><b>{{Answer}}</b><p>{{Explanation}}</p><small>{{Source}} · {{Concept}}</small>"
    return genanki.Model(MODEL_ID, "ML Tutor multiple choice", fields=[{"name": f} for f in fields],
                         templates=[{"name": "Card 1", "qfmt": front, "afmt": back}])


def _fields(q: MultipleChoiceQuestion) -> list[str]:
    options = "<ol type=A>" + "".join(f"<li>{html.escape(o)}</li>" for o in q.options) + "</ol>"
    return [html.escape(q.question), options, html.escape(f"{q.answer}. {q.correct_option}"),
            html.escape(q.explanation), html.escape(q.source or ""), html.escape(q.concept)]


def concept_tag(concept: str) -> str:
    """An Anki tag (no spaces) for a concept title: "Bias-variance trade-off" -> "bias-variance_trade-off"."""
    return re.sub(r"[^\w\-:]+", "_", concept.strip().casefold()).strip("_") or "concept"


# -------------------------------------------------------------------------------- markdown


def markdown(items: Questions) -> str:
    """Questions first, then the answer key (print it and cover the second page)."""
    lines = [f"# {_md(items.title)}", "", f"_{len(items.questions)} questions · exported "
             f"{items.document.exported_at:%Y-%m-%d %H:%M} UTC_", ""]
    for n, q in enumerate(items.questions, start=1):
        lines.append(f"**{n}. {_md(q.question)}**  ")
        lines.extend(f"{letter}. {_md(option)}  " for letter, option in zip(LETTERS, q.options))
        lines.append("")
    if items.document.what == "history":
        lines += ["## Your answers", ""]
        for r in items.document.history:
            mark = "right" if r.graded.is_correct else f"wrong (chose {r.graded.chosen})"
            lines.append(f"- {r.answered_at:%Y-%m-%d %H:%M} · {mark} · {_md(r.question.question)}")
        lines.append("")
    lines += ["## Answer key", ""]
    for n, q in enumerate(items.questions, start=1):
        source = f" _(source: {_md(q.source)})_" if q.source else ""
        lines.append(f"{n}. **{q.answer}. {_md(q.correct_option)}** {_md(q.explanation)}{source}")
    return "\n".join(lines).rstrip() + "\n"


def _md(text: str) -> str:
    return re.sub(r"([\\`*_\[\]<>#|])", r"\\\1", " ".join(text.split()))
