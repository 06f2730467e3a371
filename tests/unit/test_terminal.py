"""The terminal quiz and the study commands, in-process (cards only, no model).

    pytest -q tests/unit/test_terminal.py
"""

from __future__ import annotations

import io
import json

import pytest

from agent.quiz.service import TutorService
from agent.study.clock import Clock
from agent.study.companion import StudyCompanion
from agent.terminal import PROMPT, parse_answer, run_quiz
from schemas import LETTERS

OPTIONS = ["Running averages collected during training", "Statistics of the current test batch",
           "A fixed mean of 0 and variance of 1", "Statistics of the first training batch"]


@pytest.mark.parametrize("text, letter", [
    ("b", "B"), (" C) ", "C"), ("(d)", "D"), ("a.", "A"),
    ("running averages collected during training", "A"), ("Running averages", "A"),
    ("current test", "B"), ("fixed mean", "C"),
])
def test_answers_by_letter_or_words(text, letter):
    assert parse_answer(text, OPTIONS) == letter


@pytest.mark.parametrize("text", ["", "e", "statistics of the", "training", "AB", "no idea"])
def test_unclear_answers_are_asked_again(text):
    assert parse_answer(text, OPTIONS) is None


@pytest.fixture()
def session(knowledge_base, tmp_path):
    service = TutorService(knowledge_base)
    companion = StudyCompanion.open(tmp_path / "chat.sqlite", knowledge_base, Clock())
    return service, companion


def test_terminal_quiz_grades_records_and_summarises(session):
    service, companion = session
    plan = service.plan("overfitting", 3, seed=4)
    answers = []
    for index in range(3):  # the writer is deterministic: the same questions as run_quiz will write
        answers.append(service.write_question(plan, index, answers).question)
    right = answers[0].answer
    wrong = next(x for x in LETTERS if x != answers[1].answer)
    words = answers[2].correct_option
    out = io.StringIO()
    result = run_quiz(service, plan, companion, "ana", io.StringIO(f"{right}\nmaybe\n{wrong}\n{words}\n"), out)
    text = out.getvalue()
    assert result.score == 2 and result.total == 3
    assert text.count(PROMPT) == 4 and "Please answer with a letter" in text
    assert text.count("✓ Correct!") == 2 and "✗ Not quite." in text and "score 2/3" in text
    assert "Score: 2/3" in text
    stored = companion.store.answers("ana")
    assert [a.graded.is_correct for a in stored] == [True, False, True]
    assert len(companion.store.quizzes("ana")) == 1


def test_end_of_input_keeps_the_answers_given(session):
    service, companion = session
    plan = service.plan("overfitting", 3, seed=4)
    out = io.StringIO()
    result = run_quiz(service, plan, companion, "ana", io.StringIO("A\n"), out)
    assert result.total == 1 and "input ended" in out.getvalue()
    assert len(companion.store.answers("ana")) == 1
    assert run_quiz(service, plan, companion, "ben", io.StringIO(""), io.StringIO()) is None


def test_cli_progress_and_export_errors(monkeypatch, tmp_path, capsys):
    from tutor.cli import main

    monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path))
    assert main(["progress", "--format", "json", "--user", "nobody"]) == 0
    assert json.loads(capsys.readouterr().out)["seen"] == 0
    assert main(["review", "--user", "nobody"]) == 0  # nothing due: answered without loading a model
    assert capsys.readouterr().out.startswith("Nothing to review yet")
    monkeypatch.setenv("TUTOR_CLOCK_OFFSET_DAYS", "soon")
    assert main(["review"]) == 1 and "TUTOR_CLOCK_OFFSET_DAYS" in capsys.readouterr().err
    monkeypatch.delenv("TUTOR_CLOCK_OFFSET_DAYS")
    assert main(["export", "--what", "history", "--format", "anki", "--out", str(tmp_path / "d.apkg")]) == 1
    assert "nothing to export" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text('{"topic": "x"}')
    assert main(["export", "--quiz", str(tmp_path / "bad.json"), "--format", "markdown",
                 "--out", str(tmp_path / "q.md")]) == 1
    assert "is not a quiz" in capsys.readouterr().err and not (tmp_path / "q.md").exists()
    assert main(["export", "--format", "json", "--out", str(tmp_path / "x.json")]) == 2  # neither --what nor --quiz
    with pytest.raises(SystemExit):
        main(["export", "--what", "due", "--quiz", "q.json", "--format", "json", "--out", "x.json"])
    with pytest.raises(SystemExit):
        main(["export", "--what", "due"])  # no --format/--out


def test_model_export_subcommands_still_parse():
    from tutor.cli import build_parser

    args = build_parser().parse_args(["export", "merge", "--adapter", "a", "--out", "b"])
    assert args.export_command == "merge" and args.out == "b" and args.what is None
    assert args.handler.__name__ == "run_merge"


def test_cli_exports_a_quiz_document_and_draws_progress(knowledge_base, monkeypatch, tmp_path, capsys):
    import sqlite3
    import zipfile

    from tutor.cli import main

    monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path))
    quiz = TutorService(knowledge_base).generate_quiz("dropout", 3, seed=0)
    (tmp_path / "quiz.json").write_text(quiz.model_dump_json())
    deck, printable = tmp_path / "quiz.apkg", tmp_path / "quiz.md"
    assert main(["export", "--quiz", str(tmp_path / "quiz.json"), "--format", "anki", "--out", str(deck)]) == 0
    with zipfile.ZipFile(deck) as archive:
        (tmp_path / "c.anki2").write_bytes(archive.read("collection.anki2"))
    with sqlite3.connect(tmp_path / "c.anki2") as db:
        assert db.execute("SELECT COUNT(*) FROM notes").fetchone()[0] == 3
    assert main(["export", "--quiz", str(tmp_path / "quiz.json"), "--format", "markdown", "--out", str(printable)]) == 0
    assert all(q.question.split()[1] in printable.read_text() for q in quiz.questions)
    assert main(["progress", "--png", str(tmp_path / "p.png")]) == 0
    assert (tmp_path / "p.png").read_bytes().startswith(b"\x89PNG")
    assert not list(tmp_path.glob(".*partial"))  # atomic writes leave no temporary files


def test_a_question_that_cannot_be_written_ends_the_quiz_keeping_answers(session, monkeypatch):
    from agent.quiz.planning import QuizUnavailable

    service, companion = session
    plan = service.plan("overfitting", 3, seed=4)
    real = service.write_question

    def second_fails(plan, index, taken=()):
        if index == 1:
            raise QuizUnavailable("I could not write a verified question 2.")
        return real(plan, index, taken)

    monkeypatch.setattr(service, "write_question", second_fails)
    out = io.StringIO()
    result = run_quiz(service, plan, companion, "ana", io.StringIO("A\nB\nC\n"), out)
    assert result.total == 1 and "The quiz ends after 1 question." in out.getvalue()
    assert len(companion.store.quizzes("ana")) == 1 and len(companion.store.answers("ana")) == 1
