"""A student in a headless chromium page (Playwright): the chat as a person uses it.

Sets "Questions per quiz" with the chat-settings slider, types a free-text request, and answers
every question with one click on the answer pad's button, then waits for the pad's visible
acknowledgment ("✓ Answer A received"). A click is never repeated: the pad either acknowledges it
or says it was not delivered, and the latter is an error of the session.
"""

from __future__ import annotations

import re
import time

from bench.load.records import Record


async def set_questions(page, count: int) -> None:
    """Chat settings -> "Questions per quiz" slider -> ``count`` -> Confirm."""
    await page.locator("#chat-settings-open-modal").click()
    slider = page.get_by_role("slider").first
    await slider.wait_for()
    await slider.focus()
    await slider.press("Home")
    for _ in range(count - 1):
        await slider.press("ArrowRight")
    await page.get_by_role("button", name="Confirm").click()
    await page.get_by_text(f"New quizzes will have {count} questions", exact=False).wait_for()


async def click_answer(page, letter: str, wait_ms: int) -> None:
    """One click on ``letter`` of the newest answer pad, then wait for the pad's acknowledgment."""
    from playwright.async_api import expect

    pad = page.locator("[data-answer-pad]:not([data-locked])").last  # the waiting question's
    await pad.get_by_role("button", name=letter, exact=True).wait_for(timeout=wait_ms)
    key = await pad.get_attribute("data-answer-pad")
    pad = page.locator(f'[data-answer-pad="{key}"]').last  # this question's pad, even once a newer one shows
    await pad.get_by_role("button", name=letter, exact=True).click()
    status = pad.get_by_role("status")
    await expect(status).to_have_text(re.compile(rf"Answer {letter} (received|was not delivered)"), timeout=wait_ms)
    text = await status.inner_text()
    if "not delivered" in text:
        raise AssertionError(f"the pad says: {text}")


async def student(browser, url: str, record: Record, questions: int, wait_ms: int) -> Record:
    """One student: settings, the typed request, answer every question with "A"; fills ``record``."""
    context = await browser.new_context(viewport={"width": 1100, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(wait_ms)
    seen: list[str] = []  # browser-side events, kept for the report only when the session fails
    page.on("console", lambda m: seen.append(f"console {m.type}: {m.text[:200]}") if m.type == "error" else None)
    page.on("response", lambda r: seen.append(f"HTTP {r.status}: {r.request.method} {r.url}")
            if r.status >= 400 else None)
    stage = "page load"
    try:
        await page.goto(url)
        await page.locator("#user-nav-button").wait_for()
        await page.locator("#chat-input").wait_for()
        stage = "quiz length setting"
        await set_questions(page, questions)
        stage = "quiz request"
        await page.locator("#chat-input").fill(record.request)
        sent = time.perf_counter()
        await page.locator("#chat-submit").click()
        await page.get_by_text(f"Question 1 of {questions}", exact=False).first.wait_for()
        record.quiz_to_first_question_s = time.perf_counter() - sent
        for number in range(1, questions + 1):
            stage = f"answer to question {number}"
            clicked = time.perf_counter()
            await click_answer(page, "A", wait_ms)
            if number < questions:
                await page.get_by_text(f"Question {number + 1} of {questions}", exact=False).first.wait_for()
                record.answer_to_next_s.append(time.perf_counter() - clicked)
            else:
                await page.get_by_text(re.compile(rf"Quiz complete: \d+ / {questions}")).wait_for()
                record.answer_to_summary_s = time.perf_counter() - clicked
        await page.wait_for_timeout(500)  # let any stray (cross-talk) message arrive before reading
        record.text = await page.locator("body").inner_text()
    except Exception as exc:  # noqa: BLE001 - reported per session, the run carries on
        record.errors.append(f"{type(exc).__name__} at {stage}: {str(exc).splitlines()[0][:200]}")
        record.diagnostics["browser_tail"] = seen[-12:]
        try:  # what the student saw when it went wrong: the end of the page
            record.diagnostics["page_tail"] = (await page.locator("body").inner_text(timeout=5000))[-800:]
        except Exception:  # noqa: BLE001 - diagnostics only
            pass
    finally:
        await context.close()
    return record
