"""What the house will need and give back, slot by slot, from what it did on recent days.

The history is the house's own power (the grid's minus the batteries': import +, PV surplus −) as 5-minute
means, which is what the history database keeps for two years. For a future slot the forecast looks at the
same local time on each of the last ``days`` days, weighting days of the same kind (weekday or weekend)
twice and recent days more, and gives two energies: what the house will draw while it draws (``need_wh``)
and what it will push out while it has a surplus (``surplus_wh``). Keeping both matters: an hour with a
sunny noon and a kettle needs the battery and fills it too, which one net number would hide.

With a PV forecast (``plan.pv_forecast``) and a history that measured PV (a unit with a PV CT), a slot the
forecast covers is forecast as the house's load (its power plus its PV, from the same recent days) minus the
PV forecast, 5 minutes at a time: the past days then say how much the house uses, and the forecast how sunny
tomorrow will be. Without either, the past days' net power stands for both. With no PV CT the forecasts kept
for the past days can stand for the PV they did not measure (``HouseHistory.with_pv``, ``learning_history``),
once they cover every day the forecast looks at.

Pure: the service reads the rows from the history, the simulation from its own record of the past.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from smartsofar.plan.pv_forecast import PvCurve

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
    """The house's power, one mean per 5 minutes, by epoch start, with the PV's where it was measured."""

    def __init__(self, rows: Sequence[tuple[float, float] | tuple[float, float, float | None]] = ()) -> None:
        ordered = sorted(((r[0], r[1], r[2] if len(r) > 2 else None) for r in rows), key=lambda r: r[0])
        self._ts = [r[0] for r in ordered]
        self._w = [r[1] for r in ordered]
        self._pv: list[float | None] = [r[2] for r in ordered]

    def __len__(self) -> int:
        return len(self._ts)

    @property
    def pv_known(self) -> bool:
        """True when some mean has a PV power above 0 W: a PV CT is fitted (its 0 W at night is a reading), or
        the forecasts kept stand for it (``with_pv``)."""
        return any(pv for pv in self._pv)

    def with_pv(self, curve: PvCurve, start: float, end: float) -> HouseHistory | None:
        """A copy in which each mean in [start, end) that has no measured PV takes the PV ``curve`` forecast for
        its 5 minutes; None unless the curve covers all of [start, end) (a day it misses would count that day's
        sun as the house's own)."""
        if curve.energy_wh(start, end) is None:
            return None
        rows = []
        for ts, w, pv in zip(self._ts, self._w, self._pv, strict=True):
            if pv is None and start <= ts and ts + HISTORY_STEP_S <= end:
                pv = (curve.energy_wh(ts, ts + HISTORY_STEP_S) or 0.0) * 3600 / HISTORY_STEP_S
            rows.append((ts, w, pv))
        return HouseHistory(rows)

    def add(self, ts: float, house_w: float, pv_w: float | None = None) -> None:
        """One more mean (the newest)."""
        if self._ts and ts <= self._ts[-1]:
            i = bisect.bisect_left(self._ts, ts)
            if i < len(self._ts) and self._ts[i] == ts:
                self._w[i], self._pv[i] = house_w, pv_w
                return
            self._ts.insert(i, ts)
            self._w.insert(i, house_w)
            self._pv.insert(i, pv_w)
            return
        self._ts.append(ts)
        self._w.append(house_w)
        self._pv.append(pv_w)

    def forget_before(self, t: float) -> None:
        """Drop the means older than ``t``."""
        i = bisect.bisect_left(self._ts, t)
        del self._ts[:i], self._w[:i], self._pv[:i]

    def load_energy(self, start: float, end: float) -> tuple[float, float]:
        """(the house's load Wh: its power plus its PV, seconds covered) in [start, end)."""
        i = bisect.bisect_left(self._ts, start)
        load = covered = 0.0
        while i < len(self._ts) and self._ts[i] < end:
            load += max(0.0, self._w[i] + (self._pv[i] or 0.0)) * HISTORY_STEP_S / 3600
            covered += HISTORY_STEP_S
            i += 1
        return load, covered

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


def learning_history(past: HouseHistory, pv: PvCurve | None, start: float,
                     end: float) -> tuple[HouseHistory, str | None]:
    """The history a forecast learns from, and where its PV comes from: ``measured`` (a PV CT: ``past`` itself),
    ``forecasts`` (no PV CT: the PV forecasts kept for [start, end), once they cover all of it), or None (not
    known)."""
    if past.pv_known:
        return past, "measured"
    kept = past.with_pv(pv, start, end) if pv else None
    return (kept, "forecasts") if kept is not None and kept.pv_known else (past, None)


def _past_days(start: float, zone: tzinfo, days: int, only: int | None = None) -> list[tuple[float, float]]:
    """(the same local time ``back`` days earlier, its weight) for back = 1 .. days (or back = ``only``)."""
    moment = datetime.fromtimestamp(start, zone)
    weekend = moment.weekday() >= 5
    out = []
    for back in range(1, days + 1) if only is None else (only,):
        then = moment - timedelta(days=back)
        out.append((then.timestamp(),
                    RECENCY ** (back - 1) * (SAME_KIND_WEIGHT if (then.weekday() >= 5) == weekend else 1.0)))
    return out


def _from_history(history: HouseHistory, start: float, end: float, zone: tzinfo, days: int,
                  now: float | None, only: int | None = None) -> SlotForecast | None:
    """The past days' need and surplus at the same time (None when no past day covers the slot)."""
    need = surplus = weight = 0.0
    for t0, w in _past_days(start, zone, days, only):
        t1 = t0 + (end - start)
        if now is not None and t1 > now:
            continue
        n, s, covered = history.energies(t0, t1)
        if covered < 0.5 * (end - start):
            continue
        scale = (end - start) / covered
        need += w * n * scale
        surplus += w * s * scale
        weight += w
    return SlotForecast(start, end, need / weight, surplus / weight) if weight else None


def _with_pv(history: HouseHistory, start: float, end: float, zone: tzinfo, days: int, now: float | None,
             pv: PvCurve, only: int | None = None) -> SlotForecast | None:
    """The past days' load at the same time minus the PV forecast, 5 minutes at a time (None when a step has
    no past day or no forecast)."""
    need = surplus = 0.0
    t = start
    while t < end - 1e-6:
        step_end = min(end, (t // HISTORY_STEP_S + 1) * HISTORY_STEP_S)
        produced = pv.energy_wh(t, step_end)
        if produced is None:
            return None
        load = weight = 0.0
        for t0, w in _past_days(t, zone, days, only):
            t1 = t0 + (step_end - t)
            if now is not None and t1 > now:
                continue
            used, covered = history.load_energy(t0 // HISTORY_STEP_S * HISTORY_STEP_S, t1)
            if not covered:
                continue
            load += w * used * (step_end - t) / covered
            weight += w
        if not weight:
            return None
        net = load / weight - produced
        need, surplus = need + max(net, 0.0), surplus + max(-net, 0.0)
        t = step_end
    return SlotForecast(start, end, need, surplus)


def forecast(history: HouseHistory, slots: Sequence[tuple[float, float]], zone: tzinfo, *, days: int = 7,
             now: float | None = None, pv: PvCurve | None = None) -> list[SlotForecast]:
    """The expected need and surplus of each (start, end) slot, from the same local time on recent days, and
    from the PV forecast ``pv`` where it covers the slot and the history measured PV.

    Only days that ended before ``now`` are looked at (the plan must not peek at the future). A slot no past
    day covers is forecast as the mean of the slots that are.
    """
    out: list[SlotForecast] = []
    missing: list[int] = []
    for start, end in slots:
        predicted = _one_slot(history, start, end, zone, days, now, pv)
        if predicted is not None:
            out.append(predicted)
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


def _one_slot(history: HouseHistory, start: float, end: float, zone: tzinfo, days: int, now: float | None,
              pv: PvCurve | None, only: int | None = None) -> SlotForecast | None:
    if pv is not None and pv and history.pv_known:
        predicted = _with_pv(history, start, end, zone, days, now, pv, only)
        if predicted is not None:
            return predicted
    return _from_history(history, start, end, zone, days, now, only)


def scenarios(history: HouseHistory, expected: Sequence[SlotForecast], zone: tzinfo, *, days: int = 7,
              now: float | None = None, pv: PvCurve | None = None) -> list[tuple[float, list[SlotForecast]]]:
    """Each of the last ``days`` days on its own, as the house might do it again, with its weight in the forecast:
    what the average ``expected`` (from ``forecast``) hides. A slot the day does not cover (that time, so many days
    back, is still to come, or is not in the history) keeps the expected value."""
    if not expected:
        return []
    out = []
    for back, (_, weight) in enumerate(_past_days(expected[0].start if now is None else now, zone, days), start=1):
        slots = []
        covered = False
        for f in expected:
            own = _one_slot(history, f.start, f.end, zone, days, now, pv, only=back)
            covered = covered or own is not None
            slots.append(own if own is not None else f)
        if covered:
            out.append((weight, slots))
    return out
