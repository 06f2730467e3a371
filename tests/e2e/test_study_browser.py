"""The study loop in a real browser: two quizzes, a day and a half later the missed facts come back,
the progress picture, the Anki deck of a quiz downloaded and opened; the app's own name and logo.

Starts ``python -m tutor chat`` (embedded model, 2 questions per quiz via TUTOR_QUESTIONS) and drives
it with Playwright on /usr/bin/chromium; the clock moves by restarting the server on the same data
dir with ``TUTOR_CLOCK_OFFSET_DAYS=1.5`` (FSRS: a miss is due after 1 day, a right first answer after 2).

    HF_HUB_OFFLINE=1 .venv/bin/python -m pytest tests/e2e/test_study_browser.py -m e2e -q
"""

from __future__ import annotations

import contextlib
import html
import re
import signal
import sqlite3
import sys
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_chat_browser import (  # noqa: E402  (browser: the shared headless-chromium fixture)
    MODEL_WAIT_MS, OUTPUT, STEP_WAIT_MS, Server, _free_port, browser, click_answer, evidence, open_page, send,
)

pytestmark = pytest.mark.e2e
QUESTIONS = 2
REVIEW = "Review of due facts"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("study-data")
    server = Server(data_dir, _free_port(), data_dir / "server.log", extra_env={"TUTOR_QUESTIONS": str(QUESTIONS)})
    server.start()
    yield server
    server.kill(signal.SIGTERM)


@contextlib.contextmanager
def new_chat(browser, server, name: str):
    """A fresh browser context on a new chat thread (the same open-mode student every time)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(STEP_WAIT_MS)
    try:
        with evidence(page, server, name):
            open_page(page, server.url)
            yield page
    finally:
        context.close()


def header_of(page, number: int, total: int) -> str:
    """The line above question ``number``: "Question 1 of 2 · topic[ · concept]"."""
    strong = page.get_by_text(f"Question {number} of {total}", exact=True).last
    strong.wait_for(timeout=MODEL_WAIT_MS)
    return " ".join(strong.locator("xpath=..").inner_text().split())


def take_quiz(page, total: int) -> tuple[list[str], list[bool]]:
    """Answer A to every question (keys are balanced, so not all A); returns the stems and which were right."""
    stems, right, score = [], [], 0
    for number in range(1, total + 1):
        header_of(page, number, total)
        stems.append(" ".join(page.locator("h3").last.inner_text().split()))
        click_answer(page, "A")
        feedback = page.get_by_text(re.compile(rf"Question {number} of {total} · score \d+/{number}")).last
        feedback.wait_for()
        new_score = int(re.search(r"score (\d+)/", feedback.inner_text()).group(1))
        right.append(new_score > score)
        score = new_score
    page.get_by_text(re.compile(rf"Quiz complete: {score} / {total}")).wait_for()
    return stems, right


def missed_concepts(page) -> set[str]:
    line = page.get_by_text("Concepts to revisit:", exact=False).last.locator("xpath=..").inner_text()
    return {c.strip() for c in line.split(":", 1)[1].split(",")}


def anki_stems(path: Path, tmp: Path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        archive.extract("collection.anki2", tmp)
    with sqlite3.connect(tmp / "collection.anki2") as db:
        rows = db.execute("SELECT flds FROM notes").fetchall()
    return [" ".join(html.unescape(flds.split("\x1f")[0]).split()) for (flds,) in rows]


def test_two_quizzes_then_review_progress_and_the_anki_deck(browser, server, tmp_path):
    OUTPUT.mkdir(exist_ok=True)
    missed: set[str] = set()
    misses = 0
    with new_chat(browser, server, "study-quiz-1") as page:
        # The app presents itself: its name, welcome, starters, logo and favicon (not Chainlit's).
        assert page.title() == "ML Tutor"
        page.get_by_text("Readme").first.click()  # the welcome (chainlit.md): what the tutor can do
        page.get_by_text("Welcome to ML Tutor").first.wait_for()
        assert page.get_by_text("/review", exact=False).count() >= 1
        page.keyboard.press("Escape")
        assert page.locator("#starters").get_by_text("Review due").count() == 1
        for path in ("/logo?theme=light", "/favicon"):
            response = page.request.get(server.url + path)
            assert response.ok and response.text().startswith("<svg") and "#4338CA" in response.text()
        send(page, "/quiz overfitting")
        stems, right = take_quiz(page, QUESTIONS)
        assert not all(right)
        misses += right.count(False)
        missed |= missed_concepts(page)
        # The quiz's Anki deck: one note per question.
        link = page.locator('a[download="ml-tutor-quiz.apkg"]').last
        with page.expect_download() as download:
            link.click()
        deck = tmp_path / "quiz.apkg"
        download.value.save_as(deck)
        assert sorted(anki_stems(deck, tmp_path)) == sorted(stems)
    with new_chat(browser, server, "study-quiz-2") as page:
        send(page, "/quiz bias-variance trade-off")
        _, right = take_quiz(page, QUESTIONS)
        assert not all(right)
        misses += right.count(False)
        missed |= missed_concepts(page)
        assert page.get_by_text("Weakest concepts:", exact=False).count() == 1
        send(page, "/review")  # nothing is due yet
        page.get_by_text("Nothing is due for review now", exact=False).wait_for()

    server.kill(signal.SIGTERM)  # a day and a half later
    server.extra_env["TUTOR_CLOCK_OFFSET_DAYS"] = "1.5"
    server.start()
    with new_chat(browser, server, "study-review") as page:
        page.locator("#starters").get_by_text("Review due").click()
        started = page.get_by_text(f"Quiz: {REVIEW}", exact=False)
        started.wait_for(timeout=MODEL_WAIT_MS)
        # Only missed facts are due (a right first answer comes back after 2 days): every review
        # question is on a concept missed in the two quizzes, and there are no more than the misses.
        intro = started.locator("xpath=..").inner_text()
        total = int(re.search(r"(\d+) questions", intro).group(1))
        assert 1 <= total <= min(misses, QUESTIONS), (intro, misses)
        for number in range(1, total + 1):
            header = header_of(page, number, total)
            assert header.split(" · ")[1] == REVIEW and header.split(" · ")[2] in missed, (header, missed)
            click_answer(page, "A")
            page.get_by_text(re.compile(rf"Question {number} of {total} · score \d+/{number}")).last.wait_for()
        page.get_by_text(re.compile(rf"Quiz complete: \d+ / {total}")).wait_for()
        assert page.get_by_role("button", name="Review due facts").count() == 1

        send(page, "/progress")
        picture = page.locator('img[alt="progress.png"]').last
        picture.wait_for(timeout=MODEL_WAIT_MS)
        page.wait_for_function("(img) => img.complete && img.naturalWidth > 300", arg=picture.element_handle())
        assert page.get_by_text("Progress of", exact=False).count() >= 1
        picture.scroll_into_view_if_needed()
        page.screenshot(path=str(OUTPUT / "study-progress.png"), full_page=False)
        assert "Traceback" not in page.content()
