"""Time-of-use tariffs: a price, and windows of other prices on some days (Heures Creuses, Octopus Go, E7).

A zone is "these hours, on these days, cost this"; the first zone that matches wins, and the base price
applies elsewhere. A window that runs past midnight belongs to the day it starts on: "22:00-06:00 on
mon-fri" covers Friday night until Saturday 06:00, not Saturday night. The curve is always known, so a
zone tariff never goes stale.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, tzinfo

from smartsofar.tariff.clock import Window, local_at, local_days
from smartsofar.tariff.prices import PriceCurve, PriceSlot

PRESET_WINDOWS = {
    "heures_creuses": "22:00-06:00",  # Enedis sets each connection's 8 h; this is the usual default
    "octopus_go": "00:30-05:30",
    "intelligent_octopus_go": "23:30-05:30",
    "economy_7": "00:30-07:30",  # the 7 hours vary by region and meter
}


@dataclass(frozen=True, slots=True)
class Zone:
    """Some windows on some days at one price."""

    windows: tuple[Window, ...]
    days: frozenset[int]
    price: float


@dataclass(frozen=True, slots=True)
class ZoneTariff:
    """A base price and zones, in the site's local time."""

    base_price: float
    zones: tuple[Zone, ...]
    zone: tzinfo

    def price_at_local(self, day: date, minute: int) -> float:
        """The price at ``minute`` of local ``day``."""
        weekday = day.weekday()
        yesterday = (weekday - 1) % 7
        for zone in self.zones:
            for w in zone.windows:
                if not w.wraps:
                    if weekday in zone.days and w.start <= minute < w.end:
                        return zone.price
                elif (weekday in zone.days and minute >= w.start) or (yesterday in zone.days and minute < w.end):
                    return zone.price
        return self.base_price

    def curve(self, start: float, end: float) -> PriceCurve:
        """The prices over [start, end), one slot per stretch of one price."""
        cuts = sorted({0, 1440, *(m for z in self.zones for w in z.windows for m in (w.start, w.end % 1440))})
        slots: list[PriceSlot] = []
        for day in local_days(start, end, self.zone, before=0):
            for a, b in itertools.pairwise(cuts):
                t0, t1 = local_at(day, a, self.zone), local_at(day, b, self.zone)
                if t1 <= start or t0 >= end or t1 <= t0:
                    continue
                price = self.price_at_local(day, a)
                t0, t1 = max(t0, start), min(t1, end)
                if slots and slots[-1].price == price and abs(slots[-1].end - t0) < 1e-6:
                    slots[-1] = PriceSlot(slots[-1].start, t1, price)
                else:
                    slots.append(PriceSlot(t0, t1, price))
        return PriceCurve(slots)

