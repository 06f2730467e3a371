"""Notes uploaded in the chat, in a real browser: a Markdown file becomes the student's notes and
"quiz me on my notes" asks about it; a file of another type is refused in one line.

Uses the shared ``tutor chat`` server and headless-chromium fixtures of ``test_chat_browser``.

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/e2e/test_notes_upload_browser.py -m e2e -q
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_chat_browser import (  # noqa: E402  (the shared server and headless-chromium fixtures)
    MODEL_WAIT_MS, browser, evidence, open_page, send, server,
)

pytestmark = pytest.mark.e2e
__all__ = ["browser", "server"]

NOTES = """# Attention

Multi-head attention is an attention mechanism that runs several attention heads in parallel on projected queries.
Scaled dot-product attention is an attention mechanism that divides the query-key dot products by the square root of the key dimension.
Additive attention is an attention mechanism that scores a query against a key with a small feed-forward network.
Self-attention is an attention mechanism that lets every token of a sequence attend to every other token.
"""


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def attach(page, path: Path, text: str) -> None:
    """Attach ``path`` with the composer's upload button, wait until the server has it, send ``text`` with it
    (a message sent while the upload still runs goes without the file)."""
    with page.expect_response(lambda r: "/project/file" in r.url and r.request.method == "POST") as uploaded:
        page.locator("#upload-button-input").set_input_files(str(path))
    assert uploaded.value.ok, (uploaded.value.status, uploaded.value.text())
    page.locator("#chat-input").fill(text)
    page.locator("#chat-submit").click()


def test_upload_notes_then_quiz_on_them(page, server, tmp_path):
    notes, slides = tmp_path / "attention.md", tmp_path / "slides.docx"
    notes.write_text(NOTES, encoding="utf-8")
    slides.write_bytes(b"PK\x03\x04 not a note")
    with evidence(page, server, "notes-upload"):
        open_page(page, server.url)
        send(page, "hello")  # Chainlit accepts uploads once the chat session exists on the server
        page.get_by_text("/help", exact=False).first.wait_for(timeout=MODEL_WAIT_MS)
        attach(page, slides, "thanks")  # (the composer sends no message without text)
        page.get_by_text("Not added: slides.docx: I can only read", exact=False).wait_for(timeout=MODEL_WAIT_MS)
        assert not list((server.data_dir / "notes").rglob("slides*"))
        attach(page, notes, "quiz me on my notes, 3 questions")  # the file joins the notes, then the quiz starts
        page.get_by_text("Added to your notes: attention.md", exact=False).wait_for(timeout=MODEL_WAIT_MS)
        stored = server.data_dir / "notes" / "users" / "student" / "files" / "attention.md"
        assert stored.read_text(encoding="utf-8") == NOTES
        page.get_by_text("Question 1 of 3", exact=False).first.wait_for(timeout=MODEL_WAIT_MS)
        page.get_by_text("Which attention mechanism", exact=False).first.wait_for()
        assert "Traceback" not in page.content()
