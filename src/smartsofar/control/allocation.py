"""Sharing a total battery power between units.

Three strategies give the *ideal* share of each unit:

- ``equal``: the same power for every unit that can take it (SmartSofar v1's split);
- ``soc_balance``: discharge fuller units more and charge emptier units more (shares proportional to the
  energy each unit still has to give, or room it still has to take);
  both use only as many units as give each at least ``SPLIT_FLOOR_W`` (the preferred ones, as below);
- ``fewest_units``: as few units as possible (the preferred one first: sticky to the units already running,
  then fullest first for discharge, emptiest first for charge); a further unit joins when the others are
  at their limit and leaves only when the rest could carry the total with a margin, so units do not flap.

All of them respect each unit's room (its limits, SoC bounds, full/flat flags) and hand a share that one
unit cannot take to the others. Then ``allocate`` spends as few commands as it can: a unit whose share moved
by less than ``min_change_w`` keeps its setpoint, and for ``equal`` / ``soc_balance`` a change of the total
goes to a single unit as long as every unit stays within ``tolerance_w`` of its ideal share.

Pure: no I/O, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

Strategy = Literal["equal", "soc_balance", "fewest_units"]
STRATEGIES: tuple[Strategy, ...] = ("equal", "soc_balance", "fewest_units")
LEAVE_FRACTION = 0.8  # fewest_units: a unit leaves when the others can carry the total at 80 % of their limit
ACTIVE_FLOOR_W = 100.0  # fewest_units: a running helper unit keeps at least this much (no on/off flapping)
MIN_SHARE_W = 50.0  # equal / soc_balance: a smaller share goes to the other units when they can take it
SPLIT_FLOOR_W = 150.0  # equal / soc_balance: a unit joins the split only if its share would be at least this
SWAP_SOC_PCT = 10.0  # fewest_units: an idle unit takes over from a running one when its SoC is this much better


class UnitRoom(NamedTuple):
    """What one available unit can do now, and what it was last told."""

    unit_id: int
    charge_w: float  # the most it may charge now, >= 0
    discharge_w: float  # the most it may discharge now, >= 0
    current_w: float = 0.0  # its setpoint now (charge positive)
    soc_pct: float | None = None
    min_soc_pct: float = 0.0
    max_soc_pct: float = 100.0
    capacity_wh: float = 4800.0

    def room(self, charging: bool) -> float:
        """Room in one direction."""
        return self.charge_w if charging else self.discharge_w

    def holds(self, setpoint_w: float) -> bool:
        """True if the unit may stay at ``setpoint_w``."""
        return -self.discharge_w <= setpoint_w <= self.charge_w


def capacity(rooms: Iterable[UnitRoom], charging: bool) -> float:
    """The most the units can take together in one direction."""
    return sum(r.room(charging) for r in rooms)


def clamp_total(total_w: float, rooms: Sequence[UnitRoom]) -> float:
    """``total_w`` limited to what the units can do together."""
    return min(total_w, capacity(rooms, True)) if total_w >= 0 else max(total_w, -capacity(rooms, False))


def water_fill(amount: float, caps: Mapping[int, float], weights: Mapping[int, float]) -> dict[int, float]:
    """Share ``amount`` >= 0 in proportion to ``weights``, never above ``caps``; what one cannot take goes on."""
    shares = dict.fromkeys(caps, 0.0)
    open_ids = [uid for uid in caps if caps[uid] > 0]
    left = min(amount, sum(caps[uid] for uid in open_ids))
    weight_sum = sum(max(weights[uid], 1e-9) for uid in open_ids)
    if open_ids and all(left * max(weights[uid], 1e-9) / weight_sum < caps[uid] for uid in open_ids):
        for uid in open_ids:  # the common case: nobody reaches a limit
            shares[uid] = left * max(weights[uid], 1e-9) / weight_sum
        return shares
    while left > 1e-9 and open_ids:
        weight_sum = sum(max(weights[uid], 1e-9) for uid in open_ids)
        capped = [uid for uid in open_ids if left * max(weights[uid], 1e-9) / weight_sum >= caps[uid] - shares[uid]]
        if not capped:
            for uid in open_ids:
                shares[uid] += left * max(weights[uid], 1e-9) / weight_sum
            break
        for uid in capped:
            left -= caps[uid] - shares[uid]
            shares[uid] = caps[uid]
        open_ids = [uid for uid in open_ids if uid not in capped]
    return shares


def ideal_split(total_w: float, rooms: Sequence[UnitRoom], strategy: Strategy) -> dict[int, float]:
    """Each unit's ideal share of ``total_w`` (clamped to what the units can do)."""
    total = clamp_total(total_w, rooms)
    if not rooms or total == 0:
        return {r.unit_id: 0.0 for r in rooms}
    charging = total > 0
    caps = {r.unit_id: r.room(charging) for r in rooms}
    if strategy == "fewest_units":
        shares = _fill_in_order(abs(total), rooms, charging)
    else:
        # Only as many units as give each a useful share: a few watts split over every unit is a command
        # per unit for nothing, and an inverter is least efficient at its lowest powers.
        order = _preference(rooms, charging)
        count = max(1, min(len(order), math.floor(abs(total) / SPLIT_FLOOR_W)))
        used = {r.unit_id for r in order[:count]}
        caps = {uid: cap if uid in used else 0.0 for uid, cap in caps.items()}
        weights = {r.unit_id: 1.0 if strategy == "equal" else _soc_weight(r, charging) for r in rooms}
        shares = water_fill(abs(total), caps, weights)
        if sum(shares.values()) < abs(total) - 1e-6:  # the chosen ones cannot take it all: everyone helps
            caps = {r.unit_id: r.room(charging) for r in rooms}
            shares = water_fill(abs(total), caps, weights)
        tiny = {uid for uid, w in shares.items() if 0 < w < MIN_SHARE_W}
        if tiny:  # a few watts are not worth running a unit for: the others take them if they can
            without = water_fill(abs(total), {uid: 0.0 if uid in tiny else cap for uid, cap in caps.items()}, weights)
            if sum(without.values()) >= abs(total) - 1e-6:
                shares = without
    sign = 1.0 if charging else -1.0
    return {uid: sign * w for uid, w in shares.items()}


def _soc_weight(room: UnitRoom, charging: bool) -> float:
    """Energy still to take (charging) or to give (discharging), Wh."""
    if room.soc_pct is None:
        return room.capacity_wh / 2
    pct = room.max_soc_pct - room.soc_pct if charging else room.soc_pct - room.min_soc_pct
    return max(pct, 0.5) / 100 * room.capacity_wh


def _preference(rooms: Sequence[UnitRoom], charging: bool) -> list[UnitRoom]:
    """Fullest first for discharge, emptiest first for charge; a running unit keeps its place unless an idle
    one is better by ``SWAP_SOC_PCT`` (so units take turns as they drain, without swapping on every change).
    A running unit counts whatever its direction: it needs a command anyway, so a reversal costs one, not two."""

    def key(r: UnitRoom) -> tuple[float, float, int]:
        soc = r.soc_pct if r.soc_pct is not None else 50.0
        score = -soc if charging else soc
        return (-(score + (SWAP_SOC_PCT if r.current_w else 0.0)), -abs(r.current_w), r.unit_id)

    return sorted((r for r in rooms if r.room(charging) > 0), key=key)


def _fill_in_order(amount: float, rooms: Sequence[UnitRoom], charging: bool) -> dict[int, float]:
    order = _preference(rooms, charging)
    shares = {r.unit_id: 0.0 for r in rooms}
    sign = 1.0 if charging else -1.0
    running = sum(1 for r in order if sign * r.current_w > 0)
    caps = [r.room(charging) for r in order]
    needed = next((k for k in range(1, len(order) + 1) if sum(caps[:k]) >= amount - 1e-9), len(order))
    count = needed
    if running > needed and amount > LEAVE_FRACTION * sum(caps[: running - 1]):
        count = running  # hysteresis: keep the running helper until the others have a margin
    floor = min(ACTIVE_FLOOR_W, amount / count)
    left = amount - floor * (count - 1)
    for index, room in enumerate(order[:count]):
        base = floor if index else 0.0
        take = min(room.room(charging) - base, left)
        shares[room.unit_id] = base + take
        left -= take
    return shares


@dataclass(frozen=True, slots=True)
class Allocation:
    """Setpoints per unit (W, charge positive) and which of them changed."""

    setpoints: dict[int, int]
    changed: tuple[int, ...]


def allocate(total_w: float, rooms: Sequence[UnitRoom], strategy: Strategy, *, tolerance_w: float = 0.0,
             min_change_w: float = 0.0) -> Allocation:
    """New setpoints for ``total_w``, changing as few units as the rules allow."""
    ideal = ideal_split(total_w, rooms, strategy)
    current = {r.unit_id: r.current_w for r in rooms}
    target_total = sum(ideal.values())
    candidate = _single_unit_change(target_total, rooms, ideal, tolerance_w) if strategy != "fewest_units" else None
    chosen = candidate if candidate is not None else _keep_small_changes(ideal, rooms, min_change_w)
    setpoints = _round_preserving_total(chosen)
    changed = tuple(uid for uid, w in setpoints.items() if w != round(current[uid]))
    return Allocation(setpoints, changed)


def _single_unit_change(total: float, rooms: Sequence[UnitRoom], ideal: Mapping[int, float],
                        tolerance_w: float) -> dict[int, float] | None:
    """Move one unit only, if that keeps every unit within ``tolerance_w`` of its share; else None."""
    if tolerance_w <= 0 or not all(r.holds(r.current_w) for r in rooms):
        return None
    current = {r.unit_id: r.current_w for r in rooms}
    if (total > 0 and any(w < 0 for w in current.values())) or (total < 0 and any(w > 0 for w in current.values())):
        return None  # never charge one unit while discharging another
    delta = total - sum(current.values())
    best: tuple[float, dict[int, float]] | None = None
    for room in rooms:
        moved = dict(current)
        moved[room.unit_id] += delta
        if not room.holds(moved[room.unit_id]):
            continue
        worst = max(abs(moved[uid] - ideal[uid]) for uid in moved)
        if worst <= tolerance_w and (best is None or worst < best[0]):
            best = (worst, moved)
    return best[1] if best else None


def _keep_small_changes(ideal: Mapping[int, float], rooms: Sequence[UnitRoom], min_change_w: float) -> dict[int, float]:
    """The ideal split, except that units whose share moved by less than ``min_change_w`` stay put.

    What they keep (or give up) goes to the unit that moves the most, so the total is unchanged.
    """
    out = dict(ideal)
    if min_change_w <= 0 or not rooms:
        return out
    kept = 0.0
    movers = []
    for room in rooms:
        uid = room.unit_id
        if abs(ideal[uid] - room.current_w) < min_change_w and room.holds(room.current_w):
            kept += room.current_w - ideal[uid]
            out[uid] = room.current_w
        else:
            movers.append(room)
    if not movers:
        return out
    mover = max(movers, key=lambda r: abs(ideal[r.unit_id] - r.current_w))
    out[mover.unit_id] = max(-mover.discharge_w, min(mover.charge_w, out[mover.unit_id] - kept))
    return out


def _round_preserving_total(shares: Mapping[int, float]) -> dict[int, int]:
    """Whole watts whose sum is the rounded sum of the shares."""
    rounded = {uid: round(w) for uid, w in shares.items()}
    error = round(sum(shares.values())) - sum(rounded.values())
    if error and rounded:
        uid = max(shares, key=lambda u: abs(shares[u]))
        rounded[uid] += error
    return rounded
