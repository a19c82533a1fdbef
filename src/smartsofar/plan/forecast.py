"""What the house will need and give back, slot by slot, from what it did on recent days.

The history is the house's own power (the grid's minus the batteries': import +, PV surplus −) as 5-minute
means, which is what the history database keeps for two years. For a future slot the forecast looks at the
same local time on each of the last ``days`` days, weighting days of the same kind (weekday or weekend)
twice and recent days more, and gives two energies: what the house will draw while it draws (``need_wh``)
and what it will push out while it has a surplus (``surplus_wh``). Keeping both matters: an hour with a
sunny noon and a kettle needs the battery and fills it too, which one net number would hide.

Pure: the service reads the rows from the history, the simulation from its own record of the past.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

HISTORY_STEP_S = 300  # the history's coarse means
RECENCY = 0.85  # each day further back counts this much less
SAME_KIND_WEIGHT = 2.0


@dataclass(frozen=True, slots=True)
class SlotForecast:
    """One future slot: the energy the house will draw and the surplus it will have, Wh."""

    start: float
    end: float
    need_wh: float
    surplus_wh: float


class HouseHistory:
    """The house's power, one mean per 5 minutes, by epoch start."""

    def __init__(self, rows: Sequence[tuple[float, float]] = ()) -> None:
        ordered = sorted(rows)
        self._ts = [t for t, _ in ordered]
        self._w = [w for _, w in ordered]

    def __len__(self) -> int:
        return len(self._ts)

    def add(self, ts: float, house_w: float) -> None:
        """One more mean (the newest)."""
        if self._ts and ts <= self._ts[-1]:
            i = bisect.bisect_left(self._ts, ts)
            if i < len(self._ts) and self._ts[i] == ts:
                self._w[i] = house_w
                return
            self._ts.insert(i, ts)
            self._w.insert(i, house_w)
            return
        self._ts.append(ts)
        self._w.append(house_w)

    def forget_before(self, t: float) -> None:
        """Drop the means older than ``t``."""
        i = bisect.bisect_left(self._ts, t)
        del self._ts[:i], self._w[:i]

    def energies(self, start: float, end: float) -> tuple[float, float, float]:
        """(need Wh, surplus Wh, seconds covered) in [start, end)."""
        i = bisect.bisect_left(self._ts, start)
        need = surplus = covered = 0.0
        while i < len(self._ts) and self._ts[i] < end:
            hours = HISTORY_STEP_S / 3600
            w = self._w[i]
            if w > 0:
                need += w * hours
            else:
                surplus -= w * hours
            covered += HISTORY_STEP_S
            i += 1
        return need, surplus, covered

    @property
    def first(self) -> float | None:
        """The oldest mean's start."""
        return self._ts[0] if self._ts else None


def forecast(history: HouseHistory, slots: Sequence[tuple[float, float]], zone: tzinfo, *, days: int = 7,
             now: float | None = None) -> list[SlotForecast]:
    """The expected need and surplus of each (start, end) slot, from the same local time on recent days.

    Only days that ended before ``now`` are looked at (the plan must not peek at the future). A slot no past
    day covers is forecast as the mean of the slots that are.
    """
    out: list[SlotForecast] = []
    missing: list[int] = []
    for start, end in slots:
        moment = datetime.fromtimestamp(start, zone)
        weekend = moment.weekday() >= 5
        need = surplus = weight = 0.0
        for back in range(1, days + 1):
            then = moment - timedelta(days=back)
            t0 = then.timestamp()
            t1 = t0 + (end - start)
            if now is not None and t1 > now:
                continue
            n, s, covered = history.energies(t0, t1)
            if covered < 0.5 * (end - start):
                continue
            scale = (end - start) / covered
            w = RECENCY ** (back - 1) * (SAME_KIND_WEIGHT if (then.weekday() >= 5) == weekend else 1.0)
            need += w * n * scale
            surplus += w * s * scale
            weight += w
        if weight:
            out.append(SlotForecast(start, end, need / weight, surplus / weight))
        else:
            missing.append(len(out))
            out.append(SlotForecast(start, end, 0.0, 0.0))
    known = [f for i, f in enumerate(out) if i not in set(missing)]
    if missing and known:
        seconds = sum(f.end - f.start for f in known)
        need_rate = sum(f.need_wh for f in known) / seconds
        surplus_rate = sum(f.surplus_wh for f in known) / seconds
        for i in missing:
            f = out[i]
            out[i] = SlotForecast(f.start, f.end, need_rate * (f.end - f.start), surplus_rate * (f.end - f.start))
    return out
