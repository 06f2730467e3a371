"""Open mode of the real server (``tutor chat``, Chainlit + uvicorn) refuses other origins and Host names.

One server in open mode (no password) on a free loopback port, its data in a temporary folder; requests
with httpx. The server starts loading the embedded model in the background, hence the ``model`` mark.

    HF_HUB_OFFLINE=1 OMP_WAIT_POLICY=PASSIVE .venv/bin/python -m pytest tests/integration/test_app_guard_server.py -q
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.model
ROOT = Path(__file__).resolve().parents[2]
EVIL = "http://evil.example"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``(base url, port, data dir)`` of a ``tutor chat`` in open mode, killed (by its group id) afterwards."""
    data_dir, port = tmp_path_factory.mktemp("guard-data"), _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TUTOR_DATA_DIR": str(data_dir), "OMP_WAIT_POLICY": "PASSIVE",
           "PYTHONPATH": str(ROOT), "TOKENIZERS_PARALLELISM": "false"}
    for name in ("TUTOR_PASSWORD", "TUTOR_USERNAME", "CHAINLIT_AUTH_SECRET", "CHAINLIT_APP_ROOT", "TUTOR_HOST",
                 "TUTOR_PORT"):
        env.pop(name, None)
    log = (data_dir / "server.log").open("ab")
    proc = subprocess.Popen([sys.executable, "-m", "tutor", "chat", "--port", str(port)], cwd=data_dir, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, (data_dir / "server.log").read_text(errors="replace")[-3000:]
            try:
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.3)
        else:
            pytest.fail("tutor chat did not come up in 120 s")
        yield url, port, data_dir
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)


def test_the_config_written_allows_only_this_servers_origins(server):
    _, port, data_dir = server
    config = tomllib.loads((data_dir / "web" / ".chainlit" / "config.toml").read_text())
    assert sorted(config["project"]["allow_origins"]) == sorted(
        f"http://{name}:{port}" for name in ("127.0.0.1", "localhost", "[::1]"))


def test_right_host_and_origin_are_served(server):
    url, port, _ = server
    assert httpx.get(url + "/health").status_code == 200
    assert httpx.get(url + "/health", headers={"Host": f"localhost:{port}"}).status_code == 200
    login = httpx.post(url + "/auth/header", headers={"Origin": url})
    assert login.status_code == 200 and "access_token" in login.cookies  # open mode logs the page in


@pytest.mark.parametrize("host", ["evil.example:{port}", "127.0.0.1:1", "localhost"])
def test_a_foreign_host_name_is_refused(server, host):
    url, port, _ = server
    response = httpx.get(url + "/", headers={"Host": host.format(port=port)})
    assert response.status_code == 400 and "<html" not in response.text.lower()


def test_a_cross_origin_login_is_refused(server):
    url, _, _ = server
    response = httpx.post(url + "/auth/header", headers={"Origin": EVIL})
    assert response.status_code == 403 and "access_token" not in response.cookies
    assert "access-control-allow-origin" not in response.headers


def test_cross_origin_preflight_and_socket_handshake_are_refused(server):
    url, _, _ = server
    preflight = httpx.options(url + "/project/settings", headers={
        "Origin": EVIL, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 403 and "access-control-allow-origin" not in preflight.headers
    handshake = httpx.get(url + "/ws/socket.io/?EIO=4&transport=polling", headers={"Origin": EVIL})
    assert handshake.status_code == 403
    assert httpx.get(url + "/ws/socket.io/?EIO=4&transport=polling", headers={"Origin": url}).status_code == 200
