"""Safety rules: when a unit may move power, how far, and what a silent meter means.

- A unit is **unavailable** while its link is offline, while it reports a fault, while it refuses commands
  because it is not in Passive mode (retried now and then), and before its first reading.
- Its **room** (how much it may charge or discharge now) is its configured limit, cut to zero by the
  battery-full / battery-flat flags of its last status word, by the SoC limits (with 2 % hysteresis, so a
  unit at its limit does not flap), by auto mode's charge/discharge permissions, and cut down to what it
  showed it can deliver when it fell short.
- Auto mode follows the meter: a sample older than the meter's stale limit is never used (hold what was
  sent), and a meter silent for ``meter_standby_after_s`` sends every unit to standby until it is back.
  Manual mode does not need the meter, unless grid limits are configured: they cannot be kept without it.

Pure: values in, decisions out.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from smartsofar.config import ControlConfig, UnitConfig
from smartsofar.control.allocation import UnitRoom
from smartsofar.link import LinkHealth

SOC_HYSTERESIS_PCT = 2.0


class MeterVerdict(StrEnum):
    """What the controller may do with the meter as it is."""

    USE = "use"  # a fresh sample: control on it
    HOLD = "hold"  # stale: keep what was sent, decide nothing new
    STANDBY = "standby"  # silent too long: every unit to standby


def meter_verdict(sample_age_s: float | None, stale_after_s: float, standby_after_s: float) -> MeterVerdict:
    """The verdict for a sample of this age (None: no sample at all, or a frozen meter)."""
    if sample_age_s is None or sample_age_s > standby_after_s:
        return MeterVerdict.STANDBY
    if sample_age_s > stale_after_s:
        return MeterVerdict.HOLD
    return MeterVerdict.USE


class SocGates(NamedTuple):
    """Whether the SoC limits stop charging or discharging (remembered for hysteresis)."""

    charge_stopped: bool = False
    discharge_stopped: bool = False


def soc_gates(previous: SocGates, soc_pct: float | None, unit: UnitConfig, *, auto: bool) -> SocGates:
    """Apply the SoC limits to a new reading. Auto mode keeps the reserve; manual may use it."""
    if soc_pct is None:
        return previous
    floor = unit.reserve_soc_pct if auto else unit.min_soc_pct
    ceiling = unit.max_soc_pct
    # A limit at 0 % or 100 % is the battery's own: its full / flat flags enforce it exactly.
    charge_stopped = ceiling < 100 and (
        soc_pct >= ceiling or (previous.charge_stopped and soc_pct > ceiling - SOC_HYSTERESIS_PCT))
    discharge_stopped = floor > 0 and (
        soc_pct <= floor or (previous.discharge_stopped and soc_pct < floor + SOC_HYSTERESIS_PCT))
    if charge_stopped == previous.charge_stopped and discharge_stopped == previous.discharge_stopped:
        return previous
    return SocGates(charge_stopped, discharge_stopped)


class UnitCondition(NamedTuple):
    """What the engine knows about one unit now: the input to ``unit_room``."""

    unit: UnitConfig
    link: LinkHealth
    has_reading: bool
    in_fault: bool
    passive_refused: bool  # its last command was refused: not in Passive mode
    battery_full: bool  # flags of its last status word (while they still apply)
    battery_flat: bool
    gates: SocGates
    charge_cap_w: float | None = None  # learned: it delivered no more than this recently
    discharge_cap_w: float | None = None
    soc_pct: float | None = None


def unavailable_reason(cond: UnitCondition) -> str | None:
    """Why a unit cannot be used now, in words; None when it can."""
    if cond.link is LinkHealth.OFFLINE:
        return "offline: no answer on the bus"
    if not cond.has_reading:
        return "not read yet"
    if cond.in_fault:
        return "in fault"
    if cond.passive_refused:
        return "not in Passive mode: select Passive mode on the inverter's screen"
    return None


def unit_room(cond: UnitCondition, current_w: float, *, allow_charge: bool = True,
              allow_discharge: bool = True) -> UnitRoom | None:
    """How much one unit may charge and discharge now; None when it is unavailable."""
    if unavailable_reason(cond) is not None:
        return None
    unit = cond.unit
    charge = float(unit.max_charge_w)
    discharge = float(unit.max_discharge_w)
    if not allow_charge or cond.battery_full or cond.gates.charge_stopped:
        charge = 0.0
    if not allow_discharge or cond.battery_flat or cond.gates.discharge_stopped:
        discharge = 0.0
    if cond.charge_cap_w is not None:
        charge = min(charge, cond.charge_cap_w)
    if cond.discharge_cap_w is not None:
        discharge = min(discharge, cond.discharge_cap_w)
    return UnitRoom(unit.id, charge, discharge, current_w, cond.soc_pct, unit.min_soc_pct, unit.max_soc_pct,
                    unit.capacity_wh)


def grid_limits(base_w: float | None, config: ControlConfig) -> tuple[float, float]:
    """The battery total range the grid limits allow, given the house's own power (import +).

    Charging never pushes import above ``grid_import_limit_w``; discharging never pushes export above
    ``grid_export_limit_w``. Without a base (no meter) only an unlimited range can be given.
    """
    low, high = float("-inf"), float("inf")
    if base_w is None:
        return low, high
    if config.grid_import_limit_w is not None:
        high = max(0.0, config.grid_import_limit_w - base_w)
    if config.grid_export_limit_w is not None:
        low = min(0.0, -config.grid_export_limit_w - base_w)
    return low, high
