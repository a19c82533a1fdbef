"""The zero-latency oracle: the best any controller could do with the same units.

Every second it knows the house's exact power and sets the batteries to hold the target at once, within
the same limits the controller has (power, SoC bounds, efficiency). Its shortfall marks the seconds where
the units were *saturated*: nobody could have held the target then.
"""

from __future__ import annotations

from dataclasses import dataclass

from smartsofar.control.allocation import water_fill

SATURATION_MARGIN_W = 1.0


@dataclass(slots=True)
class OracleBattery:
    """One unit's battery as the oracle drives it."""

    soc_pct: float
    capacity_wh: float = 4800.0
    max_charge_w: float = 3000.0
    max_discharge_w: float = 3000.0
    floor_pct: float = 10.0
    ceiling_pct: float = 100.0
    efficiency: float = 0.95

    def room_w(self, charging: bool, seconds: float) -> float:
        """The most it can do for ``seconds`` without crossing its SoC bounds."""
        if charging:
            energy_ws = max(0.0, self.ceiling_pct - self.soc_pct) / 100 * self.capacity_wh * 3600
            return min(self.max_charge_w, energy_ws / self.efficiency / seconds)
        energy_ws = max(0.0, self.soc_pct - self.floor_pct) / 100 * self.capacity_wh * 3600
        return min(self.max_discharge_w, energy_ws * self.efficiency / seconds)

    def run(self, power_w: float, seconds: float) -> None:
        """Charge (> 0) or discharge (< 0) for ``seconds``."""
        energy_wh = power_w * seconds / 3600
        stored = energy_wh * self.efficiency if energy_wh >= 0 else energy_wh / self.efficiency
        self.soc_pct += 100 * stored / self.capacity_wh


class Oracle:
    """Holds the grid at the target with perfect knowledge and no delay."""

    def __init__(self, batteries: list[OracleBattery], target_w: float) -> None:
        self.batteries = batteries
        self.target_w = target_w

    def second(self, base_w: float) -> tuple[float, bool]:
        """One second with the house at ``base_w``: the grid power it leaves, and whether it was saturated."""
        wanted = self.target_w - base_w
        charging = wanted > 0
        caps = [b.room_w(charging, 1.0) for b in self.batteries]
        if sum(caps) <= abs(wanted):
            shares = caps
        else:
            filled = water_fill(abs(wanted), dict(enumerate(caps)), dict.fromkeys(range(len(caps)), 1.0))
            shares = [filled[i] for i in range(len(caps))]
        sign = 1.0 if charging else -1.0
        total = 0.0
        for battery, share in zip(self.batteries, shares, strict=True):
            battery.run(sign * share, 1.0)
            total += sign * share
        return base_w + total, abs(wanted - total) > SATURATION_MARGIN_W
