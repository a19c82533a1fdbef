"""The PV forecast: the power the panels are expected to give, interval by interval, and where it comes from.

- ``forecast_solar``: Forecast.Solar's ``/estimate/LAT/LON/DEC/AZ/KWP`` (the free public service, or with the
  user's API key in the path), one call per plane of panels (one, or two for an east-west roof), added up over
  the time both cover. Its ``watts`` are the expected power at instants, in the panels' local time
  (``message.info.timezone``) or ISO 8601 with an offset. Between two instants the power is taken as their
  mean, which gives the energies of the straight lines Forecast.Solar draws between them; each day's list
  starts and ends at 0 W at sunrise and sunset, so the nights come out at 0 W.
- ``evcc``: a running evcc's ``/api/tariff/solar``: ``rates`` of ``{start, end, value}`` in W (wrapped in
  ``result`` by older versions), from whichever forecast evcc is set up with (Forecast.Solar, Solcast,
  Open-Meteo, ...).

Home Assistant's ``forecast_solar`` client was weighed: it brings aiohttp for one GET, which the httpx client
already used for prices does as well. An answer that is not a plausible forecast raises ``InvalidInputError``;
a service that cannot be reached or refuses raises ``DeviceError``. The API key never appears in a message.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from smartsofar.config_tariff import PvForecastConfig
from smartsofar.errors import DeviceError, InvalidInputError
from smartsofar.redact import HIDDEN
from smartsofar.tariff.series_file import parse_time
from smartsofar.tariff.sources import http_get, json_answer

FORECAST_SOLAR_URL = "https://api.forecast.solar"
MAX_PV_W = 1_000_000.0  # more than this from a home's panels is a unit mistake
MAX_POINTS = 20_000


@dataclass(frozen=True, slots=True)
class PvInterval:
    """The expected mean PV power over [start, end), W."""

    start: float
    end: float
    watts: float


class PvCurve:
    """A PV forecast: sorted, non-overlapping intervals; a time no interval covers is not known."""

    __slots__ = ("_starts", "intervals")

    def __init__(self, intervals: Iterable[PvInterval] = ()) -> None:
        ordered = sorted(intervals, key=lambda i: i.start)
        for before, after in itertools.pairwise(ordered):
            if after.start < before.end - 1e-6:
                raise InvalidInputError("PV forecast intervals overlap")
        self.intervals: tuple[PvInterval, ...] = tuple(ordered)
        self._starts = [i.start for i in self.intervals]

    def __bool__(self) -> bool:
        return bool(self.intervals)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PvCurve) and self.intervals == other.intervals

    def __hash__(self) -> int:
        return hash(self.intervals)

    @property
    def known_until(self) -> float | None:
        """The end of the last interval."""
        return self.intervals[-1].end if self.intervals else None

    def integrate(self, start: float, end: float) -> tuple[float, float]:
        """(the expected energy Wh, the seconds the forecast covers) in [start, end)."""
        i = max(0, bisect.bisect_right(self._starts, start) - 1)
        covered = energy = 0.0
        while i < len(self.intervals) and self.intervals[i].start < end:
            part = self.intervals[i]
            overlap = min(end, part.end) - max(start, part.start)
            if overlap > 0:
                covered += overlap
                energy += part.watts * overlap / 3600
            i += 1
        return energy, covered

    def energy_wh(self, start: float, end: float) -> float | None:
        """The expected energy in [start, end), Wh; None unless the forecast covers all of it."""
        energy, covered = self.integrate(start, end)
        return energy if covered >= (end - start) - 1.0 else None

    def to_json(self) -> list[dict[str, float]]:
        """JSON-ready form (what the cache file and the API hold)."""
        return [{"start": i.start, "end": i.end, "watts": round(i.watts, 1)} for i in self.intervals]

    @classmethod
    def from_json(cls, rows: object, where: str) -> PvCurve:
        """The form ``to_json`` writes; InvalidInputError when it is not one."""
        if not isinstance(rows, list):
            raise InvalidInputError(f"{where}: expected a list of PV intervals")
        try:
            return cls(checked_interval(float(r["start"]), float(r["end"]), float(r["watts"]), where) for r in rows)
        except (KeyError, TypeError, ValueError):
            raise InvalidInputError(f"{where}: a PV interval needs start, end and watts") from None


def checked_interval(start: float, end: float, watts: float, where: str) -> PvInterval:
    """An interval from a source; InvalidInputError naming ``where`` when it is not a plausible one."""
    if not (math.isfinite(start) and math.isfinite(end) and end > start):
        raise InvalidInputError(f"{where}: an interval must end after it starts")
    if not (math.isfinite(watts) and 0 <= watts <= MAX_PV_W):
        raise InvalidInputError(f"{where}: {watts!r} W is not a plausible PV power")
    return PvInterval(start, end, watts)


def _zone(name: object, fallback: tzinfo) -> tzinfo:
    if isinstance(name, str) and name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInputError(f"forecast_solar: unknown time zone {name[:40]!r}") from None
    return fallback


def _instant(key: str, zone: tzinfo) -> float:
    try:
        moment = datetime.fromisoformat(key.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(f"forecast_solar: {key[:40]!r} is not a time") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).timestamp()


def parse_forecast_solar(payload: object, fallback_zone: tzinfo) -> PvCurve:
    """Forecast.Solar's estimate answer -> a curve."""
    if not isinstance(payload, dict) or not isinstance(payload.get("result"), dict):
        raise InvalidInputError("forecast_solar: the answer has no result")
    watts = payload["result"].get("watts")
    if not isinstance(watts, dict) or not watts:
        raise InvalidInputError("forecast_solar: the answer has no watts")
    if len(watts) > MAX_POINTS:
        raise InvalidInputError(f"forecast_solar: more than {MAX_POINTS} points")
    message = payload.get("message")
    info = message.get("info") if isinstance(message, dict) else None
    zone = _zone(info.get("timezone") if isinstance(info, dict) else None, fallback_zone)
    points: list[tuple[float, float]] = []
    for key, value in watts.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInputError(f"forecast_solar: {key[:40]!r} has no power")
        points.append((_instant(str(key), zone), float(value)))
    points.sort()
    intervals = [checked_interval(t0, t1, (w0 + w1) / 2, "forecast_solar")
                 for (t0, w0), (t1, w1) in itertools.pairwise(points) if t1 > t0]
    if not intervals:
        raise InvalidInputError("forecast_solar: fewer than two points")
    return PvCurve(intervals)


def parse_rates(payload: object, where: str) -> PvCurve:
    """evcc's solar tariff (``{"rates": [{start, end, value}]}``, in ``result`` for older versions) -> a curve."""
    data = payload
    for key in ("result", "rates"):
        if isinstance(data, dict) and key in data:
            data = data[key]
    if not isinstance(data, list) or not data:
        raise InvalidInputError(f"{where}: expected a list of rates")
    if len(data) > MAX_POINTS:
        raise InvalidInputError(f"{where}: more than {MAX_POINTS} rates")
    intervals = []
    for i, row in enumerate(data):
        at = f"{where}, rate {i}"
        if not isinstance(row, dict) or "start" not in row or "end" not in row:
            raise InvalidInputError(f"{at}: needs start and end")
        value = row.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInputError(f"{at}: has no value (W)")
        intervals.append(checked_interval(parse_time(row["start"], at), parse_time(row["end"], at), float(value), at))
    return PvCurve(intervals)


def planes(config: PvForecastConfig) -> list[tuple[float, float, float]]:
    """(tilt, azimuth, kWp) of each configured plane of panels."""
    out = [(config.declination, config.azimuth, config.kwp)] if config.kwp is not None else []
    if config.second_kwp is not None:
        out.append((config.second_declination, config.second_azimuth, config.second_kwp))
    return out


def forecast_solar_url(config: PvForecastConfig, plane: int = 0, *, hide_key: bool = False) -> str:
    """The estimate's address for the configured ``plane`` (with the key hidden, for messages)."""
    base = (config.url or FORECAST_SOLAR_URL).rstrip("/")
    if config.token is not None and config.token.get_secret_value():
        base += "/" + (HIDDEN if hide_key else config.token.get_secret_value())
    declination, azimuth, kwp = planes(config)[plane]
    return f"{base}/estimate/{config.latitude:.4f}/{config.longitude:.4f}/{declination:g}/{azimuth:g}/{kwp:g}"


def summed(curves: Sequence[PvCurve]) -> PvCurve:
    """The planes' forecasts added up, over the time every one of them covers."""
    if len(curves) == 1:
        return curves[0]
    if not all(curves):
        return PvCurve()
    edges = sorted({t for curve in curves for i in curve.intervals for t in (i.start, i.end)})
    intervals = []
    for start, end in itertools.pairwise(edges):
        energies = [curve.energy_wh(start, end) for curve in curves]
        if all(e is not None for e in energies):
            intervals.append(PvInterval(start, end, sum(e or 0.0 for e in energies) * 3600 / (end - start)))
    return PvCurve(intervals)


async def fetch_pv_forecast(config: PvForecastConfig, client: httpx.AsyncClient, zone: tzinfo) -> PvCurve:
    """The configured source's forecast."""
    if config.source == "evcc":
        where = "evcc"
        response = await http_get(client, config.url.rstrip("/") + "/api/tariff/solar")
        return parse_rates(json_answer(response, where), where)
    if config.source != "forecast_solar":
        raise InvalidInputError("no PV forecast source is set")
    curves = []
    for plane in range(len(planes(config))):
        url, shown = forecast_solar_url(config, plane), forecast_solar_url(config, plane, hide_key=True)
        try:
            response = await http_get(client, url, accept=(429,))
        except DeviceError as exc:
            raise DeviceError(str(exc).replace(url, shown)) from None
        if response.status_code == 429:
            raise DeviceError(f"{shown}: Forecast.Solar's rate limit was reached (the free service allows 12 calls "
                              "an hour from one address)")
        curves.append(parse_forecast_solar(json_answer(response, "forecast_solar"), zone))
    return summed(curves)


def merged(old: PvCurve, new: PvCurve, keep_after: float) -> PvCurve:
    """The new forecast, and the old one's intervals before it starts (kept from ``keep_after`` on)."""
    first = new.intervals[0].start if new else math.inf
    kept: Sequence[PvInterval] = [i for i in old.intervals if i.end <= first and i.end > keep_after]
    return PvCurve([*kept, *new.intervals])


def day_energy_kwh(curve: PvCurve, start: float, end: float) -> float:
    """The forecast's energy over [start, end) where it is known, kWh."""
    return curve.integrate(start, end)[0] / 1000
