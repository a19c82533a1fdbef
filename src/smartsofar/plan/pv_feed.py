"""Keeping the PV forecast fresh: fetch it every ``refresh_min`` from the configured source, keep the last one
when a fetch fails (saying so once per failure streak, ``feed_base``), and save it in the data directory
(``pv_forecast.json``, written atomically) so a restart without internet still plans with it. ``changed`` is
set whenever a new forecast arrives, which is when the planner re-plans.

What the forecasts said of the past days is kept too, ``KEEP_S`` back (the planner's longest history and a
day): where no unit measures PV it stands for the PV of those days (``forecast.learning_history``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path
from typing import Any

import httpx

from smartsofar.config_tariff import PvForecastConfig
from smartsofar.feed_base import Feed
from smartsofar.plan.pv_forecast import PvCurve, fetch_pv_forecast, merged

KEEP_S = 29 * 86400.0  # forecast intervals older than this are dropped: [planner] history_days is at most 28


class PvFeed(Feed):
    """The PV forecast source's fetching task, and what it last managed."""

    what = "PV forecast"
    retry_s = 600.0  # Forecast.Solar's free service allows 12 calls an hour

    def __init__(self, config: PvForecastConfig, zone: tzinfo, cache: Path | None, *,
                 clock: Callable[[], float] = time.time, client: httpx.AsyncClient | None = None) -> None:
        super().__init__(cache, clock=clock, client=client)
        self.config = config
        self.zone = zone
        self.curve = PvCurve()
        self._load()

    @property
    def period_s(self) -> float:
        return self.config.refresh_min * 60

    def status(self) -> dict[str, Any]:
        """For the page and the API: the source, the last success, the error and how far ahead it is known."""
        return {"source": self.config.source, **super().status(), "known_until": self.curve.known_until}

    async def _fetch(self, client: httpx.AsyncClient, now: float) -> bool:
        curve = merged(self.curve, await fetch_pv_forecast(self.config, client, self.zone), now - KEEP_S)
        if curve == self.curve:
            return False
        self.curve = curve
        return True

    def _snapshot(self) -> object:
        return {"source": self.config.source, "intervals": self.curve.to_json()}

    def _restore(self, data: Any) -> None:
        if isinstance(data, dict) and data.get("source") == self.config.source:  # not another source's forecast
            self.curve = PvCurve.from_json(data.get("intervals"), str(self.cache))
