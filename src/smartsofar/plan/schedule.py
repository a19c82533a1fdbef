"""The user's timed battery modes: which ``[[schedule]]`` entry is in force at a moment, and until when.

An entry's window belongs to the days it starts on ("01:00-05:00 mon-fri"; "22:00-06:00 fri" runs into
Saturday morning). The first entry in the file that matches wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta, tzinfo

from smartsofar.config_tariff import ScheduleEntry
from smartsofar.tariff.clock import local_at, local_date, minute_of_day, parse_days, parse_windows


def active_entry(entries: Sequence[ScheduleEntry], now: float, zone: tzinfo) -> tuple[ScheduleEntry, float] | None:
    """The entry in force at ``now`` and when its window ends, or None."""
    today = local_date(now, zone)
    minute = minute_of_day(now, zone)
    for entry in entries:
        days = parse_days(entry.days)
        for window in parse_windows(entry.hours):
            if not window.wraps:
                if today.weekday() in days and window.start <= minute < window.end:
                    return entry, local_at(today, window.end, zone)
                continue
            if today.weekday() in days and minute >= window.start:
                return entry, local_at(today + timedelta(days=1), window.end, zone)
            yesterday = today - timedelta(days=1)
            if yesterday.weekday() in days and minute < window.end:
                return entry, local_at(today, window.end, zone)
    return None
