"""The planner: over the next 24-36 h, when to charge from the grid (to which SoC, at which power), when to
hold the battery's energy for dearer hours, when to let zero-export discharge it, and (where the site allows it)
when to export from it.

The batteries are planned as one bank (the units' capacities and powers summed; the reserve and maximum
SoC as energies). Each slot takes one of four actions, which are what the inner loop can be told:

- ``normal``: zero export as always; the bank covers the house's draw and takes its surplus.
- ``hold``: the bank takes the surplus but does not discharge, keeping its energy for later.
- ``charge``: the bank also charges from the grid, at a fraction of the grid-charge power.
- ``export``: the bank discharges at a fraction of the export power even beyond the house's draw, the rest going
  into the grid. Offered only where the site allows it (``grid_export_w``) and some slot can pay for it: a
  feed-in price above nothing, or an import price below nothing, which pays to import into a bank emptied
  beforehand.

A dynamic programme over the bank's energy (``LEVELS`` steps) finds the cheapest run of actions given the
import and feed-in prices and the forecast (``plan.forecast``); the energy left at the end is valued at the
horizon's cheapest import price, discharged: a plan can neither look cheap by emptying the bank nor buy energy
only to end fuller. The programme's choices, one per slot and energy level, are a ``Policy``: ``plan`` follows it
from the bank's energy now, and ``walk`` can follow it with grid charging stopped at a lower energy
(``grid_top_wh``), which is how ``plan.hedge`` keeps the charge to what the house will most likely use.

Hours at the same price make many plans cost the same: charge at full power in the last hour, or at a quarter
of it all night. A cost too small to outweigh any price difference (``GENTLE``) picks the gentle one: the
batteries charge at the lowest power that gets there, spread over the cheap hours. Pure and deterministic: the
same inputs give the same plan.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from smartsofar.plan.forecast import SlotForecast

LEVELS = 60  # the bank's energy is planned in this many steps
CHARGE_FRACTIONS = (0.25, 0.5, 0.75, 1.0)  # grid-charge powers tried, of the most allowed
EPSILON = 1e-9
GENTLE = 1e-6  # per slot, times the charge fraction squared: of equal plans, the one that charges gently and evenly


class Action(StrEnum):
    """What a slot does."""

    NORMAL = "normal"
    HOLD = "hold"
    CHARGE = "charge"
    EXPORT = "export"


@dataclass(frozen=True, slots=True)
class Bank:
    """The batteries as one: energies in Wh, powers in W (AC), one-way efficiencies."""

    capacity_wh: float
    energy_wh: float  # now
    floor_wh: float  # the reserve: never planned below
    ceiling_wh: float  # the maximum SoC
    max_charge_w: float
    max_discharge_w: float
    grid_charge_w: float  # the most the grid may charge at (0: no grid charging)
    grid_export_w: float = 0.0  # the most the bank may discharge at to export (0: never beyond the house's draw)
    charge_efficiency: float = 0.95
    discharge_efficiency: float = 0.95
    allow_discharge: bool = True

    def soc_pct(self, energy_wh: float) -> float:
        """Energy as a state of charge."""
        return 100.0 * energy_wh / self.capacity_wh if self.capacity_wh else 0.0


@dataclass(frozen=True, slots=True)
class PlanInput:
    """One slot to plan: its prices per kWh and the house's forecast."""

    forecast: SlotForecast
    import_price: float
    export_price: float
    estimated: bool = False  # the prices are a guess (not yet published)

    @property
    def start(self) -> float:
        return self.forecast.start

    @property
    def end(self) -> float:
        return self.forecast.end


@dataclass(frozen=True, slots=True)
class SlotPlan:
    """What one slot does and what is expected of it."""

    start: float
    end: float
    action: Action
    grid_charge_w: float  # the grid-charge power, when charging
    energy_start_wh: float
    energy_end_wh: float
    soc_end_pct: float
    import_wh: float
    export_wh: float
    import_price: float
    export_price: float
    estimated: bool
    export_w: float = 0.0  # the battery total's discharge power, when exporting

    @property
    def cost(self) -> float:
        """Expected cost of the slot."""
        return (self.import_wh * self.import_price - self.export_wh * self.export_price) / 1000


@dataclass(frozen=True, slots=True)
class Plan:
    """A plan: its slots, when it was made, and what it expects to cost against zero export alone."""

    made_at: float
    slots: tuple[SlotPlan, ...]
    expected_cost: float
    zero_export_cost: float
    end_value_per_kwh: float
    notes: tuple[str, ...] = field(default=())
    capacity_wh: float = 0.0  # the bank's, for comparing the plan with the SoC
    hedge: str | None = None  # why grid charging stops lower than the average day would want (``plan.hedge``)

    def index_at(self, t: float) -> int | None:
        """The index of the slot in force at ``t``."""
        i = bisect.bisect_right([s.start for s in self.slots], t) - 1
        return i if i >= 0 and t < self.slots[i].end else None

    def run_bounds(self, index: int) -> tuple[int, int]:
        """The first and last index of the run of slots that share slot ``index``'s action."""
        action = self.slots[index].action
        first = last = index
        while first > 0 and self.slots[first - 1].action is action:
            first -= 1
        while last + 1 < len(self.slots) and self.slots[last + 1].action is action:
            last += 1
        return first, last

    def slot_at(self, t: float) -> SlotPlan | None:
        """The slot in force at ``t``."""
        i = self.index_at(t)
        return None if i is None else self.slots[i]

    def departed(self, t: float, soc_pct: float | None, limit_pct: float) -> bool:
        """True when the SoC at ``t`` is more than ``limit_pct`` from what the plan expected (or the plan has run
        out): time to plan again."""
        slot = self.slot_at(t)
        if slot is None:
            return True
        if soc_pct is None:
            return False
        share = (t - slot.start) / (slot.end - slot.start)
        expected = slot.energy_start_wh + (slot.energy_end_wh - slot.energy_start_wh) * share
        return bool(self.capacity_wh) and abs(soc_pct - 100 * expected / self.capacity_wh) > limit_pct

    @property
    def until(self) -> float:
        """When the plan runs out."""
        return self.slots[-1].end if self.slots else self.made_at


def step(bank: Bank, energy: float, slot: PlanInput, action: Action, fraction: float,
         grid_top_wh: float = math.inf) -> tuple[float, float, float]:
    """(energy at the end, import Wh, export Wh) of one slot from ``energy`` with ``action`` (and its fraction of
    the grid-charge or export power); the grid charges no further than ``grid_top_wh``."""
    hours = (slot.end - slot.start) / 3600
    need, surplus = slot.forecast.need_wh, slot.forecast.surplus_wh
    room_in = max(0.0, bank.ceiling_wh - energy) / bank.charge_efficiency  # AC Wh it can still take
    room_out = max(0.0, energy - bank.floor_wh) * bank.discharge_efficiency  # AC Wh it can still give
    grid_charge = fraction * bank.grid_charge_w * hours if action is Action.CHARGE else 0.0
    if grid_charge and grid_top_wh < bank.ceiling_wh:  # the grid tops up what the surplus leaves, to the top
        grid_charge = min(grid_charge, max(0.0, (grid_top_wh - energy) / bank.charge_efficiency - surplus))
    charge = 0.0 if action is Action.EXPORT else min(bank.max_charge_w * hours, room_in, surplus + grid_charge)
    discharge = 0.0
    if action in (Action.NORMAL, Action.EXPORT) and bank.allow_discharge:
        wanted = max(need, fraction * bank.grid_export_w * hours) if action is Action.EXPORT else need
        discharge = min(bank.max_discharge_w * hours, room_out + charge * bank.charge_efficiency
                        * bank.discharge_efficiency, wanted)
    from_surplus = min(charge, surplus)
    imported = need - min(discharge, need) + (charge - from_surplus)
    exported = surplus - from_surplus + max(0.0, discharge - need)
    end = energy + charge * bank.charge_efficiency - discharge / bank.discharge_efficiency
    return min(bank.ceiling_wh, max(bank.floor_wh, end)), imported, exported


def _options(bank: Bank, slots: Sequence[PlanInput]) -> list[tuple[Action, float]]:
    options = [(Action.NORMAL, 0.0), (Action.HOLD, 0.0)]
    if bank.grid_charge_w > 0:
        options += [(Action.CHARGE, f) for f in CHARGE_FRACTIONS]
    if bank.grid_export_w > 0 and bank.allow_discharge and any(
            s.export_price > 0 or s.import_price < 0 for s in slots):  # else exporting stored energy never pays
        options += [(Action.EXPORT, f) for f in CHARGE_FRACTIONS]
    return options


@dataclass(frozen=True, slots=True)
class Policy:
    """The programme's choice in each slot at each of its energy levels, and the value of energy left at the end."""

    choices: list[list[tuple[Action, float]]]
    levels: list[float]
    step: float
    end_value_per_kwh: float

    def choice(self, slot_index: int, energy: float) -> tuple[Action, float]:
        """The action and grid-charge fraction at the level nearest ``energy``."""
        index = round((energy - self.levels[0]) / self.step) if self.step else 0
        return self.choices[slot_index][max(0, min(len(self.levels) - 1, index))]


def plan(bank: Bank, slots: Sequence[PlanInput], now: float) -> Plan:
    """The cheapest run of actions over ``slots`` from the bank's energy now."""
    if not slots:
        return Plan(now, (), 0.0, 0.0, 0.0, ("no prices to plan with",))
    return walk(bank, slots, solve(bank, slots), now)


def solve(bank: Bank, slots: Sequence[PlanInput], end_value_per_kwh: float | None = None) -> Policy:
    """The dynamic programme over ``slots`` (at least one). ``end_value_per_kwh``: what a kWh left in the bank at
    the end is worth (default: the horizon's cheapest import price, discharged, as below)."""
    low, high = bank.floor_wh, max(bank.floor_wh, bank.ceiling_wh)
    spacing = (high - low) / LEVELS if high > low else 0.0
    levels = [low + i * spacing for i in range(LEVELS + 1)] if spacing else [low]
    # Energy left at the end is worth the cheapest import it can replace: never more than it costs to buy, so the
    # plan never charges from the grid only to end fuller, and never empties the bank at a loss either.
    end_value = max(0.0, min(s.import_price for s in slots)) * bank.discharge_efficiency / 1000  # per Wh
    if end_value_per_kwh is not None:
        end_value = end_value_per_kwh / 1000
    options = _options(bank, slots)

    def value_at(values: list[float], energy: float) -> float:
        if not spacing:
            return values[0]
        x = min(LEVELS, max(0.0, (energy - low) / spacing))
        i = min(LEVELS - 1, int(x))
        return values[i] + (values[i + 1] - values[i]) * (x - i)

    future = [-end_value * (e - low) for e in levels]
    choices: list[list[tuple[Action, float]]] = []
    for slot in reversed(slots):
        best_values, best_choices = [], []
        for energy in levels:
            best, best_choice = math.inf, options[0]
            for action, fraction in options:
                end, imported, exported = step(bank, energy, slot, action, fraction)
                cost = (imported * slot.import_price - exported * slot.export_price) / 1000 + value_at(future, end) \
                    + GENTLE * fraction * fraction
                if cost < best - EPSILON:  # ties go to the earlier option: normal, hold, less charge, less export
                    best, best_choice = cost, (action, fraction)
            best_values.append(best)
            best_choices.append(best_choice)
        future = best_values
        choices.append(best_choices)
    choices.reverse()
    return Policy(choices, levels, spacing, end_value * 1000)


def walk(bank: Bank, slots: Sequence[PlanInput], policy: Policy, now: float, grid_top_wh: float = math.inf,
         hedge: str | None = None) -> Plan:
    """Follow the policy forward from the bank's real energy, the grid charging no further than ``grid_top_wh``."""
    energy = min(bank.ceiling_wh, max(bank.floor_wh, bank.energy_wh))
    ze_energy = energy
    end_value_per_kwh = policy.end_value_per_kwh
    planned: list[SlotPlan] = []
    cost = ze_cost = 0.0
    for i, slot in enumerate(slots):
        action, fraction = policy.choice(i, energy)
        end, imported, exported = step(bank, energy, slot, action, fraction, grid_top_wh)
        if action is Action.CHARGE and end <= energy + EPSILON and grid_top_wh < math.inf:
            action = Action.HOLD  # at the top already: what is left of the charge is holding
        planned.append(SlotPlan(slot.start, slot.end, action, fraction * bank.grid_charge_w if
                                action is Action.CHARGE else 0.0, energy, end, bank.soc_pct(end), imported, exported,
                                slot.import_price, slot.export_price, slot.estimated,
                                fraction * bank.grid_export_w if action is Action.EXPORT else 0.0))
        cost += (imported * slot.import_price - exported * slot.export_price) / 1000
        ze_end, ze_in, ze_out = step(bank, ze_energy, slot, Action.NORMAL, 0.0)
        ze_cost += (ze_in * slot.import_price - ze_out * slot.export_price) / 1000
        energy, ze_energy = end, ze_end
    cost -= end_value_per_kwh * (energy - bank.energy_wh) / 1000
    ze_cost -= end_value_per_kwh * (ze_energy - bank.energy_wh) / 1000
    return Plan(now, tuple(planned), round(cost, 4), round(ze_cost, 4), round(end_value_per_kwh, 5),
                capacity_wh=bank.capacity_wh, hedge=hedge)


def policy_cost(bank: Bank, slots: Sequence[PlanInput], policy: Policy, grid_top_wh: float = math.inf) -> float:
    """What following the policy costs over ``slots`` (energy left at the end valued as the programme values it)."""
    energy = start = min(bank.ceiling_wh, max(bank.floor_wh, bank.energy_wh))
    cost = 0.0
    for i, slot in enumerate(slots):
        action, fraction = policy.choice(i, energy)
        energy, imported, exported = step(bank, energy, slot, action, fraction, grid_top_wh)
        cost += (imported * slot.import_price - exported * slot.export_price) / 1000
    return cost - policy.end_value_per_kwh * (energy - start) / 1000
