"""The study loop inside the tutor graph: answers recorded per user, review of due facts, progress, export.

Real graph, real SQLite checkpointer, real study store in tmp, model-free service (SeededChooser);
the clock is a fake the test moves.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_graph_study.py -q
"""

from __future__ import annotations

import io
import sqlite3
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from agent.graph.events import ActionClick, AnswerClick, FileOffer, Output, ProgressReport, QuestionShown, TextTurn
from agent.graph.runner import Tutor
from agent.study.companion import REVIEW_TOPIC, StudyCompanion
from agent.study.facts import fact_id_of
from agent.study.store import StudyStore
from agent.quiz.service import TutorService
from schemas import LETTERS
from schemas.turn import TurnRequest

USER, THREAD = "ada", "thread-1"


class MovableClock:
    def __init__(self):
        self.at = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self.at


class Reader:
    def __init__(self, script=None):
        self.script = script or {}

    def __call__(self, text, options=None):
        return self.script.get(text, TurnRequest(intent="explain"))


@pytest.fixture(scope="module")
def service(knowledge_base):
    return TutorService(knowledge_base, lm=None)


@pytest.fixture
def clock():
    return MovableClock()


@pytest.fixture
def study(knowledge_base, tmp_path, clock):
    return StudyCompanion(StudyStore.in_data_dir(tmp_path), knowledge_base, clock)


def tutor_on(tmp_path: Path, service, study=None, reader=None, seed=3):
    return Tutor.open(tmp_path / "graph.sqlite", service, read_turn=reader or Reader(), seed=seed, study=study)


async def run(tutor, event, user=USER, thread=THREAD) -> list[Output]:
    if isinstance(event, str):
        event = TextTurn(text=event, questions=3)
    return [out async for out in tutor.turn(thread, event, user=user)]


def only(outputs, kind):
    found = [o for o in outputs if o.kind == kind]
    assert len(found) == 1, [o.kind for o in outputs]
    return found[0]


def wrong(q: QuestionShown) -> str:
    return next(x for x in LETTERS if x != q.question.answer)


async def take_quiz(tutor, command: str, right: list[bool], user=USER, thread=THREAD):
    """Answer a quiz: ``right[i]`` says whether question i is answered correctly; returns questions, outputs."""
    outputs = await run(tutor, command, user, thread)
    asked = []
    for ok in right:
        question = only(outputs, "question")
        asked.append(question)
        letter = question.question.answer if ok else wrong(question)
        outputs = await run(tutor, AnswerClick(quiz_id=question.quiz_id, index=question.index, letter=letter),
                            user, thread)
    return asked, outputs


def anki_notes(deck: bytes, tmp_path: Path) -> list[str]:
    """The first field (the stem) of every note in an .apkg's collection."""
    with zipfile.ZipFile(io.BytesIO(deck)) as archive:
        archive.extract("collection.anki2", tmp_path)
    with sqlite3.connect(tmp_path / "collection.anki2") as db:
        return [row[0].split("\x1f")[0] for row in db.execute("SELECT flds FROM notes")]


async def test_answers_are_recorded_and_the_summary_names_weak_concepts_and_offers_the_deck(
        service, study, tmp_path):
    async with tutor_on(tmp_path, service, study) as tutor:
        asked, outputs = await take_quiz(tutor, "/quiz overfitting", [False, True, True])
    summary = only(outputs, "summary")
    assert [o.kind for o in outputs][-2:] == ["summary", "file"]
    stored = study.store.answers(USER)
    assert [(a.quiz_id, a.graded.index, a.graded.is_correct) for a in stored] == [
        (asked[0].quiz_id, 0, False), (asked[0].quiz_id, 1, True), (asked[0].quiz_id, 2, True)]
    assert len(study.store.quizzes(USER)) == 1 and study.store.answers("someone else") == []
    missed = asked[0].question.concept
    assert summary.review_note.startswith("Weakest concepts: " + missed) and not summary.review
    deck = only(outputs, "file")
    assert deck.filename.endswith(".apkg")
    assert sorted(anki_notes(deck.data, tmp_path)) == sorted(q.question.question for q in asked)


async def test_review_brings_back_only_the_missed_facts_once_they_are_due(service, study, clock, tmp_path):
    async with tutor_on(tmp_path, service, study) as tutor:
        asked, _ = await take_quiz(tutor, "/quiz overfitting", [False, True, True])
        outputs = await run(tutor, "/review")
        assert "Nothing is due for review now. Next:" in only(outputs, "help").text
        clock.at += timedelta(days=1.5)  # a miss is due after 1 day, a right first answer after 2 (FSRS)
        outputs = await run(tutor, ActionClick(action="review", origin="starter"))
        started = only(outputs, "quiz_started")
        assert (started.topic, started.total) == (REVIEW_TOPIC, 1)
        review = only(outputs, "question")
        assert fact_id_of(review.question) == fact_id_of(asked[0].question)
        outputs = await run(tutor, AnswerClick(quiz_id=review.quiz_id, index=0, letter=review.question.answer))
        assert only(outputs, "summary").review and only(outputs, "summary").result.score == 1
        outputs = await run(tutor, "/review")
        assert "Nothing is due" in only(outputs, "help").text  # the fact moved on after the right answer


async def test_review_with_no_history_says_so_and_keeps_the_waiting_question(service, study, tmp_path):
    async with tutor_on(tmp_path, service, study, reader=Reader({"what should I review?":
                                                                 TurnRequest(intent="review")})) as tutor:
        question = only(await run(tutor, "/quiz overfitting"), "question")
        outputs = await run(tutor, "what should I review?", user="newcomer")
        assert [o.kind for o in outputs] == ["help", "question"] and outputs[-1] == question
        assert outputs[0].text.startswith("Nothing to review yet") and "Question 1 of 3 is waiting" in outputs[0].text


async def test_progress_is_text_and_a_png_of_the_students_own_answers(service, study, tmp_path):
    async with tutor_on(tmp_path, service, study) as tutor:
        asked, _ = await take_quiz(tutor, "/quiz overfitting", [False, True])
        report = only(await run(tutor, "/progress"), "progress")
        other = only(await run(tutor, "/progress", user="ben", thread="t2"), "help")
    assert isinstance(report, ProgressReport) and report.png.startswith(b"\x89PNG\r\n\x1a\n")
    assert f"Progress of {USER}" in report.text and "2 answers" in report.text
    assert f"  {asked[0].question.concept}: mastery" in report.text
    assert other.text.startswith("No answers recorded yet")


async def test_export_formats_and_what_follow_the_command_words(service, study, tmp_path):
    async with tutor_on(tmp_path, service, study) as tutor:
        outputs = await run(tutor, "/export")
        assert "Nothing to export: no answers yet" in only(outputs, "notice").text
        asked, _ = await take_quiz(tutor, "/quiz overfitting", [False, True])
        anki = only(await run(tutor, "/export"), "file")
        md = only(await run(tutor, "/export markdown"), "file")
        due = only(await run(tutor, "/export due json"), "notice")
    assert isinstance(anki, FileOffer) and anki.filename == "ml-tutor-history.apkg"
    assert len(anki_notes(anki.data, tmp_path)) == 2
    assert md.filename == "ml-tutor-history.md" and md.mime == "text/markdown"
    text = md.data.decode()
    assert all(q.question.question[:30] in text.replace("\\", "") for q in asked) and "wrong (chose" in text
    assert "nothing is due now" in due.text


async def test_without_a_user_nothing_is_recorded_and_the_study_commands_say_why(service, study, tmp_path):
    async with tutor_on(tmp_path, service, study) as tutor:
        _, outputs = await take_quiz(tutor, "/quiz overfitting", [False, True, True], user="")
        assert only(outputs, "summary").review_note == "" and "file" not in [o.kind for o in outputs]
        for command in ("/review", "/progress", "/export"):
            assert "not kept in this session" in only(await run(tutor, command, user=""), "help").text
    assert study.store.answers("") == [] and study.store.answers(USER) == []


async def test_a_right_answer_on_a_retry_is_recorded_as_hard(service, study, tmp_path):
    async with tutor_on(tmp_path, service, study) as tutor:
        asked, _ = await take_quiz(tutor, "/quiz overfitting", [False, True, True])
        retried, outputs = await take_quiz(tutor, "/retry", [True])
        assert only(outputs, "summary").retry
    ratings = [(a.retry, a.rating, a.graded.is_correct) for a in study.store.answers(USER)]
    assert ratings == [(False, "again", False), (False, "good", True), (False, "good", True), (True, "hard", True)]
    assert fact_id_of(retried[0].question) == fact_id_of(asked[0].question)
