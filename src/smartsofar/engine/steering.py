"""Who steers auto mode besides zero export, and what they ask: another system (evcc, Home Assistant, Predbat)
through the battery mode API, the user's ``[[schedule]]`` entries, and the day-ahead plan, in that order.

An external battery mode is a lease: it lapses to normal after ``lease_s`` (60 s, as evcc's external battery
control does) unless it is renewed, so a controller that dies never leaves the batteries held or charging.
A plan's slot lapses at its end; a plan that is not renewed runs out. Whatever is asked, the engine's safety
rules still apply: a silent meter puts every unit in standby, the reserve and the SoC limits hold.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import tzinfo

from smartsofar.config_tariff import ScheduleEntry
from smartsofar.control.intent import EXTERNAL_LEASE_S, NORMAL, BatteryIntent, BatteryMode
from smartsofar.errors import InvalidInputError
from smartsofar.plan.explain import explain
from smartsofar.plan.planner import Action, Plan
from smartsofar.plan.schedule import active_entry

MAX_LEASE_S = 3600.0


@dataclass(frozen=True, slots=True)
class ExternalMode:
    """A battery mode another system asked for, and when it lapses."""

    mode: BatteryMode
    expires_at: float
    charge_w: float | None
    soc_pct: float | None
    who: str


class Steering:
    """The intents on offer, and the one in force."""

    def __init__(self, schedule: Sequence[ScheduleEntry], zone: tzinfo, *, grid_charge_w: Callable[[], float],
                 export_w: Callable[[], float] = lambda: 0.0, currency: str = "EUR",
                 clock: Callable[[], float] = time.time) -> None:
        self.schedule = list(schedule)
        self.zone = zone
        self.currency = currency
        self.grid_charge_w = grid_charge_w  # the most the grid may charge at now (units' power, import limit)
        self.export_w = export_w  # the most the batteries may export at now (units' power, export limit)
        self.clock = clock
        self.external: ExternalMode | None = None
        self.plan: Plan | None = None
        # the last slot's intent, worded once, and the charge and export powers it was worded with
        self._plan_intent: tuple[Plan, int, tuple[float, float], BatteryIntent] | None = None

    def request(self, mode: BatteryMode, *, lease_s: float = EXTERNAL_LEASE_S, charge_w: float | None = None,
                soc_pct: float | None = None, who: str = "external") -> ExternalMode | None:
        """Another system's battery mode, for ``lease_s``; normal ends the request. ``charge_w`` is the power of a
        charge or an export, ``soc_pct`` the SoC a charge stops at or an export goes down to (none: the reserve).
        InvalidInputError on bad values."""
        if not 1 <= lease_s <= MAX_LEASE_S:
            raise InvalidInputError(f"a battery mode lasts 1..{MAX_LEASE_S:.0f} s, got {lease_s}")
        if charge_w is not None and not 0 <= charge_w <= 100_000:
            raise InvalidInputError(f"charge or export power must be 0..100000 W, got {charge_w}")
        if soc_pct is not None and not 0 <= soc_pct <= 100:
            raise InvalidInputError(f"SoC must be 0..100 %, got {soc_pct}")
        if mode is BatteryMode.NORMAL:
            self.external = None
            return None
        self.external = ExternalMode(mode, self.clock() + lease_s, charge_w, soc_pct, who)
        return self.external

    def external_at(self, now: float) -> ExternalMode | None:
        """The external mode still in force at ``now``."""
        if self.external is not None and now >= self.external.expires_at:
            self.external = None  # lapsed: back to normal
        return self.external

    def __call__(self, now: float, soc_pct: float | None) -> BatteryIntent:
        """The intent in force at wall-clock ``now``."""
        external = self.external_at(now)
        if external is not None:
            return self._asked(external.mode, external.charge_w, external.soc_pct, "external",
                               f"asked by {external.who}", external.expires_at)
        entry = active_entry(self.schedule, now, self.zone) if self.schedule else None
        if entry is not None:
            item, ends = entry
            return self._asked(item.mode, None if item.power_w is None else float(item.power_w), item.soc_pct,
                               "schedule", f"schedule: {item.label()}", ends)
        return self._from_plan(now)

    def _asked(self, mode: BatteryMode, power_w: float | None, soc_pct: float | None, source: str, reason: str,
               ends: float | None) -> BatteryIntent:
        """An intent someone asked for: a charge within the grid-charge power, an export within the units' discharge
        power and the grid export limit."""
        if mode is BatteryMode.CHARGE:
            most = self.grid_charge_w()
            return BatteryIntent(mode, most if power_w is None else min(most, power_w), soc_pct, source, reason, ends)
        if mode is BatteryMode.EXPORT:
            most = self.export_w()
            if most <= 0:  # the grid export limit (or the units) allow none: say so rather than show an export
                return BatteryIntent(BatteryMode.NORMAL, 0.0, None, source,
                                     f"{reason}: export, but the grid export limit allows none; zero export", ends)
            return BatteryIntent(mode, 0.0, soc_pct, source, reason, ends,
                                 export_w=most if power_w is None else min(most, power_w))
        return BatteryIntent(mode, 0.0, None, source, reason, ends)

    def _from_plan(self, now: float) -> BatteryIntent:
        plan = self.plan
        if plan is None:
            return NORMAL
        cached = self._plan_intent
        if cached is not None and cached[0] is plan and plan.slots[cached[1]].start <= now < plan.slots[cached[1]].end \
                and cached[2] == (self.grid_charge_w(), self.export_w()):
            return cached[3]
        index = plan.index_at(now)
        if index is None:
            return NORMAL
        intent = self._slot_intent(plan, index)
        self._plan_intent = (plan, index, (self.grid_charge_w(), self.export_w()), intent)
        return intent

    def _slot_intent(self, plan: Plan, index: int) -> BatteryIntent:
        slot = plan.slots[index]
        reason = explain(plan, index, self.zone, self.currency)
        if slot.action is Action.HOLD:
            return BatteryIntent(BatteryMode.HOLD, 0.0, None, "plan", reason, slot.end)
        _, last = plan.run_bounds(index)
        socs = [s.soc_end_pct for s in plan.slots[index:last + 1]]  # the rest of this action's run
        if slot.action is Action.CHARGE:
            return BatteryIntent(BatteryMode.CHARGE, min(self.grid_charge_w(), slot.grid_charge_w), max(socs), "plan",
                                 reason, slot.end)
        if slot.action is Action.EXPORT:
            return BatteryIntent(BatteryMode.EXPORT, 0.0, min(socs), "plan", reason, slot.end,
                                 export_w=min(self.export_w(), slot.export_w))
        return BatteryIntent(BatteryMode.NORMAL, 0.0, None, "plan", reason, slot.end)
