"""Keeping the PV forecast fresh: fetch it every ``refresh_min`` from the configured source, keep the last one
when a fetch fails (saying so once per failure streak), and save it in the data directory
(``pv_forecast.json``, written atomically) so a restart without internet still plans with it. ``changed`` is
set whenever a new forecast arrives, which is when the planner re-plans.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path
from typing import Any

import httpx

from smartsofar.config_tariff import PvForecastConfig
from smartsofar.errors import DeviceError, InvalidInputError
from smartsofar.plan.pv_forecast import PvCurve, fetch_pv_forecast, merged
from smartsofar.storage.atomic import atomic_write, remove_orphans

log = logging.getLogger(__name__)
RETRY_S = 600.0  # after a failure, try again this soon (Forecast.Solar's free service allows 12 calls an hour)
KEEP_S = 2 * 86400.0  # forecast intervals older than this are dropped


class PvFeed:
    """The PV forecast source's fetching task, and what it last managed."""

    def __init__(self, config: PvForecastConfig, zone: tzinfo, cache: Path | None, *,
                 clock: Callable[[], float] = time.time, client: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self.zone = zone
        self.cache = cache
        self.clock = clock
        self._client = client
        self.curve = PvCurve()
        self.changed = asyncio.Event()
        self.last_ok: float | None = None
        self.last_error: str | None = None
        self._failing = False
        if cache is not None:
            remove_orphans(cache)
            self._load()

    def status(self) -> dict[str, Any]:
        """For the page and the API: the source, the last success, the error and how far ahead it is known."""
        return {"source": self.config.source, "last_ok": self.last_ok, "error": self.last_error,
                "known_until": self.curve.known_until}

    async def refresh(self) -> bool:
        """Fetch once; True when the forecast changed. A failure keeps the last forecast and is reported."""
        now = self.clock()
        own = self._client is None
        client = self._client or httpx.AsyncClient(follow_redirects=True)
        try:
            new = await fetch_pv_forecast(self.config, client, self.zone)
        except (DeviceError, InvalidInputError, OSError) as exc:
            self.last_error = str(exc)
            if not self._failing:
                log.warning("PV forecast: %s; planning goes on with the last known forecast", exc)
            self._failing = True
            return False
        finally:
            if own:
                await client.aclose()
        if self._failing:
            log.info("PV forecast: the source answers again")
        self._failing, self.last_error, self.last_ok = False, None, now
        curve = merged(self.curve, new, now - KEEP_S)
        if curve == self.curve:
            return False
        self.curve = curve
        self._save()
        self.changed.set()
        return True

    async def run(self) -> None:
        """Fetch every ``refresh_min`` (sooner after a failure) until cancelled."""
        while True:
            await self.refresh()
            await asyncio.sleep(RETRY_S if self._failing else self.config.refresh_min * 60)

    def _save(self) -> None:
        if self.cache is None:
            return
        try:
            atomic_write(self.cache, json.dumps({"source": self.config.source, "intervals": self.curve.to_json()}))
        except OSError as exc:
            log.warning("PV forecast: cannot save %s: %s", self.cache, exc)

    def _load(self) -> None:
        assert self.cache is not None
        try:
            data = json.loads(self.cache.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("source") != self.config.source:
                return  # another source's forecast: not this one's
            self.curve = PvCurve.from_json(data.get("intervals"), str(self.cache))
        except FileNotFoundError:
            return
        except (OSError, ValueError, InvalidInputError) as exc:
            log.warning("PV forecast: %s cannot be read (%s); starting without a saved forecast", self.cache, exc)
