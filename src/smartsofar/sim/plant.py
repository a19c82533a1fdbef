"""A whole simulated site: a household, its PV, and the battery units, on one clock.

The Modbus simulator and the Shelly simulator serve views of one ``Plant``; the accelerated control
simulation drives the same class with its own clock. Grid power is import positive:
``grid = load - pv + sum(battery power)``. One phase model serves both: the load split 50/30/20 % on
phases A/B/C, PV on A, unit N on phase ``(N - 1) % 3``, and each phase's voltage sagging with its load.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping

from smartsofar.sim.battery import BatterySpec, SimUnit
from smartsofar.sim.household import DAY_S, ConstantHousehold, Household
from smartsofar.sofar.device_info import UnitInfo, encode_info, encode_settings
from smartsofar.sofar.register_map import encode_running_data

LOAD_SPLIT = (0.5, 0.3, 0.2)  # the house load's share on phases A, B, C


def phase_of(unit_id: int) -> int:
    """The phase (0 = A) unit ``unit_id`` is connected to."""
    return (unit_id - 1) % 3


def phase_voltage(phase: int, import_w: float) -> float:
    """A phase's voltage, V: 230 V plus a little per phase, sagging 0.5 V per kW drawn."""
    return 230.0 + phase * 0.7 - import_w / 2000

Clock = Callable[[], float]


class Plant:
    """Household + units, advanced lazily to the clock's time whenever someone looks."""

    def __init__(self, household: Household | None = None, unit_ids: Iterable[int] = (1,), *,
                 spec: BatterySpec | None = None, soc_pct: float = 50.0, clock: Clock = time.monotonic,
                 day_start_s: float = 12 * 3600, speed: float = 1.0,
                 specs: Mapping[int, BatterySpec] | None = None) -> None:
        """``specs`` gives some units their own spec (a slower unit, say); the others get ``spec``."""
        self.household: Household = household or ConstantHousehold()
        specs = specs or {}
        self.units: dict[int, SimUnit] = {uid: SimUnit(specs.get(uid) or spec or BatterySpec(), soc_pct)
                                          for uid in unit_ids}
        self.clock = clock
        self.speed = speed
        self._t0 = clock()
        self._day_start_s = day_start_s
        self._last_grid_w = 0.0
        self._advanced_to: float | None = None

    def now(self) -> float:
        """The plant's current time (clock seconds)."""
        return self.clock()

    def second_of_day(self, now: float) -> float:
        """Household time of day at clock time ``now`` (the day may run ``speed`` times faster)."""
        period = getattr(self.household, "period_s", DAY_S)  # a second series need not be a day
        return (self._day_start_s + (now - self._t0) * self.speed) % period

    def advance(self, now: float | None = None) -> float:
        """Bring every unit to ``now``; return the grid power then (W, import positive)."""
        now = self.now() if now is None else now
        if now == self._advanced_to:
            return self._last_grid_w
        self._advanced_to = now
        sod = self.second_of_day(now)
        base = self.household.load_w(sod) - self.household.pv_w(sod)
        for unit in self.units.values():
            unit.advance(now, self._last_grid_w)
        self._last_grid_w = base + sum(u.power_w for u in self.units.values())
        return self._last_grid_w

    def load_w(self, now: float) -> float:
        """House load now."""
        return self.household.load_w(self.second_of_day(now))

    def pv_w(self, now: float) -> float:
        """PV now."""
        return self.household.pv_w(self.second_of_day(now))

    def phase_powers(self, now: float) -> list[float]:
        """The grid connection's power per phase (A, B, C), import positive: the house load split
        ``LOAD_SPLIT``, PV on A, each unit on ``phase_of(unit_id)``."""
        load = self.load_w(now)
        powers = [load * share for share in LOAD_SPLIT]
        powers[0] -= self.pv_w(now)
        for uid, unit in self.units.items():
            powers[phase_of(uid)] += unit.power_w
        return powers

    def unit_registers(self, unit_id: int, now: float) -> list[int]:
        """The 86 registers 0x0200..0x0255 unit ``unit_id`` serves now."""
        grid = self.advance(now)
        unit = self.units[unit_id]
        load = self.load_w(now)
        pv = self.pv_w(now)
        reported = unit.reported_power_w(now)
        volts = phase_voltage(phase_of(unit_id), -reported)
        values: dict[str, float] = {
            "running_state": unit.running_state(now),
            "fault_word_1": unit.fault_word_1,
            "grid_a_v": volts, "grid_b_v": 0, "grid_c_v": 0,
            "grid_a_a": -reported / volts,
            "grid_hz": 50.0,
            "battery_w": reported,
            "battery_a": reported / unit.battery_v,
            "soc_pct": round(unit.soc_pct),
            "battery_temp_c": round(unit.battery_temp_c),
            "grid_feed_w": -grid,
            "load_w": max(0.0, load),
            "inverter_w": -reported,
            "pv_w": max(0.0, pv),
            "pv_today_wh": 0.0,
            "export_today_wh": 0.0,
            "import_today_wh": 0.0,
            "load_today_wh": 0.0,
            "battery_cycles": unit.cycles,
            "inverter_temp_c": round(unit.inverter_temp_c),
            "heatsink_temp_c": round(unit.inverter_temp_c - 3),
            "country_code": 11,
            "grid_r_v": volts, "grid_r_a": abs(reported) / volts,
        }
        registers = encode_running_data(values)
        registers[0x020E - 0x0200] = round(unit.battery_v * 100)  # field firmware: 0.01 V
        return registers

    def unit_settings(self, unit_id: int) -> list[int]:
        """The 13 settings registers at 0x10B0."""
        spec = self.units[unit_id].spec
        return encode_settings({
            "battery_type": 1, "battery_capacity_ah": round(spec.capacity_wh / 51.2),
            "max_charge_v": 53.2, "max_charge_a": spec.max_charge_w / 51.2,
            "over_voltage_protection_v": 54.0, "min_discharge_v": 47.0,
            "max_discharge_a": spec.max_discharge_w / 51.2, "under_voltage_protection_v": 46.0,
            "depth_of_discharge_pct": 100 - spec.min_soc_pct, "empty_battery_v": 46.5, "full_battery_v": 53.5,
        })

    @staticmethod
    def unit_info(unit_id: int) -> list[int]:
        """The 16 identity registers at 0x2000."""
        return encode_info(UnitInfo(production_code=0x0A01, serial=f"SE1ES0SIM2B1{unit_id:02d}",
                                    software_version="V140", hardware_version="V100"))
