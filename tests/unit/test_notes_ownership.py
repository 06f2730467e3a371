"""Notes belong to the student who added them: per-user storage, chat uploads and quizzes (no model).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_notes_ownership.py -q
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.app.uploads import Upload, receive
from agent.quiz.planning import QuizUnavailable, notes_topic
from agent.quiz.service import TutorService
from knowledge.base import KnowledgeBase
from knowledge.cards import load_cards
from knowledge.library import NoteLibrary, safe_file_name, user_folder
from knowledge.notes import NoteError, note_id
from test_notes import make_pdf

ATTENTION = """# Attention

Multi-head attention is an attention mechanism that runs several attention heads in parallel on projected queries.
Scaled dot-product attention is an attention mechanism that divides the query-key dot products by the square root of the key dimension.
Additive attention is an attention mechanism that scores a query against a key with a small feed-forward network.
Self-attention is an attention mechanism that lets every token of a sequence attend to every other token.
Positional encoding is a signal that tells a transformer where each token sits in the sequence.
Beam search is a decoding method that keeps the best few partial sequences at every step.
"""
MEGA = 1_000_000


@pytest.fixture
def library(tmp_path) -> NoteLibrary:
    return NoteLibrary(tmp_path / "notes")


def upload(tmp_path: Path, name: str, data: bytes) -> Upload:
    path = tmp_path / "chainlit-upload-1234"  # Chainlit keeps uploads under a random name, no suffix
    path.write_bytes(data)
    return Upload(name=name, path=path)


def test_uploads_are_kept_per_student(library, tmp_path):
    result = receive(library, "ada", [upload(tmp_path, "attention.md", ATTENTION.encode())], 10 * MEGA)
    assert result.refused == [] and "attention.md" in result.added[0] and "quiz me on my notes" in result.text()
    assert (library.directory("ada") / "files" / "attention.md").read_text() == ATTENTION
    assert library.chunks("ada") and library.chunks("bob") == []
    again = receive(library, "ada", [upload(tmp_path, "attention.md", ATTENTION.encode())], 10 * MEGA)
    assert "unchanged" in again.added[0] and len(library.store("ada").notes()) == 1


@pytest.mark.parametrize("name, data, reason", [
    ("slides.docx", b"PK\x03\x04 a word file", "can only read"),
    ("notes", b"plain text without a suffix", "can only read"),
    ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "not a readable PDF"),
    ("scan.pdf", make_pdf([]), "no extractable text"),
    ("latin1.txt", "Régularisation".encode("latin-1"), "not UTF-8"),
    ("big.md", b"x" * (2 * MEGA), "over the 1 MB limit"),
])
def test_refused_uploads_say_why_and_leave_nothing(library, tmp_path, name, data, reason):
    result = receive(library, "ada", [upload(tmp_path, name, data)], 1 * MEGA)
    assert result.added == [] and len(result.refused) == 1
    assert reason in result.refused[0] and result.refused[0].startswith(name) and "Traceback" not in result.text()
    folder = library.directory("ada")
    assert not folder.exists() or not [p for p in folder.rglob("*") if p.is_file()]


def test_a_refused_reupload_keeps_the_previous_file(library, tmp_path):
    receive(library, "ada", [upload(tmp_path, "week.pdf", make_pdf(["Dropout zeroes hidden units in training."]))],
            MEGA)
    kept = (library.directory("ada") / "files" / "week.pdf").read_bytes()
    with pytest.raises(NoteError):
        library.add_upload("ada", "week.pdf", b"%PDF-1.4 broken", max_bytes=MEGA)
    assert (library.directory("ada") / "files" / "week.pdf").read_bytes() == kept


def test_names_cannot_leave_their_folder(library):
    assert safe_file_name("../../etc/passwd.md") == "passwd.md" and safe_file_name("a b?.TXT") == "a-b.txt"
    assert user_folder("ada") == "ada" and user_folder("../root").startswith("u-") and user_folder("..") != ".."
    assert library.directory("../root").parent == library.root / "users"


def test_shared_notes_from_before_move_to_the_open_mode_student(tmp_path):
    lecture = tmp_path / "lecture.md"
    lecture.write_text(ATTENTION, encoding="utf-8")
    from knowledge.notes import NoteStore

    NoteStore(tmp_path / "notes").add(lecture)  # the old layout: <notes>/<id>.json, shared by everyone
    library = NoteLibrary(tmp_path / "notes")
    assert library.chunks("ada") == []
    assert [n.id for n in library.store("student").notes()] == [note_id(lecture)]
    assert not list((tmp_path / "notes").glob("*.json"))


@pytest.fixture
def service(library, tmp_path) -> TutorService:
    receive(library, "ada", [upload(tmp_path, "attention.md", ATTENTION.encode())], 10 * MEGA)
    return TutorService(KnowledgeBase(list(load_cards())), notes=library)


def test_quiz_me_on_my_notes_draws_only_on_my_notes(service):
    ada = service.for_user("ada")
    plan = ada.plan("my notes", count=4, seed=1, source="notes")
    assert plan.topic == "your notes" and len(plan.items) == 4
    assert all(item.source.startswith("note:") for item in plan.items + plan.spares)
    written = [ada.write_question(plan, i).question for i in range(len(plan.items))]
    assert all(q.source.startswith("note:") and q.question.endswith("?") for q in written)
    assert service.for_user("ada") is ada  # built once while the notes are unchanged


def test_another_students_quiz_never_draws_on_them(service):
    bob = service.for_user("bob")
    assert bob.kb.chunks == {}
    with pytest.raises(QuizUnavailable, match="no notes yet"):
        bob.plan("my notes", count=4, seed=1, source="notes")
    plan = bob.plan("attention", count=10, seed=1)
    assert not any(item.source.startswith("note:") for item in plan.items + plan.spares)


def test_a_quiz_on_a_topic_the_notes_cover_draws_mainly_on_them(service):
    plan = service.for_user("ada").plan("attention mechanism", count=6, seed=2)
    from_notes = sum(item.source.startswith("note:") for item in plan.items)
    assert from_notes >= 4, [item.source for item in plan.items]
    cards_only = service.for_user("ada").plan("attention mechanism", count=6, seed=2, source="cards")
    assert not any(item.source.startswith("note:") for item in cards_only.items)


def test_new_notes_are_seen_at_once(service, library, tmp_path):
    before = service.for_user("bob")
    receive(library, "bob", [upload(tmp_path, "mine.md", ATTENTION.encode())], 10 * MEGA)
    after = service.for_user("bob")
    assert after is not before and after.kb.chunks


@pytest.mark.parametrize("topic, subject", [
    ("my notes", None), (None, None), ("dropout from my notes", "dropout"), ("my notes on beam search", "beam search"),
])
def test_my_notes_is_not_part_of_the_subject(topic, subject):
    assert notes_topic(topic) == subject
