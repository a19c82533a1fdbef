"""The composition root: a validated ``Config`` in, the running service's parts out.

``build_engine`` wires the lower layers into the engine (buses -> units -> site; meter client -> poller),
each passed in to the one above it. Nothing here decides anything; nothing elsewhere builds these parts.
A bus or a meter that cannot be reached at start does not stop the service: its units (or the meter)
show as unavailable and are retried.
"""

from __future__ import annotations

import logging
from pathlib import Path

from smartsofar.bus.client import Bus
from smartsofar.config import Config
from smartsofar.engine.commands import SiteCommands
from smartsofar.engine.facade import Engine
from smartsofar.engine.monitor import UnitMonitor
from smartsofar.engine.runner import EngineRunner
from smartsofar.engine.site import Broadcast, Site
from smartsofar.engine.units import UnitRuntime
from smartsofar.errors import BusUnavailableError
from smartsofar.meter.base import Meter
from smartsofar.meter.poller import MeterPoller
from smartsofar.meter.sources import open_meter_source
from smartsofar.modes import ModeState
from smartsofar.plan.service import Planning
from smartsofar.sofar.heartbeat import BroadcastHeartbeat
from smartsofar.sofar.unit import SofarUnit
from smartsofar.storage.response_store import ResponseStore
from smartsofar.storage.state_store import StateStore

log = logging.getLogger(__name__)


def first_start_state(config: Config) -> ModeState:
    """The operating state before anything was saved: from ``[control]``."""
    control = config.control
    return ModeState(control.mode, target_w=control.target_w, allow_charge=control.allow_charge,
                     allow_discharge=control.allow_discharge)


async def open_meter_client(config: Config) -> Meter | None:
    """The configured meter's client, by its type (``meter.registry``)."""
    return None if config.meter is None else await open_meter_source(config.meter)


async def build_engine(config: Config, data_dir: Path | None = None) -> Engine:
    """Everything the control loop needs, from a validated configuration."""
    buses: list[Bus] = []
    runtimes: list[UnitRuntime] = []
    broadcasters: dict[str, Broadcast] = {}
    for bus_config in config.buses:
        bus = Bus(bus_config.url, timeout_s=bus_config.timeout_s, retries=bus_config.retries)
        try:
            await bus.open()
        except BusUnavailableError as exc:
            log.warning("%s; its units show offline until it answers", exc)
        buses.append(bus)
        label = str(bus.url)
        broadcasters[label] = BroadcastHeartbeat(bus)
        for unit_config in bus_config.units:
            port = SofarUnit(bus, unit_config.id, unit_config.label)
            runtimes.append(UnitRuntime(unit_config, port, label, len(runtimes) + 1))
    meter = await open_meter_client(config)
    poller = None
    if meter is not None and config.meter is not None:
        poller = MeterPoller(meter, interval_s=config.meter.poll_interval_s,
                             stale_after_s=config.meter.stale_after_s)
    directory = data_dir or config.storage.data_dir
    store = StateStore(directory)
    site = Site(config.control, runtimes, poller, store.load(first_start_state(config)),
                broadcasters=broadcasters)
    monitor = UnitMonitor(site)
    commands = SiteCommands(site, store, site.manual_range_w)
    responses = ResponseStore(directory)
    responses.load(runtimes)
    runner = EngineRunner(site, monitor, poller, commands, responses)
    planning = Planning(config, site, directory)
    return Engine(config, site, monitor, poller, commands, runner, planning, buses, meter)
