"""Open mode answers only its own origin: a Host check and a same-origin check on every request (pure ASGI).

In open mode (no password) every visitor is the local user, so two browser attacks matter:

* another site's page sending requests to ``http://127.0.0.1:PORT`` (cross-site request forgery, or
  opening the socket.io channel): such requests carry that site's ``Origin`` and are refused (403).
  Chainlit's ``allow_origins`` only decides which origins may *read* responses (CORS); a simple
  cross-site POST would still run, and its socket.io server disables origin checks
  (``cors_allowed_origins=[]``), hence this check on the request itself;
* DNS rebinding (a hostile name that resolves to 127.0.0.1): such requests carry that name in
  ``Host`` and are refused (400).

    hosts = allowed_hosts("127.0.0.1", 8000)      # {"127.0.0.1:8000", "localhost:8000", "[::1]:8000"}
    app.add_middleware(SameOriginGuard, hosts=hosts)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(host: str, port: int) -> frozenset[str]:
    """``Host`` header values that address this server: the bound name, and every loopback name when it
    is bound to loopback (or to all interfaces); without the port too when it is the HTTP default."""
    names = {f"[{host}]" if ":" in host else host}
    if is_loopback(host) or host in ("0.0.0.0", "::", ""):
        names |= set(LOOPBACK_NAMES)
    hosts = {f"{name}:{port}" for name in names}
    if port == 80:
        hosts |= names
    return frozenset(h.lower() for h in hosts)


def allowed_origins(hosts: Iterable[str]) -> list[str]:
    """The page origins of this server (``http://`` + each allowed Host), sorted."""
    return sorted(f"http://{host}" for host in hosts)


class SameOriginGuard:
    """Refuse HTTP and websocket requests whose ``Host`` is not this server (400) or whose ``Origin``,
    when present, is not this server's (403). Same-origin pages and non-browser clients pass."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str]):
        self.app = app
        self.hosts = frozenset(h.lower() for h in hosts)
        self.origins = frozenset(allowed_origins(self.hosts))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if headers.get("host", "").lower() not in self.hosts:
            await _refuse(scope, receive, send, 400, "unknown Host: this server answers only its own address")
        elif origin is not None and origin.lower() not in self.origins:
            await _refuse(scope, receive, send, 403, "cross-origin request refused")
        else:
            await self.app(scope, receive, send)


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, reason: str) -> None:
    if scope["type"] == "websocket":  # closing before accepting makes the server answer the handshake with 403
        await send({"type": "websocket.close", "code": 1008, "reason": reason})
        return
    await PlainTextResponse(reason, status_code=status)(scope, receive, send)
