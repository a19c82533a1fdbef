"""What every HTTP request passes before any route sees it: a host this service answers to, a small body.

- **Proxies** (``[web] trusted_proxies``). A request that comes from a trusted reverse proxy (Home
  Assistant's ingress, nginx) is marked as such before ``X-Forwarded-For`` replaces its client address, by
  uvicorn's own middleware. The proxy decides which host names it serves, so the host-name check below is
  its job then, and the cross-site check compares ``Origin`` with the ``X-Forwarded-Host`` it names.
- **Host names** (DNS rebinding). A page on another site can point its own name at 127.0.0.1 and talk to
  SmartSofar through the visitor's browser, with a ``Host`` header it chooses. So a request is served only
  when its ``Host`` is an address (IPv4 or IPv6 literal: no name to rebind), ``localhost``, one of this
  machine's names, or one the user configures (``[web] allowed_hosts``, ``*.example.org`` for a domain).
  Anything else is a 400 that says how to allow it. The cross-site check then compares ``Origin`` with a
  ``Host`` that can be trusted.
- **Bodies.** A body larger than ``MAX_BODY_BYTES`` is refused with 413 before it is parsed (one sent in
  chunks as soon as it passes the limit), and never kept: no request can fill the memory or hold the event
  loop (and the control loop with it) parsing a large document. Up to ``DRAIN_BYTES`` of a refused body are
  read and dropped so the sender can read the answer; past that the connection is closed.
- **Answers** carry a content security policy (only this service's own scripts, styles and connections;
  no framing: ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``, against click-jacking, except by its
  own origin below Home Assistant's ingress, whose page frames it: ``web.ingress``), and
  ``nosniff`` and a same-origin referrer. The API's documentation page, whose Swagger UI starts from an
  inline script, may run that one.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Mapping, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from smartsofar.web.ingress import raw_ingress_prefix

VIA_PROXY = "smartsofar.via_proxy"  # scope key: the request came from a trusted proxy
MAX_BODY_BYTES = 64 * 1024
DRAIN_BYTES = 1024 * 1024  # a refused body up to this size is read (and dropped) so its sender sees the 413
LOOPBACK_NAMES = ("localhost", "localhost.localdomain")


def machine_names() -> set[str]:
    """This machine's own names: its host name, with ``.local`` (mDNS) and its fully qualified name."""
    names = set(LOOPBACK_NAMES)
    host = socket.gethostname().lower()
    if host:
        names |= {host, f"{host}.local", socket.getfqdn().lower()}
    return names


def _host_of(header: str) -> str:
    """The name or address in a ``Host`` value (port and IPv6 brackets removed, lower case, no final dot)."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    if value.count(":") == 1:
        value = value.split(":")[0]
    return value.rstrip(".")


class ProxyTrust:
    """Marks requests whose peer is a trusted proxy, then lets uvicorn's ``ProxyHeadersMiddleware`` put the
    forwarded client in their place."""

    def __init__(self, app: ASGIApp, trusted: Sequence[str]) -> None:
        self.networks = [ipaddress.ip_network(t, strict=False) for t in trusted]
        self.app: ASGIApp = ProxyHeadersMiddleware(app, trusted_hosts=list(trusted))  # type: ignore[arg-type,assignment]

    def trusts(self, peer: str | None) -> bool:
        """True if ``peer`` is one of the trusted proxies."""
        try:
            address = ipaddress.ip_address(peer or "")
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            client = scope.get("client")
            scope[VIA_PROXY] = self.trusts(client[0] if client else None)
        await self.app(scope, receive, send)


def forwarded_host(headers: Mapping[str, str], via_proxy: bool) -> str:
    """The host the browser asked for: ``X-Forwarded-Host`` from a trusted proxy, else ``Host`` (lower case)."""
    forwarded = headers.get("x-forwarded-host", "").split(",")[0].strip() if via_proxy else ""
    return (forwarded or headers.get("host", "")).lower()


class HostGuard:
    """Serves only requests whose ``Host`` names this service (see the module docstring)."""

    def __init__(self, app: ASGIApp, allowed: Iterable[str]) -> None:
        self.app = app
        names = {name.lower().rstrip(".") for name in allowed if name}
        self.exact = {n for n in names if not n.startswith("*.")}
        self.domains = tuple(n[1:] for n in names if n.startswith("*."))  # ".example.org"

    def allows(self, header: str) -> bool:
        """True if a ``Host`` header names this service."""
        host = _host_of(header)
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return host in self.exact or host.endswith(self.domains) if self.domains else host in self.exact
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if scope.get(VIA_PROXY):  # the proxy chose to serve this name
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        host = headers.get(b"host", b"").decode("latin-1")
        if not host or not self.allows(host):
            name = _host_of(host) or "(none)"
            await _refuse(send, 400, f"this SmartSofar does not answer to the host name {name!r}; if that is how "
                          "you reach it, add it to [web] allowed_hosts")
            return
        await self.app(scope, receive, send)


class BodyLimit:
    """Refuses request bodies over ``max_bytes`` with 413, before a route reads them."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None:
            try:
                too_large = int(length) > self.max_bytes
            except ValueError:
                await _refuse(send, 400, "Content-Length is not a number")
                return
            if too_large:
                if int(length) <= DRAIN_BYTES:
                    await _drain(receive)
                await _refuse(send, 413, f"the request body is larger than {self.max_bytes} bytes")
                return
        if b"chunked" not in headers.get(b"transfer-encoding", b"").lower():
            await self.app(scope, receive, send)  # no body, or one whose length was checked
            return
        # Sent in chunks: read it here, up to the limit, then hand it on.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                if message.get("more_body", False):
                    await _drain(receive, DRAIN_BYTES - size)
                await _refuse(send, 413, f"the request body is larger than {self.max_bytes} bytes")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the body already read, then whatever the client sends next."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _drain(receive: Receive, budget: int = DRAIN_BYTES) -> None:
    """Read and drop the rest of a refused body, up to ``budget`` bytes, so the client can read the answer
    (a larger one is cut off: the connection closes)."""
    while budget > 0:
        message = await receive()
        if message["type"] != "http.request":
            return
        budget -= len(message.get("body", b""))
        if not message.get("more_body", False):
            return


async def _refuse(send: Send, status: int, message: str) -> None:
    body = message.encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
               "frame-ancestors 'none'")
DOCS_POLICY = PAGE_POLICY.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'")
DOCS_PATH = "/api/docs"


class SecurityHeaders:
    """Adds the content security policy and the other defence-in-depth headers to every HTTP answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = DOCS_POLICY if scope.get("path") == DOCS_PATH else PAGE_POLICY
        framing = b"DENY"
        if raw_ingress_prefix(scope.get("headers", [])):  # shown in a frame of Home Assistant's page
            policy, framing = policy.replace("frame-ancestors 'none'", "frame-ancestors 'self'"), b"SAMEORIGIN"
        extra = [(b"content-security-policy", policy.encode()), (b"x-frame-options", framing),
                 (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
