"""Keeping the site's prices fresh: fetch them from the configured source every ``refresh_min``, keep the last
known ones when a fetch fails, and say so once per failure streak (``feed_base``).

The prices (or Tempo colours) are saved in the data directory (``prices.json``, written atomically), so a
restart without internet still plans with what was known. ``changed`` is set whenever new prices arrive,
which is when the planner re-plans.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from smartsofar.feed_base import Feed
from smartsofar.tariff.prices import PriceCurve
from smartsofar.tariff.site_tariff import SiteTariff
from smartsofar.tariff.sources import fetch_colours, fetch_spot
from smartsofar.tariff.tempo import colour_name

KEEP_S = 3 * 86400  # prices older than this are dropped


class PriceFeed(Feed):
    """The price source's fetching task, and what it last managed."""

    what = "prices"

    def __init__(self, tariff: SiteTariff, cache: Path | None, *, clock: Callable[[], float] = time.time,
                 client: httpx.AsyncClient | None = None) -> None:
        super().__init__(cache, clock=clock, client=client)
        self.tariff = tariff
        self._load()

    @property
    def period_s(self) -> float:
        return self.tariff.config.refresh_min * 60

    def status(self) -> dict[str, Any]:
        """For the page and the diagnostics."""
        now = self.clock()
        known = self.tariff.import_prices(now, now + 3 * 86400).known_through(now, now + 3 * 86400)
        return {"source": self.tariff.config.source if self.tariff.kind == "dynamic" else self.tariff.config.colours,
                **super().status(), "known_until": known if known > now else None}

    async def _fetch(self, client: httpx.AsyncClient, now: float) -> bool:
        if self.tariff.kind == "tempo":
            changed = self.tariff.set_colours(await fetch_colours(self.tariff.config, client, now))
        else:
            changed = self.tariff.set_spot(await fetch_spot(self.tariff.config, client, now))
        self.tariff.forget_before(now - KEEP_S)
        return changed

    def _snapshot(self) -> object:
        return {"spot": self.tariff.spot.to_json(),
                "colours": {d.isoformat(): c for d, c in sorted(self.tariff.colours.days.items())[-400:]}}

    def _restore(self, data: Any) -> None:
        spot = PriceCurve.from_json(data.get("spot", []), str(self.cache))
        colours = {date.fromisoformat(d): c for d, c in data.get("colours", {}).items() if colour_name(c)}
        self.tariff.set_spot(spot)
        self.tariff.set_colours(colours)
