"""Tempo-style tariffs: each day has a colour (BLUE, WHITE, RED) published the day before, and each colour an
off-peak (HC) and a peak (HP) price.

A Tempo day runs from 06:00 to 06:00 the next morning, local time: its peak is 06:00-22:00, its off-peak the
22:00-06:00 that follows. So the night after a red day is billed at the red off-peak price, and the small
hours of a calendar day belong to the day before. Prices are known only where the colour is.

``TempoColours`` holds the calendar: from a ``date,colour`` CSV file (the format of ``tempo_days.csv``), and
from the colour source's answers (``tariff.tempo_source``).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo
from pathlib import Path

from smartsofar.errors import InvalidInputError
from smartsofar.tariff.clock import local_at, local_days
from smartsofar.tariff.prices import PriceCurve, PriceSlot

COLOURS = ("BLUE", "WHITE", "RED")
DAY_STARTS_MIN = 6 * 60
PEAK_ENDS_MIN = 22 * 60
_ALIASES = {"BLEU": "BLUE", "BLANC": "WHITE", "ROUGE": "RED", "1": "BLUE", "2": "WHITE", "3": "RED"}


def colour_name(text: object) -> str | None:
    """'BLUE' / 'bleu' / 1 -> 'BLUE'; None for an unknown (0, '', 'UNKNOWN'); InvalidInputError for nonsense."""
    value = str(text).strip().upper()
    value = _ALIASES.get(value, value)
    if value in COLOURS:
        return value
    if value in ("", "0", "UNKNOWN", "NON_DEFINI", "INCONNU"):
        return None
    raise InvalidInputError(f"a Tempo colour is BLUE, WHITE or RED, got {text!r}")


@dataclass(slots=True)
class TempoColours:
    """Day colours by local date."""

    days: dict[date, str] = field(default_factory=dict)

    @classmethod
    def from_csv(cls, path: Path) -> TempoColours:
        """A ``date,colour`` file; InvalidInputError naming the line when it is not one."""
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInputError(f"{path}: cannot read: {exc}") from None
        reader = csv.DictReader(text.splitlines())
        if reader.fieldnames != ["date", "colour"]:
            raise InvalidInputError(f"{path}: header must be date,colour")
        days: dict[date, str] = {}
        for line_no, row in enumerate(reader, start=2):
            try:
                colour = colour_name(row["colour"])
                day = date.fromisoformat(row["date"])
            except (ValueError, TypeError, InvalidInputError):
                raise InvalidInputError(f"{path}: line {line_no} is not date,colour") from None
            if colour:
                days[day] = colour
        return cls(days)

    def update(self, known: Mapping[date, str]) -> bool:
        """Add or correct colours; True when anything changed."""
        changed = any(self.days.get(d) != c for d, c in known.items())
        self.days.update(known)
        return changed

    def last_known(self) -> date | None:
        """The latest day whose colour is known."""
        return max(self.days) if self.days else None


@dataclass(frozen=True, slots=True)
class TempoTariff:
    """Six prices, a calendar of colours, a time zone."""

    prices: Mapping[str, tuple[float, float]]  # colour -> (off-peak, peak)
    colours: TempoColours
    zone: tzinfo

    def curve(self, start: float, end: float) -> PriceCurve:
        """The known prices over [start, end): the Tempo days whose colour is known."""
        slots: list[PriceSlot] = []
        for day in local_days(start, end, self.zone):
            colour = self.colours.days.get(day)
            if colour is None:
                continue
            off_peak, peak = self.prices[colour]
            nxt = day + timedelta(days=1)
            pieces = ((local_at(day, DAY_STARTS_MIN, self.zone), local_at(day, PEAK_ENDS_MIN, self.zone), peak),
                      (local_at(day, PEAK_ENDS_MIN, self.zone), local_at(nxt, DAY_STARTS_MIN, self.zone), off_peak))
            for t0, t1, price in pieces:
                if t1 > start and t0 < end:
                    slots.append(PriceSlot(max(t0, start), min(t1, end), price))
        return PriceCurve(slots)
