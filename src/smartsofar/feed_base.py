"""A feed: data fetched from a web service again and again (prices, a PV forecast), where a failure keeps the
last data and is said once per failure streak (and once more when the service answers again).

A subclass names what it fetches (``what``, for the log), fetches and applies it in ``_fetch`` (True when the
data changed), and says what to keep across a restart (``_snapshot``) and how to take it back (``_restore``):
the base writes it to the data directory atomically whenever it changed, and reads it back at start.
``changed`` is set whenever new data arrived, which is when the planner plans again; ``status`` is what the
page shows.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from smartsofar.errors import DeviceError, InvalidInputError
from smartsofar.storage.atomic import atomic_write, remove_orphans

log = logging.getLogger(__name__)


class Feed:
    """A fetching task and what it last managed."""

    what = "data"

    def __init__(self, cache: Path | None, *, clock: Callable[[], float] = time.time,
                 client: httpx.AsyncClient | None = None) -> None:
        self.cache = cache
        self.clock = clock
        self._client = client
        self.changed = asyncio.Event()
        self.last_ok: float | None = None
        self.last_error: str | None = None
        self._failing = False

    async def _fetch(self, client: httpx.AsyncClient, now: float) -> bool:
        """Fetch and apply; True when the data changed. DeviceError / InvalidInputError when it cannot."""
        raise NotImplementedError

    def _snapshot(self) -> object:
        """What to keep across a restart (JSON-ready)."""
        raise NotImplementedError

    def _restore(self, data: Any) -> None:
        """Take back what ``_snapshot`` kept (InvalidInputError, ValueError, TypeError... when it cannot)."""
        raise NotImplementedError

    def _save(self) -> None:
        if self.cache is None:
            return
        try:
            atomic_write(self.cache, json.dumps(self._snapshot()))
        except OSError as exc:
            log.warning("%s: cannot save %s: %s", self.what, self.cache, exc)

    def _load(self) -> None:
        """At start: what was saved, if anything (a file that cannot be read is said and left)."""
        if self.cache is None:
            return
        remove_orphans(self.cache)
        try:
            self._restore(json.loads(self.cache.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return
        except (OSError, ValueError, TypeError, AttributeError, InvalidInputError) as exc:
            log.warning("%s: %s cannot be read (%s); starting without it", self.what, self.cache, exc)

    @property
    def period_s(self) -> float:
        """How often to fetch while the service answers."""
        raise NotImplementedError

    retry_s = 300.0  # after a failure, try again this soon

    async def refresh(self) -> bool:
        """Fetch once; True when the data changed. A failure keeps the last data and is reported."""
        now = self.clock()
        own = self._client is None
        client = self._client or httpx.AsyncClient(follow_redirects=True)
        try:
            changed = await self._fetch(client, now)
        except (DeviceError, InvalidInputError, OSError) as exc:
            self.last_error = str(exc)
            if not self._failing:
                log.warning("%s: %s; planning goes on with the last known %s", self.what, exc, self.what)
            self._failing = True
            return False
        finally:
            if own:
                await client.aclose()
        if self._failing:
            log.info("%s: the source answers again", self.what)
        self._failing, self.last_error, self.last_ok = False, None, now
        if changed:
            self._save()
            self.changed.set()
        return changed

    async def run(self) -> None:
        """Fetch every ``period_s`` (sooner after a failure) until cancelled."""
        while True:
            await self.refresh()
            await asyncio.sleep(self.retry_s if self._failing else self.period_s)

    def status(self) -> dict[str, Any]:
        """For the page and the diagnostics: the last success and the error, if any."""
        return {"last_ok": self.last_ok, "error": self.last_error}
