"""Checking a configuration against the hardware: does every configured unit and the meter answer?

``smartsofar config check FILE --probe`` runs it while wiring a site up. It only reads (running data and
identity of each unit, one meter sample) and never commands a unit. (On a USB adapter the service must be
stopped first: it holds the serial port locked.) A part that does not answer gets a
hint at the usual causes.
"""

from __future__ import annotations

from dataclasses import dataclass

from smartsofar.app import open_meter_client
from smartsofar.bus.client import Bus
from smartsofar.config import BusConfig, Config
from smartsofar.errors import BusUnavailableError, DeviceError, MeterAuthError, MeterError
from smartsofar.redact import redact_url
from smartsofar.sofar.unit import SofarUnit

UNIT_HINT = ("check the A/B wiring (swap A and B if no unit answers), the termination, and the slave id and "
             "baud rate in the inverter's menu")
METER_HINT = "check the meter's address, that it is on the network, and its password or token"


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One part of the site: whether it answered, and what it said (or what to check)."""

    part: str
    answered: bool
    detail: str

    def line(self) -> str:
        """One line for the terminal."""
        return f"  {'ok ' if self.answered else 'NO '} {self.part}: {self.detail}"


async def probe_site(config: Config) -> list[ProbeResult]:
    """Read every configured unit once, then the meter once."""
    results: list[ProbeResult] = []
    for bus_config in config.buses:
        results += await _probe_bus(bus_config)
    if config.meter is not None:
        results.append(await _probe_meter(config))
    return results


async def _probe_bus(bus_config: BusConfig) -> list[ProbeResult]:
    parts = [f"{u.label} (slave id {u.id} on {bus_config.url})" for u in bus_config.units]
    bus = Bus(bus_config.url, timeout_s=bus_config.timeout_s, retries=bus_config.retries)
    try:
        await bus.open()
    except BusUnavailableError as exc:
        return [ProbeResult(part, False, f"{exc}: is the adapter plugged in and free (not held by a running "
                             "SmartSofar), or the gateway's address right?")
                for part in parts]
    results = []
    try:
        for part, unit_config in zip(parts, bus_config.units, strict=True):
            unit = SofarUnit(bus, unit_config.id, unit_config.label)
            try:
                reading = await unit.read()
                info = await unit.read_info()
            except DeviceError as exc:
                results.append(ProbeResult(part, False, f"{exc}; {UNIT_HINT}"))
                continue
            faults = [f.label for f in (*reading.faults, *reading.battery_faults)]
            watts = reading.battery_w
            battery = f"charging {watts:.0f} W" if watts > 0 else f"discharging {-watts:.0f} W" if watts else "idle"
            detail = (f"serial {info.serial}, software {info.software_version}: {reading.running_state.words}, "
                      f"SoC {reading.soc_pct:.0f} %, battery {battery}")
            results.append(ProbeResult(part, True, detail + (f"; faults: {', '.join(faults)}" if faults else "")))
    finally:
        await bus.close()
    return results


async def _probe_meter(config: Config) -> ProbeResult:
    assert config.meter is not None
    part = f"meter at {redact_url(config.meter.url)}"
    try:
        meter = await open_meter_client(config)
        assert meter is not None
        try:
            sample = await meter.read()
        finally:
            await meter.aclose()
    except MeterAuthError as exc:
        return ProbeResult(part, False, f"{exc}; check meter.password (and meter.user for a 3EM Gen1)")
    except MeterError as exc:
        return ProbeResult(part, False, f"{exc}; {METER_HINT}")
    direction = "import" if sample.power_w >= 0 else "export"
    return ProbeResult(part, True, f"{meter.model}: grid {abs(sample.power_w):.0f} W {direction}")
