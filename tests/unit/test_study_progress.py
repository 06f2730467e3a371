"""Progress numbers, text, picture and exports (pure apart from a tmp SQLite file; no model).

    pytest -q tests/unit/test_study_progress.py
"""

from __future__ import annotations

import io
import json
import sqlite3
import zipfile
from datetime import datetime, timedelta, timezone
from statistics import fmean

import pytest

from agent.grading import grade, summarise
from agent.quiz.service import TutorService
from agent.study import memory
from agent.study.chart import progress_png
from agent.study.clock import Clock
from agent.study.companion import StudyCompanion
from agent.study.export import concept_tag, export_bytes, quiz_export
from agent.study.progress import progress_text, weakest
from agent.study.store import StudyStore
from schemas import LETTERS, StudentAnswer
from schemas.study import Export, Progress

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def quizzes(knowledge_base):
    service = TutorService(knowledge_base)
    pair = [service.generate_quiz("overfitting", 4, seed=1), service.generate_quiz("k-means clustering", 4, seed=2)]
    assert not {q.explanation for q in pair[0].questions} & {q.explanation for q in pair[1].questions}
    return pair


@pytest.fixture()
def taken(knowledge_base, quizzes, tmp_path):
    """Two quizzes taken a day apart: the first and third answer of each right, the others wrong."""
    store = StudyStore(tmp_path / "chat.sqlite")
    for day, quiz in enumerate(quizzes):
        companion = StudyCompanion(store, knowledge_base, Clock(fixed=NOW + timedelta(days=day)))
        graded = []
        for i, q in enumerate(quiz.questions):
            letter = q.answer if i % 2 == 0 else next(x for x in LETTERS if x != q.answer)
            graded.append(grade(quiz, StudentAnswer(quiz_id=quiz.meta.quiz_id, index=i, letter=letter)))
            companion.record_answer("ana", quiz.meta.quiz_id, q, graded[-1])
        companion.record_quiz("ana", quiz, summarise(quiz, graded))
    return StudyCompanion(store, knowledge_base, Clock(fixed=NOW + timedelta(days=1, hours=2)))


def test_mastery_is_mean_recall_of_seen_facts_unseen_counted_apart(taken, knowledge_base):
    progress = taken.progress("ana")
    assert progress.answers == 8 and progress.seen == len({a.fact.fact_id for a in taken.store.answers("ana")})
    memories = taken.store.memories("ana")
    for area in progress.areas:
        for concept in area.concepts:
            mine = [m for m in memories if m.ref.card_id == concept.card_id]
            assert concept.seen == len(mine)
            assert concept.mastery == pytest.approx(fmean(memory.recall(m.card, progress.now) for m in mine))
            assert concept.unseen == len(knowledge_base.card(concept.card_id).facts) - len(mine)
            assert concept.next_due == min(m.due for m in mine)
        assert area.seen == sum(c.seen for c in area.concepts)
    # Day 1's two missed facts are due (one day later); day 2's are not yet.
    assert progress.due == 2
    assert [(d.answers, d.correct) for d in progress.days] == [(4, 2), (4, 2)]
    low = weakest(progress, 1)[0]
    assert low.mastery == min(c.mastery for a in progress.areas for c in a.concepts)


def test_progress_text_json_and_picture(taken):
    progress = taken.progress("ana")
    text = progress_text(progress)
    for area in progress.areas:
        assert area.area in text and all(c.concept in text for c in area.concepts)
    assert Progress.model_validate_json(progress.model_dump_json()) == progress
    png = progress_png(progress)
    assert png.startswith(b"\x89PNG") and len(png) > 5000
    empty = taken.progress("nobody")
    assert empty.seen == 0 and "No answers" in progress_text(empty)
    assert progress_png(empty).startswith(b"\x89PNG")


def anki_notes(data: bytes, folder) -> list[tuple[str, str, str]]:
    """(guid, fields, tags) of every note in an .apkg (a zip holding the collection's SQLite)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open("collection.anki2") as handle:
        raw = handle.read()
    path = folder / "collection.anki2"
    path.write_bytes(raw)
    with sqlite3.connect(path) as db:
        return db.execute("SELECT guid, flds, tags FROM notes ORDER BY id").fetchall()


@pytest.mark.parametrize("what, count", [("history", 8), ("quizzes", 8), ("due", 2)])
def test_anki_export_has_one_note_per_question(taken, what, count, tmp_path):
    items = taken.collect("ana", what)
    notes = anki_notes(export_bytes(items, "anki"), tmp_path)
    assert len(notes) == len(items.questions) == count
    for (guid, fields, tags), q in zip(notes, items.questions):
        stem, options, key, explanation, source, concept = fields.split("\x1f")
        assert q.question.split()[0] in stem and all(o.split()[0] in options for o in q.options)
        assert key.startswith(f"{q.answer}. ") and source == (q.source or "")
        assert concept_tag(q.concept) in tags.split()
    again = anki_notes(export_bytes(taken.collect("ana", what), "anki"), tmp_path)
    assert [n[0] for n in again] == [n[0] for n in notes]  # stable guids: re-importing updates notes


def test_markdown_and_json_exports(taken, quizzes, tmp_path):
    items = taken.collect("ana", "history")
    text = export_bytes(items, "markdown").decode()
    assert text.count("## Answer key") == 1 and "## Your answers" in text
    for q in items.questions:
        assert f"{q.answer}. " in text.split("## Answer key")[1]
    document = Export.model_validate(json.loads(export_bytes(items, "json")))
    assert len(document.history) == 8 and document.history[1].graded.is_correct is False
    single = quiz_export(quizzes[0], NOW)
    assert len(anki_notes(export_bytes(single, "anki"), tmp_path)) == len(quizzes[0].questions)
    with pytest.raises(ValueError, match="unknown export format"):
        export_bytes(single, "pdf")
