"""Load: N simultaneous browser sessions, each taking its own short quiz on one `tutor chat` server.

    HF_HUB_OFFLINE=1 OMP_WAIT_POLICY=PASSIVE .venv/bin/python bench/load_sessions.py              # 20 x 3
    HF_HUB_OFFLINE=1 .venv/bin/python bench/load_sessions.py --sessions 4 --out /tmp/load.json

Starts ``python -m tutor chat`` (embedded model) on a free port on 127.0.0.1 with a temporary
TUTOR_DATA_DIR, opens N Playwright browser contexts in one headless chromium (/usr/bin/chromium),
and in every session at once: sets "Questions per quiz" to ``--questions`` in the chat settings
(the slider, as a student would), types ``/quiz TOPIC`` with a topic of its own, and answers every
question. Checks: every question line of a session names its own topic (no cross-talk), each
session sees exactly one quiz start, one feedback per click and one summary, no page shows an error
and the server log holds none of the app's turn failures (other tracebacks there are reported with
their text in ``other_tracebacks``). Answer clicks the browser lost (no action call sent) are retried
on the same button and counted in ``answer_clicks_retried``. Prints and writes (write-then-rename) p50/p95 of the time from
an answer click to the next question being visible, and of /quiz -> first question. Everything is
bounded: a deadline for the whole run (``--deadline-s``) and the server is always stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common.files import write_json  # noqa: E402 (after the path insert: runs as a script)

RESULTS = ROOT / "bench" / "results" / "load_sessions.json"
TOPICS = [
    "overfitting", "precision and recall", "bias-variance trade-off", "dropout", "regularisation",
    "gradient descent", "learning rate", "cross-validation", "decision trees", "random forests",
    "k-means clustering", "logistic regression", "linear regression", "batch normalization",
    "activation functions", "backpropagation", "support vector machines", "principal component analysis",
    "word embeddings", "naive bayes",
]
# What the app logs when a student's turn fails (agent/app/main.py, agent/graph/nodes.py): always a problem.
APP_FAILURES = ("handler failed", "explanation failed", "planning failed", "writing question")
ERROR_PHRASES = ("Traceback", "something went wrong", "could not be loaded", "not valid any more")
# "**Question 2 of 3** · topic" heads a question; "Question 2 of 3 · score 1/2 · source: ..." is feedback.
QUESTION_LINE = re.compile(r"^(?:Retry )?Question (\d+) of (\d+) · (?!score \d)(.+)$")


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def _is_action_call(request) -> bool:
    return request.method == "POST" and request.url.split("?")[0].endswith("/project/action")


async def click_answer(page, letter: str, wait_ms: int, record: dict) -> None:
    """Click answer ``letter`` of the newest question until the browser sends the action call.

    Under load a click can land while Chainlit re-renders the message list and never reach the
    button's handler (seen here: the page then shows the question with its buttons enabled, and no
    ``POST /project/action`` was sent). The retry clicks the same button (found by its action id),
    never a later question's, and stops as soon as the call went out or the button is gone; every
    retry is counted in ``record["click_retries"]`` so the results show how often it happened.
    """
    from playwright.async_api import TimeoutError as PlaywrightTimeout
    from playwright.async_api import expect

    newest = page.get_by_role("button", name=letter, exact=True).last
    await newest.wait_for(timeout=wait_ms)
    action_id = await newest.get_attribute("id")
    target = page.locator(f'[id="{action_id}"]') if action_id else newest
    for _ in range(3):
        if await target.count() == 0:  # answered (its buttons were taken off)
            return
        await expect(target).to_be_enabled(timeout=wait_ms)
        try:
            async with page.expect_request(_is_action_call, timeout=5_000):
                await target.click(timeout=5_000)
            return
        except PlaywrightTimeout:
            record["click_retries"] = record.get("click_retries", 0) + 1
    raise AssertionError(f"three clicks on answer {letter} sent no action call")


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


async def session(browser, url: str, topic: str, questions: int, model_wait_ms: int) -> dict:
    """One student: settings, /quiz TOPIC, answer every question; returns timings and what was seen."""
    context = await browser.new_context(viewport={"width": 1100, "height": 900})
    page = await context.new_page()
    page.set_default_timeout(model_wait_ms)
    record: dict = {"topic": topic, "answer_to_next_s": [], "errors": []}
    seen: list[str] = []  # browser-side events, kept for the report only when the session fails
    page.on("console", lambda m: seen.append(f"console {m.type}: {m.text[:200]}") if m.type == "error" else None)
    page.on("response", lambda r: seen.append(f"HTTP {r.status}: {r.request.method} {r.url}")
            if r.status >= 400 else None)
    page.on("request", lambda r: seen.append(f"{time.perf_counter():.2f} POST {r.url}") if r.method == "POST" else None)
    stage = "page load"
    try:
        await page.goto(url)
        await page.locator("#user-nav-button").wait_for()
        await page.locator("#chat-input").wait_for()
        stage = "quiz length setting"
        await set_questions(page, questions)
        stage = "quiz request"
        await page.locator("#chat-input").fill(f"/quiz {topic}")
        sent = time.perf_counter()
        await page.locator("#chat-submit").click()
        await page.get_by_text(f"Question 1 of {questions}", exact=False).first.wait_for()
        record["quiz_to_first_question_s"] = time.perf_counter() - sent
        for number in range(1, questions + 1):
            stage = f"answer to question {number}"
            await click_answer(page, "A", model_wait_ms, record)
            clicked = time.perf_counter()
            if number < questions:
                await page.get_by_text(f"Question {number + 1} of {questions}", exact=False).first.wait_for()
                record["answer_to_next_s"].append(time.perf_counter() - clicked)
            else:
                await page.get_by_text(re.compile(rf"Quiz complete: \d+ / {questions}")).wait_for()
                record["answer_to_summary_s"] = time.perf_counter() - clicked
        await page.wait_for_timeout(500)  # let any stray (cross-talk) message arrive before reading
        body = await page.locator("body").inner_text()
        record["question_lines"] = [m.group(0) for line in body.splitlines()
                                    if (m := QUESTION_LINE.match(line.strip()))]
        record["feedback_lines"] = len(re.findall(rf"Question \d+ of {questions} · score \d+/\d+", body))
        record["summaries"] = len(re.findall(r"Quiz complete: \d+ / \d+", body))
        record["starts"] = sum(1 for line in record["question_lines"] if line.startswith("Question 1 of"))
        record["errors"] += [p for p in ERROR_PHRASES if p in body]
    except Exception as exc:  # noqa: BLE001 - reported per session, the run carries on
        record["errors"].append(f"{type(exc).__name__} at {stage}: {str(exc).splitlines()[0][:200]}")
        record["browser_tail"] = seen[-12:]
        try:  # what the student saw when it went wrong: the end of the page
            record["page_tail"] = (await page.locator("body").inner_text(timeout=5000))[-800:]
            record["buttons"] = await page.get_by_role("button").evaluate_all(
                "els => els.map(e => (e.innerText || e.getAttribute('aria-label') || '').trim() + (e.disabled ? ' (disabled)' : ''))")
        except Exception:  # noqa: BLE001 - diagnostics only
            pass
    finally:
        await context.close()
    return record


def check(record: dict, questions: int) -> list[str]:
    """What is wrong with one session's view (empty when nothing is)."""
    problems = list(record["errors"])
    for line in record.get("question_lines", []):
        number, total, topic = QUESTION_LINE.match(line).groups()
        if int(total) != questions or topic.casefold() != record["topic"].casefold():
            problems.append(f"foreign question line: {line!r}")
    if not record["errors"]:
        if record["starts"] != 1 or record["summaries"] != 1:
            problems.append(f"starts={record['starts']} summaries={record['summaries']}")
        if len(record["question_lines"]) != questions:
            problems.append(f"{len(record['question_lines'])} questions shown for a {questions}-question quiz")
        if record["feedback_lines"] != questions:
            problems.append(f"{record['feedback_lines']} feedback lines for {questions} answers")
    return problems


def e2e_helpers():
    """The browser e2e test module (server start on a free port, chromium flags), loaded by path
    (``tests`` is not a package, and another ``tests`` may be importable)."""
    import importlib.util

    name = "tutor_e2e_chat_browser"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "e2e" / "test_chat_browser.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


async def run_load(sessions: int, questions: int, deadline_s: float, model_wait_ms: int = 600_000) -> dict:
    """Start the server, run the sessions at once, stop the server; returns the result dict."""
    from playwright.async_api import async_playwright

    e2e = e2e_helpers()
    BROWSER_ARGS, CHROMIUM, Server, _free_port = e2e.BROWSER_ARGS, e2e.CHROMIUM, e2e.Server, e2e._free_port

    with tempfile.TemporaryDirectory(prefix="tutor-load-") as tmp:
        data_dir = Path(tmp)
        server = Server(data_dir, _free_port(), data_dir / "server.log",
                        extra_env={"OMP_WAIT_POLICY": "PASSIVE"})
        started = time.perf_counter()
        server.start()
        try:
            async with async_playwright() as p:
                browser = await p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
                try:
                    topics = [TOPICS[i % len(TOPICS)] for i in range(sessions)]
                    jobs = [session(browser, server.url, t, questions, model_wait_ms) for t in topics]
                    t0 = time.perf_counter()
                    records = await asyncio.wait_for(asyncio.gather(*jobs), timeout=deadline_s)
                    wall = time.perf_counter() - t0
                finally:
                    await browser.close()
            log = server.log.read_text(errors="replace")
        finally:
            server.kill(signal.SIGTERM)
    problems = {r["topic"]: check(r, questions) for r in records}
    for marker in APP_FAILURES:
        if marker in log:
            problems.setdefault("server log", []).append(log_excerpt(log, marker))
    # Any other traceback (a library's, a background warm-up's) is reported with its text, not counted as
    # a failed session: the sessions' own checks above already say whether a student saw anything wrong.
    other = log_excerpt(log, "Traceback") if "Traceback" in log and "server log" not in problems else None
    nexts = [s for r in records for s in r["answer_to_next_s"]]
    firsts = [r["quiz_to_first_question_s"] for r in records if "quiz_to_first_question_s" in r]
    summaries = [r["answer_to_summary_s"] for r in records if "answer_to_summary_s" in r]
    return {
        "sessions": sessions,
        "questions_per_quiz": questions,
        "quiz_length_set_via": "chat settings slider (Questions per quiz)",
        "model": "embedded SmolLM2-135M-Instruct",
        "machine": f"{os.cpu_count()} CPU cores",
        "wall_s": round(wall, 2),
        "server_start_s": round(t0 - started, 2),
        "answer_to_next_question_s": {"n": len(nexts), "p50": percentile(nexts, 50), "p95": percentile(nexts, 95),
                                      "max": max(nexts, default=None)},
        "quiz_to_first_question_s": {"n": len(firsts), "p50": percentile(firsts, 50),
                                     "p95": percentile(firsts, 95), "max": max(firsts, default=None)},
        "answer_to_summary_s": {"n": len(summaries), "p50": percentile(summaries, 50),
                                "p95": percentile(summaries, 95)},
        "completed_sessions": sum(1 for r in records if not r["errors"]),
        "answer_clicks_retried": sum(r.get("click_retries", 0) for r in records),
        "problems": {k: v for k, v in problems.items() if v},
        "server_log_tail": "\n".join(log.splitlines()[-40:]),
        "other_tracebacks": other,
        "records": records,
    }


def log_excerpt(log: str, marker: str, lines: int = 25) -> str:
    """The server-log lines from the first ``marker`` on, so a failing run says what went wrong."""
    tail = log[log.index(marker):].splitlines()
    return "\n".join(tail[:lines])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--questions", type=int, default=3, help="questions per quiz (set via chat settings)")
    parser.add_argument("--deadline-s", type=float, default=900, help="give up on the sessions after this")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    result = asyncio.run(run_load(args.sessions, args.questions, args.deadline_s))
    write_json(args.out, result, indent=2)
    fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    nxt, first = result["answer_to_next_question_s"], result["quiz_to_first_question_s"]
    print(f"{result['sessions']} sessions x {result['questions_per_quiz']} questions, wall {result['wall_s']} s, "
          f"{result['completed_sessions']} completed")
    print(f"answer click -> next question: p50 {fmt(nxt['p50'])} s  p95 {fmt(nxt['p95'])} s  (n={nxt['n']})")
    print(f"/quiz -> first question:       p50 {fmt(first['p50'])} s  p95 {fmt(first['p95'])} s")
    print("problems:", json.dumps(result["problems"]) if result["problems"] else "none")
    print(f"wrote {args.out}")
    return 1 if result["problems"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
