"""A plan's decisions in words, for the page, the log and Home Assistant.

Each slot's action is explained by the prices it weighs: a charge by what the energy will save later, a hold
by the dearer hours it keeps the energy for, an export by what it is paid or the negative price it makes room
for, a normal slot by zero export.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from smartsofar.plan.planner import Action, Plan, SlotPlan


def _hhmm(t: float, zone: tzinfo) -> str:
    return datetime.fromtimestamp(t, zone).strftime("%H:%M")


def _use(plan: Plan, after: int) -> SlotPlan | None:
    """The dearest later slot in which the plan discharges, before it charges again."""
    best: SlotPlan | None = None
    for slot in plan.slots[after + 1:]:
        if slot.action is Action.CHARGE:
            break
        if slot.action is Action.NORMAL and slot.energy_end_wh < slot.energy_start_wh - 1 and \
                (best is None or slot.import_price > best.import_price):
            best = slot
    return best


def explain(plan: Plan, index: int, zone: tzinfo, currency: str = "EUR") -> str:
    """Why slot ``index`` does what it does, in one sentence."""
    slot = plan.slots[index]
    first, last = plan.run_bounds(index)
    span = f"{_hhmm(plan.slots[first].start, zone)}-{_hhmm(plan.slots[last].end, zone)}"
    price = f"{slot.import_price:.3f} {currency}/kWh"
    use = _use(plan, last)
    later = (f"; it saves buying at {use.import_price:.3f} {currency}/kWh around {_hhmm(use.start, zone)}"
             if use else "")
    if slot.action is Action.CHARGE:
        target = max(s.soc_end_pct for s in plan.slots[first:last + 1])
        return f"{span}: charge from the grid at {slot.grid_charge_w:.0f} W to {target:.0f} % at {price}{later}"
    if slot.action is Action.HOLD:
        return f"{span}: hold, no discharging at {price}, keeping the energy for dearer hours{later}"
    if slot.action is Action.EXPORT:
        floor = min(s.soc_end_pct for s in plan.slots[first:last + 1])
        paid = f"paid {slot.export_price:.3f} {currency}/kWh" if slot.export_price > 0 else "paid nothing"
        room = next((s for s in plan.slots[last + 1:] if s.import_price < 0), None)
        why = f"; it makes room to import at {room.import_price:.3f} {currency}/kWh around {_hhmm(room.start, zone)}" \
            if room else ""
        return f"{span}: export from the batteries at {slot.export_w:.0f} W down to {floor:.0f} %, {paid}{why}"
    return f"{span}: zero export, discharging allowed ({price})"
