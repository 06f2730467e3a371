"""The notes store and ``tutor notes``: add/list/remove, idempotent re-add, persistence, bad inputs.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/unit/test_notes.py -q
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

import knowledge.notes as notes_module
from knowledge.base import KnowledgeBase
from knowledge.notes import NoteError, NoteStore, collect_files, note_id
from tutor.cli import main as tutor

LECTURE = """# Lecture 4: Regularisation

Overfitting happens when a model memorises the noise in its training data.

## Dropout

Dropout randomly zeroes hidden activations during training, which stops units from co-adapting.
"""


def make_pdf(lines: list[str]) -> bytes:
    """A one-page PDF showing ``lines`` in Helvetica, written by hand (no PDF writer needed)."""
    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    stream = "BT /F1 11 Tf 14 TL 72 720 Td " + " ".join(f"({escape(line)}) '" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = "%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n" + "".join(f"{o:010d} 00000 n \n" for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    return out.encode("latin-1")


@pytest.fixture
def store(tmp_path: Path) -> NoteStore:
    return NoteStore(tmp_path / "data" / "notes")


@pytest.fixture
def lecture(tmp_path: Path) -> Path:
    path = tmp_path / "lecture.md"
    path.write_text(LECTURE, encoding="utf-8")
    return path


def stored_files(store: NoteStore) -> list[str]:
    return sorted(p.name for p in store.directory.iterdir()) if store.directory.exists() else []


# ------------------------------------------------------------------------------ the store


def test_add_list_remove(store, lecture):
    result = store.add(lecture)
    assert result.status == "added"
    note = result.note
    assert note.id == note_id(lecture) and note.path == str(lecture.resolve())
    assert note.title == "Lecture 4: Regularisation" and note.kind == "markdown"
    assert "Dropout randomly zeroes" in " ".join(note.chunks)
    assert stored_files(store) == [f"{note.id}.json"]
    assert [n.id for n in store.notes()] == [note.id]
    chunks = store.chunks()
    assert [c.source for c in chunks] == [f"note:{note.id}#{i}" for i in range(len(note.chunks))]
    assert store.remove(note.id[:6]).id == note.id
    assert store.notes() == [] and stored_files(store) == []


def test_re_adding_an_unchanged_file_is_a_no_op(store, lecture):
    first = store.add(lecture).note
    before = (store.directory / f"{first.id}.json").read_bytes()
    again = store.add(lecture)
    assert again.status == "unchanged" and again.note == first
    assert (store.directory / f"{first.id}.json").read_bytes() == before


def test_a_changed_file_replaces_its_chunks(store, lecture):
    first = store.add(lecture).note
    lecture.write_text("# Short\n\nOnly gradient descent is covered in these notes now.\n", encoding="utf-8")
    result = store.add(lecture)
    assert result.status == "updated" and result.note.id == first.id
    assert result.note.added == first.added and result.note.updated > first.updated
    text = " ".join(c.text for c in store.chunks())
    assert "gradient descent" in text and "Dropout" not in text
    assert len(store.notes()) == 1


def test_notes_persist_across_instances_and_reach_the_knowledge_base(store, lecture, tmp_path):
    note = store.add(lecture).note
    reopened = NoteStore(store.directory)
    assert [n.model_dump() for n in reopened.notes()] == [note.model_dump()]
    kb = KnowledgeBase.load(store.directory)
    assert f"note:{note.id}#0" in kb.chunks
    assert any(h.kind == "note" for h in kb.search("dropout co-adapting hidden activations", k=5))
    assert KnowledgeBase.load(tmp_path / "never-created").chunks == {}


def test_find_by_path_prefix_and_errors(store, lecture, tmp_path):
    other = tmp_path / "other.txt"
    other.write_text("Gradient descent takes steps against the gradient.", encoding="utf-8")
    a, b = store.add(lecture).note, store.add(other).note
    assert store.find(str(lecture)).id == a.id and store.find(b.id.upper()).id == b.id
    with pytest.raises(NoteError, match="no note"):
        store.find("does-not-exist.md")
    with pytest.raises(NoteError, match="no note"):
        store.find("abc")  # prefixes need 4+ characters
    with pytest.raises(NoteError, match="no note"):
        store.remove("ffff0000ffff")


def test_an_unreadable_note_file_is_skipped_and_reported(store, lecture):
    store.add(lecture)
    (store.directory / "0123456789ab.json").write_text("{not json", encoding="utf-8")
    assert len(store.notes()) == 1
    assert len(store.problems) == 1 and "0123456789ab.json" in store.problems[0]


# ----------------------------------------------------------------------------- bad inputs


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("empty.md", b"", "empty file"),
        ("blank.txt", b"  \n\n\t ", "empty file"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("latin1.txt", "café au lait".encode("latin-1"), "not UTF-8"),
        ("slides.docx", b"PK\x03\x04", "unsupported file type '.docx'"),
        ("broken.pdf", b"%PDF-1.4 this is not really a pdf", "not a readable PDF"),
        ("scan.pdf", make_pdf([]), "no extractable text"),
    ],
)
def test_bad_files_are_refused_with_one_line_and_nothing_written(store, tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(NoteError, match=message) as info:
        store.add(path)
    assert "\n" not in str(info.value) and name in str(info.value)
    assert stored_files(store) == []


def test_missing_files_and_huge_files_are_refused(store, tmp_path, monkeypatch):
    with pytest.raises(NoteError, match="no such file"):
        store.add(tmp_path / "missing.md")
    monkeypatch.setattr(notes_module, "MAX_TEXT_BYTES", 1000)
    big = tmp_path / "big.txt"
    big.write_text("word " * 300, encoding="utf-8")
    with pytest.raises(NoteError, match="over the .* limit"):
        store.add(big)
    assert stored_files(store) == []


def test_utf8_bom_and_utf16_text_are_read(store, tmp_path):
    bom = tmp_path / "bom.txt"
    bom.write_bytes("\ufeffThe learning rate sets the step size.".encode("utf-8"))
    utf16 = tmp_path / "wide.txt"
    utf16.write_text("Batch normalisation rescales activations.", encoding="utf-16")
    assert store.add(bom).note.chunks == ["The learning rate sets the step size."]
    assert store.add(utf16).note.chunks == ["Batch normalisation rescales activations."]


def test_pdf_text_is_extracted_and_dehyphenated(store, tmp_path):
    path = tmp_path / "slides.pdf"
    path.write_bytes(make_pdf(["Dropout zeroes activations during train-", "ing with probability p."]))
    note = store.add(path).note
    assert note.kind == "pdf" and "during training with probability p" in note.chunks[0]


def test_password_protected_pdfs_are_refused(store, tmp_path):
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=io.BytesIO(make_pdf(["Secret lecture notes about attention."])))
    writer.encrypt("a-password")
    path = tmp_path / "locked.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    with pytest.raises(NoteError, match="password-protected"):
        store.add(path)


def test_directories_expand_to_supported_files(tmp_path):
    folder = tmp_path / "course"
    (folder / "week1").mkdir(parents=True)
    (folder / ".git").mkdir()
    (folder / "week1" / "a.md").write_text("# A\n\ntext", encoding="utf-8")
    (folder / "b.TXT").write_text("text", encoding="utf-8")
    (folder / "c.png").write_bytes(b"\x89PNG")
    (folder / ".git" / "d.md").write_text("hidden", encoding="utf-8")
    files, errors = collect_files([folder, tmp_path / "nope.md", folder / "week1" / "a.md"])
    assert [f.name for f in files] == ["b.TXT", "a.md"] and len(errors) == 1 and "nope.md" in errors[0]
    (tmp_path / "empty").mkdir()
    assert collect_files([tmp_path / "empty"])[1][0].endswith("no .md, .markdown, .txt, .text, .pdf files inside")


# ------------------------------------------------------------------------------------ CLI


def test_cli_add_list_remove(tmp_path, lecture, capsys):
    notes_dir = str(tmp_path / "notes")
    bad = tmp_path / "empty.md"
    bad.write_text("", encoding="utf-8")
    assert tutor(["notes", "add", str(lecture), str(bad), "--notes-dir", notes_dir]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("added") and "error:" in err and "empty.md: empty file" in err
    ident = note_id(lecture)

    assert tutor(["notes", "add", str(lecture), "--notes-dir", notes_dir]) == 0
    assert capsys.readouterr().out.startswith("unchanged")

    assert tutor(["notes", "list", "--format", "json", "--notes-dir", notes_dir]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["title"]) for r in rows] == [(ident, "Lecture 4: Regularisation")]

    assert tutor(["notes", "search", "dropout co-adapting", "--notes-dir", notes_dir]) == 0
    assert f"note:{ident}#" in capsys.readouterr().out

    assert tutor(["notes", "remove", ident, "--notes-dir", notes_dir]) == 0
    assert tutor(["notes", "remove", ident, "--notes-dir", notes_dir]) == 1
    assert "no note" in capsys.readouterr().err
    assert tutor(["notes", "list", "--notes-dir", notes_dir]) == 0
    assert "no notes" in capsys.readouterr().err


def test_cli_uses_the_data_directory_by_default(tmp_path, lecture, monkeypatch, capsys):
    monkeypatch.setenv("TUTOR_DATA_DIR", str(tmp_path / "data"))
    assert tutor(["notes", "add", str(lecture)]) == 0
    assert (tmp_path / "data" / "notes" / "users" / "student" / f"{note_id(lecture)}.json").exists()
    assert tutor(["notes", "add", str(lecture), "--user", "ada"]) == 0
    assert (tmp_path / "data" / "notes" / "users" / "ada" / f"{note_id(lecture)}.json").exists()
    from agent.settings import Settings

    assert Settings.from_env().knowledge.notes_dir == tmp_path / "data" / "notes"
