"""Running an ASGI app with uvicorn on an already-bound socket (port 0 gives a free port), as a task."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

from smartsofar.web.guard import ProxyTrust


@dataclass(slots=True)
class RunningHttpServer:
    """A uvicorn server running as a task on the current loop."""

    server: uvicorn.Server
    task: asyncio.Task[None]
    host: str
    port: int

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        """Ask uvicorn to exit and wait for it (hung requests are cut after 1 s)."""
        self.server.should_exit = True
        await self.task


def page_url(public_url: str | None, host: str, port: int) -> str:
    """The address people open the page at: ``public_url`` when set, else this machine's name (when the page
    listens on every address) or the address it listens on, and the port."""
    if public_url:
        return public_url
    if host in ("", "0.0.0.0", "::"):
        host = socket.gethostname()
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


MAX_CONNECTIONS = 256  # beyond this, uvicorn answers 503 at once, before the process runs out of descriptors


async def start_http(app: ASGIApp, host: str = "127.0.0.1", port: int = 0,
                     trusted_proxies: Sequence[str] = ()) -> RunningHttpServer:
    """Bind, start serving, and return once uvicorn is accepting connections. ``X-Forwarded-For`` is believed
    only from ``trusted_proxies`` (none by default: a client is the address it connects from)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(ProxyTrust(app, trusted_proxies), log_level="warning", lifespan="off",
                            timeout_graceful_shutdown=1, access_log=False, proxy_headers=False,
                            limit_concurrency=MAX_CONNECTIONS)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()  # re-raise why it could not start
        await asyncio.sleep(0.01)
    return RunningHttpServer(server, task, host, sock.getsockname()[1])
