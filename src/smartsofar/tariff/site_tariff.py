"""The site's tariff as configured: import and feed-in prices over any span, from what is known so far.

``SiteTariff`` is built from ``[tariff]``. Zones are always known; Tempo prices are known where the day colour
is; dynamic prices where the source has published them. The price sources (``tariff.sources``) feed it
with ``set_spot`` and ``set_colours``; ``published_until`` says how far a day-ahead market has published at
a given moment, which the simulation uses so a plan never sees prices before they are out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from datetime import time as clock_time

from smartsofar.config_tariff import TariffConfig, ZoneConfig
from smartsofar.tariff.clock import local_at, local_date, parse_days, parse_windows, site_zone
from smartsofar.tariff.prices import PriceCurve, PriceSlot
from smartsofar.tariff.tempo import DAY_STARTS_MIN, TempoColours, TempoTariff
from smartsofar.tariff.zones import Zone, ZoneTariff


def zone_tariff(base: float, zones: list[ZoneConfig], extra: tuple[str, float] | None, zone_name: str) -> ZoneTariff:
    """A ``ZoneTariff`` from configured zones (and one more window at one price)."""
    built = [Zone(parse_windows(z.hours), parse_days(z.days), z.price) for z in zones]
    if extra is not None:
        built.append(Zone(parse_windows(extra[0]), parse_days("all"), extra[1]))
    return ZoneTariff(base, tuple(built), site_zone(zone_name))


class SiteTariff:
    """Import and feed-in prices per kWh, as far as they are known."""

    def __init__(self, config: TariffConfig) -> None:
        self.config = config
        self.zone = site_zone(config.timezone)
        self.spot = PriceCurve()
        self.colours = TempoColours()
        offpeak = (config.offpeak_window, config.offpeak_price) if config.offpeak_price is not None else None
        self._zones = zone_tariff(config.price, config.zones, offpeak, config.timezone)
        self._feed_in = zone_tariff(config.feed_in, config.feed_in_zones, None, config.timezone)
        self._tempo = TempoTariff(config.tempo.by_colour(), self.colours, self.zone)

    @property
    def kind(self) -> str:
        return self.config.kind

    @property
    def needs_source(self) -> bool:
        """True when prices must be fetched (Tempo colours or day-ahead prices)."""
        return self.kind in ("tempo", "dynamic")

    def set_spot(self, curve: PriceCurve) -> bool:
        """New day-ahead prices laid over the known ones; True when anything changed."""
        merged = self.spot.merged(curve)
        changed = merged != self.spot
        self.spot = merged
        return changed

    def set_colours(self, known: Mapping[date, str]) -> bool:
        """New day colours; True when anything changed."""
        return self.colours.update(known)

    def forget_before(self, t: float) -> None:
        """Drop prices that ended before ``t``."""
        self.spot = self.spot.after(t)

    def import_prices(self, start: float, end: float) -> PriceCurve:
        """What a kWh drawn from the grid costs over [start, end), where known."""
        if self.kind == "time_of_use":
            return self._zones.curve(start, end)
        if self.kind == "tempo":
            return self._tempo.curve(start, end)
        if self.kind == "dynamic":
            return PriceCurve(self.spot.between(start, end)).mapped(self.config.scale, self.config.adder)
        return PriceCurve()

    def export_prices(self, start: float, end: float) -> PriceCurve:
        """What an exported kWh pays over [start, end) (where the import price is known)."""
        base = self._feed_in.curve(start, end)
        if self.kind == "dynamic" and self.config.feed_in_scale:
            slots = []
            for spot in self.spot.between(start, end):
                paid = base.at(spot.start) or 0.0
                slots.append(PriceSlot(spot.start, spot.end, paid + self.config.feed_in_scale * spot.price))
            return base.merged(PriceCurve(slots))
        return base

    def published_until(self, now: float) -> float:
        """How far a market that publishes tomorrow at ``publish_hour`` has published by ``now``."""
        if self.kind == "time_of_use":
            return math.inf  # always known
        today = local_date(now, self.zone)
        moment = datetime.fromtimestamp(now, self.zone)
        hour = self.config.publish_hour
        out = moment.time() >= clock_time(int(hour), round(hour % 1 * 60) % 60)
        last = today + timedelta(days=1 if out else 0)
        if self.kind == "tempo":  # a Tempo day ends at 06:00 the next morning
            return local_at(last + timedelta(days=1), DAY_STARTS_MIN, self.zone)
        return local_at(last + timedelta(days=1), 0, self.zone)
