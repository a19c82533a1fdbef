"""Local time for tariffs: a site's time zone, "HH:MM-HH:MM" windows and day sets, and local-day walking.

Tariffs are written in the site's local time (off-peak from 22:00, a Tempo day from 06:00); prices and plans
run in epoch seconds. Everything that converts between the two is here, so summer time is handled once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from smartsofar.errors import InvalidInputError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"^([0-2][0-9]):([0-5][0-9])-([0-2][0-9]):([0-5][0-9])$")


def site_zone(name: str) -> tzinfo:
    """The named IANA zone, or the machine's local zone for ''; InvalidInputError for an unknown name."""
    if not name:
        local = datetime.now().astimezone().tzinfo
        assert local is not None
        return local
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInputError(f"unknown time zone {name!r} (an IANA name such as Europe/Paris)") from None


@dataclass(frozen=True, slots=True)
class Window:
    """A daily window in local time, minutes of the day; ``end`` <= ``start`` runs past midnight."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> Window:
        """'22:00-06:00' -> Window(1320, 360); InvalidInputError when it is not one."""
        match = _WINDOW.match(text.strip())
        if not match:
            raise InvalidInputError(f"a time window is HH:MM-HH:MM, got {text!r}")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 24 or h2 > 24 or (h1 == 24 and m1) or (h2 == 24 and m2):
            raise InvalidInputError(f"a time window is HH:MM-HH:MM within the day, got {text!r}")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if start == end and start not in (0, 1440):
            raise InvalidInputError(f"a time window must not be empty, got {text!r}")
        return cls(start % 1440 if start == 1440 else start, end)

    @property
    def wraps(self) -> bool:
        """True when the window runs past midnight (or is the whole day)."""
        return self.end <= self.start

    def text(self) -> str:
        """'22:00-06:00'."""
        return f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"


def parse_windows(text: str) -> tuple[Window, ...]:
    """'22:00-06:00' or '02:00-07:00,13:00-16:00'."""
    parts = [p for p in text.split(",") if p.strip()]
    if not parts:
        raise InvalidInputError("no time window given")
    return tuple(Window.parse(p) for p in parts)


def parse_days(text: str) -> frozenset[int]:
    """'mon-fri', 'sat,sun', 'all' (or '') -> weekday numbers (0 = Monday)."""
    text = text.strip().lower()
    if text in ("", "all", "every day", "daily"):
        return frozenset(range(7))
    days: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        names = part.split("-")
        if len(names) > 2 or any(n.strip() not in DAY_NAMES for n in names):
            raise InvalidInputError(f"days are names such as mon-fri or sat,sun, got {text!r}")
        first, last = DAY_NAMES.index(names[0].strip()), DAY_NAMES.index(names[-1].strip())
        span = (last - first) % 7
        days.update((first + i) % 7 for i in range(span + 1))
    return frozenset(days)


def local_at(day: date, minute: int, zone: tzinfo) -> float:
    """Epoch seconds of ``minute`` after local midnight of ``day`` (wall-clock minutes, summer time kept)."""
    wall = datetime.combine(day, time(0)) + timedelta(minutes=minute)
    return wall.replace(tzinfo=zone).timestamp()


def local_date(t: float, zone: tzinfo) -> date:
    """The local calendar date at epoch ``t``."""
    return datetime.fromtimestamp(t, zone).date()


def local_days(start: float, end: float, zone: tzinfo, before: int = 1) -> Iterator[date]:
    """Every local date that overlaps [start, end), starting ``before`` days earlier."""
    day = local_date(start, zone) - timedelta(days=before)
    last = local_date(end, zone)
    while day <= last:
        yield day
        day += timedelta(days=1)


def minute_of_day(t: float, zone: tzinfo) -> int:
    """Local wall-clock minutes since midnight at epoch ``t``."""
    moment = datetime.fromtimestamp(t, zone)
    return moment.hour * 60 + moment.minute
