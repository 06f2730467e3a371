"""Security of the served app in password mode: auth on the HTTP API, no script execution,
data only in the data dir, no secrets in the server's output.

One ``tutor chat`` server (embedded model) runs from the repository root as its working directory
(the worst case for stray files) with TUTOR_USERNAME/TUTOR_PASSWORD and a known
CHAINLIT_AUTH_SECRET; its data dir is a temporary folder. Reuses the server and browser helpers of
``test_chat_browser.py`` (which already covers the login form and an unknown-command echo).

    HF_HUB_OFFLINE=1 OMP_WAIT_POLICY=PASSIVE .venv/bin/python -m pytest tests/e2e/test_reliability_security.py -q
"""

from __future__ import annotations

import http.cookiejar
import json
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_chat_browser import (  # noqa: E402
    MODEL_WAIT_MS, ROOT, STEP_WAIT_MS, Server, _free_port, browser, evidence, open_page, send,  # noqa: F401
)

pytestmark = pytest.mark.e2e

USER, PASSWORD = "ada", "pw-Zq81-correct-horse-battery"
SECRET = "sec-" + "K7fQ2" * 10  # a recognisable CHAINLIT_AUTH_SECRET
XSS_USER = "<script>globalThis.__xss=1;alert('xss-user')</script>"
XSS_IMG = "<img src=x onerror=\"globalThis.__xss=2;alert('xss-img')\">"


STRAYS = (".files", ".chainlit", "chainlit.md", "graph.sqlite", "chat.sqlite", "auth_secret")


SERVER_OUTPUTS = ("sqlite", "chainlit", ".files/", "auth_secret", "translations/", "server.log", "web/")


def strays() -> dict[str, float | None]:
    """Chainlit's and the tutor's files in the repo root (git ignores some): name -> mtime or None."""
    return {name: (ROOT / name).stat().st_mtime if (ROOT / name).exists() else None for name in STRAYS}


def git_status() -> set[str]:
    out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return set(out.splitlines())


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    """(server, data_dir, git status before the server started)."""
    data_dir = tmp_path_factory.mktemp("tutor-secure-data")
    log = tmp_path_factory.mktemp("tutor-secure-log") / "server.log"
    before = (git_status(), strays())
    # cwd = the repo root (Server's first argument is its working directory); TUTOR_DATA_DIR overrides it.
    server = Server(ROOT, _free_port(), log, extra_env={
        "TUTOR_DATA_DIR": str(data_dir), "TUTOR_USERNAME": USER, "TUTOR_PASSWORD": PASSWORD,
        "CHAINLIT_AUTH_SECRET": SECRET, "OMP_WAIT_POLICY": "PASSIVE",
    })
    server.start()
    yield server, data_dir, before
    server.kill(signal.SIGTERM)


def request(url: str, method: str = "GET", body: dict | None = None, opener=None, form: dict | None = None,
            headers: dict | None = None) -> tuple[int, str]:
    data, all_headers = None, dict(headers or {})
    if body is not None:
        data, all_headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        all_headers["Content-Type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(url, data=data, method=method, headers=all_headers)
    try:
        with (opener or urllib.request.build_opener()).open(req, timeout=30) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace")


THREADS_QUERY = {"pagination": {"first": 20}, "filter": {}}


def test_protected_endpoints_reject_anonymous_and_accept_a_login(secured):
    server, _, _ = secured
    anonymous = [
        ("POST", "/project/threads", THREADS_QUERY, {}),
        ("GET", "/user", None, {}),
        ("GET", "/project/thread/some-thread-id", None, {}),
        ("DELETE", "/project/thread", {"threadId": "some-thread-id"}, {}),
        ("POST", "/project/threads", THREADS_QUERY, {"Authorization": "Bearer not-a-real-token"}),
        ("POST", "/project/threads", THREADS_QUERY, {"Cookie": "access_token=forged.jwt.value"}),
    ]
    for method, path, body, headers in anonymous:
        status, text = request(server.url + path, method, body, headers=headers)
        assert status in (401, 403), (method, path, status, text[:200])
        assert PASSWORD not in text and SECRET not in text

    status, _ = request(server.url + "/login", "POST", form={"username": USER, "password": "wrong-pw-Xy9"})
    assert status in (401, 403)
    status, _ = request(server.url + "/login", "POST", form={"username": "mallory", "password": PASSWORD})
    assert status in (401, 403)

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    status, text = request(server.url + "/login", "POST", form={"username": USER, "password": PASSWORD},
                           opener=opener)
    assert status == 200, text[:300]
    assert PASSWORD not in text
    status, text = request(server.url + "/user", opener=opener)
    assert status == 200 and json.loads(text)["identifier"] == USER
    status, text = request(server.url + "/project/threads", "POST", THREADS_QUERY, opener=opener)
    assert status == 200 and "data" in json.loads(text)


def test_scripts_from_the_student_never_run_and_show_as_text(secured, browser):
    server, _, _ = secured
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(STEP_WAIT_MS)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        with evidence(page, server, "security-xss"):
            page.goto(server.url)
            page.locator("#email").fill(USER)
            page.locator("#password").fill(PASSWORD)
            page.locator("button[type=submit]").click()
            # Let the login's own redirect finish first: a goto racing it can land back on /login.
            page.wait_for_url(lambda url: "/login" not in url)
            open_page(page, server.url)
            # Echoed by the explanation header (and the model sees it), and by the quiz planner's notice.
            send(page, f"/explain {XSS_USER} what is overfitting? {XSS_IMG}")
            page.get_by_text("Sources:", exact=False).last.wait_for(timeout=MODEL_WAIT_MS)
            send(page, f"/quiz {XSS_USER}")
            page.get_by_text("xss-user", exact=False).nth(2).wait_for(timeout=MODEL_WAIT_MS)
            page.wait_for_timeout(1000)
            assert dialogs == [] and page.evaluate("() => globalThis.__xss === undefined")
            injected = page.evaluate("""() => [...document.querySelectorAll('script, img')]
                .filter(e => (e.textContent + (e.getAttribute('onerror') || '')).includes('xss')).length""")
            assert injected == 0  # no element was created from the text
            assert page.get_by_text("<script>globalThis.__xss=1", exact=False).count() >= 2  # visible as text
            assert "Traceback" not in page.locator("body").inner_text()
    finally:
        context.close()


def test_data_lives_in_the_data_dir_and_no_secret_is_logged(secured):
    server, data_dir, before = secured
    assert (data_dir / "chat.sqlite").is_file() and (data_dir / "graph.sqlite").is_file()
    assert (data_dir / "web" / ".chainlit" / "config.toml").is_file()
    status_before, strays_before = before
    new = {line[3:] for line in git_status() - status_before if not line[3:].startswith("test-output/")}
    # Other people edit the repo while this runs, so only what the server could have written counts.
    written = {path for path in new if any(mark in path for mark in SERVER_OUTPUTS)}
    assert written == set(), f"files written into the repository: {sorted(written)}"
    assert strays() == strays_before  # nothing created or touched in the repo root (ignored files too)
    log = server.log.read_text(errors="replace")
    assert "Uvicorn running" in log or "ML Tutor on" in log  # the log was captured at all
    for secret in (PASSWORD, SECRET, "wrong-pw-Xy9"):
        assert secret not in log, "a secret appears in the server's stdout/stderr"

