"""Telling systemd how the service is: ``READY=1``, the watchdog's ``WATCHDOG=1``, ``STATUS=`` and ``STOPPING=1``.

The sd_notify protocol: ``$NOTIFY_SOCKET`` names a Unix datagram socket (a path, or an abstract one when it
starts with ``@``), and each message is one datagram of ``KEY=value`` lines. ``$WATCHDOG_USEC`` asks for a
``WATCHDOG=1`` at least that often (sent every half of it), and only when ``$WATCHDOG_PID`` is unset or
this process. Without ``$NOTIFY_SOCKET`` (not run by systemd with ``Type=notify``) nothing is sent.

``WATCHDOG=1`` goes out only while the control loop is healthy (``EngineApi.cycling``: cycles running and
recent). A hung controller stops the pings; systemd then kills and restarts it, while the units, no longer
getting heartbeats, lapse to standby by themselves.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)


class SystemdNotifier:
    """One process's messages to systemd."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        self.address: str | None = None
        if address.startswith("@"):
            self.address = "\0" + address[1:]  # the abstract namespace
        elif address.startswith("/"):
            self.address = address
        elif address:
            log.warning("NOTIFY_SOCKET=%r is not a Unix socket path: systemd is not told how the service is",
                        address[:80])
        self.watchdog_s = _watchdog_s(env)
        self._failed = False
        self._status: str | None = None

    @property
    def enabled(self) -> bool:
        """True when systemd listens."""
        return self.address is not None

    def send(self, *lines: str) -> bool:
        """One datagram, never waiting (a busy systemd must not stall the event loop); False (said once in the
        log) when it could not be sent."""
        if self.address is None:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK) as sock:
                sock.sendto("\n".join(lines).encode(), self.address)
        except OSError as exc:
            if not self._failed:
                log.warning("could not notify systemd at %s: %s", self.address.replace("\0", "@"), exc)
            self._failed = True
            return False
        self._failed = False
        return True

    def ready(self, status: str) -> None:
        """The service is up: its first control decision is made and the page is served."""
        self._status = status
        self.send("READY=1", f"STATUS={status}")

    def stopping(self) -> None:
        """The service is stopping (the units are put in standby)."""
        self.send("STOPPING=1", "STATUS=stopping: putting the units in standby")

    def status(self, status: str) -> None:
        """A new one-line status for ``systemctl status``; sent only when it changed."""
        if status != self._status:
            self._status = status
            self.send(f"STATUS={status}")

    async def watch(self, healthy: Callable[[], bool], status: Callable[[], str]) -> None:
        """Ping the watchdog every half period while ``healthy()``; keep STATUS current. Until cancelled."""
        if self.address is None:
            return
        period = self.watchdog_s / 2 if self.watchdog_s else 5.0
        unhealthy = False
        while True:
            await asyncio.sleep(period)
            if healthy():
                if unhealthy:
                    log.info("control loop healthy again: the systemd watchdog is fed again")
                    unhealthy = False
                if self.watchdog_s:
                    self.send("WATCHDOG=1")
            elif not unhealthy:
                unhealthy = True
                log.error("control loop stalled: the systemd watchdog is no longer fed, so systemd restarts the "
                          "service if it does not recover")
            self.status(status())


def _watchdog_s(env: Mapping[str, str]) -> float | None:
    """The watchdog period systemd asks for, if it asks this process."""
    usec, pid = env.get("WATCHDOG_USEC", ""), env.get("WATCHDOG_PID", "")
    if pid and pid != str(os.getpid()):
        return None
    try:
        value = int(usec)
    except ValueError:
        return None
    return value / 1e6 if value > 0 else None
