"""In-process peers for the accelerated simulation: a unit port and a grid meter built on a ``Plant``.

They stand where ``SofarUnit`` and a Shelly client stand in the service, so the engine runs unchanged.
Register values still go through the real encoding and decoding (``encode_running_data`` /
``decode_running_data``), and commands through ``SimUnit.apply``, the same code the Modbus simulator
serves. The meter reports what a Shelly reports: the grid power averaged over the last whole second,
plus noise.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from smartsofar.errors import MeterUnavailableError, NoResponseError
from smartsofar.link import LinkHealth
from smartsofar.meter.base import MeterOptions, MeterSample, PhaseSample
from smartsofar.sim.plant import Plant
from smartsofar.sofar.device_info import UnitInfo, UnitSettings, decode_info, decode_settings
from smartsofar.sofar.passive import PassiveCommand, StatusWord
from smartsofar.sofar.register_map import UnitReading, decode_running_data


class PlantUnitPort:
    """One simulated unit, reached without a bus. ``offline`` makes it silent."""

    def __init__(self, plant: Plant, unit_id: int) -> None:
        self.plant = plant
        self.unit_id = unit_id
        self.offline = False
        self.commands = 0  # accepted 0x42 writes

    @property
    def health(self) -> LinkHealth:
        """Offline while silenced, else ok."""
        return LinkHealth.OFFLINE if self.offline else LinkHealth.OK

    def _answer(self) -> float:
        if self.offline:
            raise NoResponseError(f"unit {self.unit_id}: no reply (simulated outage)")
        now = self.plant.now()
        self.plant.advance(now)
        return now

    async def read(self, retries: int | None = None) -> UnitReading:
        """The bulk read (no bus: ``retries`` does not apply)."""
        now = self._answer()
        return decode_running_data(self.plant.unit_registers(self.unit_id, now))

    async def read_power(self) -> float:
        """0x020D alone, at its 10 W resolution."""
        now = self._answer()
        return float(round(self.plant.units[self.unit_id].reported_power_w(now) / 10) * 10)

    async def read_settings(self) -> UnitSettings:
        """The settings block."""
        self._answer()
        return decode_settings(self.plant.unit_settings(self.unit_id))

    async def read_info(self) -> UnitInfo:
        """The identity block."""
        self._answer()
        return decode_info(self.plant.unit_info(self.unit_id))

    async def command(self, command: PassiveCommand) -> StatusWord:
        """A 0x42 write."""
        now = self._answer()
        status = self.plant.units[self.unit_id].apply(command, now)
        self.commands += status.accepted
        return status

    async def heartbeat(self) -> bool:
        """A 0x49 keep-alive."""
        now = self._answer()
        self.plant.units[self.unit_id].heartbeat(now)
        return True


@dataclass(slots=True)
class SecondMeter:
    """A Shelly-like meter: each whole second it publishes the grid power averaged over that second."""

    noise_w: float = 5.0
    seed: int = 11
    options: MeterOptions = field(default_factory=MeterOptions)
    model: str = "simulated meter"
    clock: Callable[[], float] | None = None  # given: each read is timed by its arrival, as real clients do
    lag_s: float | None = None  # what its samples say of their age: a meter that pushes as it measures
    silent: bool = False  # fault: no answer at all
    frozen: bool = False  # fault: the same values every second, with fresh timestamps
    _sample: MeterSample | None = None
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def publish(self, mean_grid_w: float, at: float) -> None:
        """The meter finished averaging the second that ends at ``at``."""
        if self.frozen and self._sample is not None:
            self._sample = dataclasses.replace(self._sample, taken_at=at)
            return
        value = round(mean_grid_w + self._rng.uniform(-self.noise_w, self.noise_w), 1)
        if self.options.invert:
            value = -value
        self._sample = MeterSample(value, value, (PhaseSample(value),), at, lag_s=self.lag_s)

    async def read(self) -> MeterSample:
        """The latest published value (what an HTTP poll would get)."""
        if self.silent or self._sample is None:
            raise MeterUnavailableError("simulated meter: no answer")
        return self._sample if self.clock is None else dataclasses.replace(self._sample, taken_at=self.clock())

    async def aclose(self) -> None:
        """Nothing to close."""
