"""Open mode's Host and same-origin guard on a tiny in-process Starlette app (pure ASGI, milliseconds).

The same guard in front of the real Chainlit server: tests/integration/test_app_guard_server.py.

    .venv/bin/python -m pytest tests/unit/test_app_guard.py -q
"""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket, WebSocketDisconnect

from agent.app.guard import SameOriginGuard, allowed_hosts, allowed_origins, is_loopback


async def _hello(request):
    return PlainTextResponse("hello")


async def _echo(websocket: WebSocket):
    await websocket.accept()
    await websocket.send_text("open")
    await websocket.close()


@pytest.fixture
def client() -> TestClient:
    app = Starlette(routes=[Route("/", _hello, methods=["GET", "POST"]), WebSocketRoute("/ws", _echo)])
    app.add_middleware(SameOriginGuard, hosts=allowed_hosts("127.0.0.1", 8000))
    return TestClient(app, base_url="http://127.0.0.1:8000")


def test_hosts_and_origins_of_a_loopback_server():
    assert allowed_hosts("127.0.0.1", 8000) == {"127.0.0.1:8000", "localhost:8000", "[::1]:8000"}
    assert allowed_hosts("::1", 80) == {"[::1]:80", "127.0.0.1:80", "localhost:80", "[::1]", "127.0.0.1", "localhost"}
    assert allowed_hosts("tutor.lan", 8000) == {"tutor.lan:8000"}
    assert allowed_origins({"localhost:8000"}) == ["http://localhost:8000"]
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.org")


def test_same_origin_and_originless_requests_pass(client):
    assert client.get("/").text == "hello"  # curl, scripts: no Origin header
    assert client.post("/", headers={"Origin": "http://127.0.0.1:8000"}).status_code == 200
    assert client.get("/", headers={"Host": "localhost:8000", "Origin": "http://localhost:8000"}).status_code == 200


@pytest.mark.parametrize("origin", ["http://evil.example", "http://127.0.0.1:9999", "https://127.0.0.1:8000", "null"])
def test_other_origins_are_refused(client, origin):
    response = client.post("/", headers={"Origin": origin})
    assert response.status_code == 403 and "hello" not in response.text


@pytest.mark.parametrize("host", ["evil.example:8000", "127.0.0.1:9999", "127.0.0.1", ""])
def test_other_host_names_are_refused(client, host):
    response = client.get("/", headers={"Host": host})
    assert response.status_code == 400 and "hello" not in response.text


def test_websockets_follow_the_same_rules(client):
    with client.websocket_connect("ws://127.0.0.1:8000/ws", headers={"Origin": "http://127.0.0.1:8000"}) as ws:
        assert ws.receive_text() == "open"
    for headers in ({"Origin": "http://evil.example"}, {"Host": "evil.example:8000"}):
        with pytest.raises(WebSocketDisconnect) as refused:
            with client.websocket_connect("ws://127.0.0.1:8000/ws", headers=headers):
                pass
        assert refused.value.code == 1008
