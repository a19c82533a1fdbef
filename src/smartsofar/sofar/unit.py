"""One ME3000SP on a bus: what it reads (one bulk read), what it is told (0x42), and its keep-alive (0x49).

The unit knows registers and commands; timing, retries and health belong to the bus passed in, which it
teaches Sofar's function codes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from smartsofar.bus.client import Bus
from smartsofar.bus.priority import Priority
from smartsofar.link import LinkHealth
from smartsofar.sofar.device_info import (
    INFO_COUNT,
    INFO_START,
    SETTINGS_COUNT,
    SETTINGS_START,
    UnitInfo,
    UnitSettings,
    decode_info,
    decode_settings,
)
from smartsofar.sofar.heartbeat import Pacer, heartbeat
from smartsofar.sofar.passive import (
    SOFAR_PDUS,
    CommandResult,
    PassiveCommand,
    PassiveRequest,
    PassiveResponse,
    StatusWord,
)
from smartsofar.sofar.register_map import (
    BATTERY_POWER_ADDRESS,
    BLOCK_COUNT,
    BLOCK_START,
    UnitReading,
    decode_battery_power,
    decode_running_data,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CommandOutcome:
    """A command as sent and the unit's answer to it."""

    command: PassiveCommand
    status: StatusWord


class SofarUnit:
    """One ME3000SP, addressed by its slave id on ``bus``."""

    def __init__(self, bus: Bus, unit_id: int, name: str = "") -> None:
        self.bus = bus
        self.unit_id = unit_id
        self.name = name or f"unit {unit_id}"
        self.last_outcome: CommandOutcome | None = None
        self._pacer = Pacer()
        bus.add_pdus(SOFAR_PDUS)

    @property
    def health(self) -> LinkHealth:
        """Link health as the bus sees it."""
        return self.bus.health(self.unit_id)

    def link_stats(self) -> dict[str, int]:
        """This unit's counters on its bus (requests, retries, timeouts, stray frames, exceptions)."""
        stats = self.bus.stats(self.unit_id)
        return {"requests": stats.requests, "retries": stats.retries, "timeouts": stats.timeouts,
                "stray_frames": stats.stray_frames, "exceptions": stats.exceptions}

    async def read(self, retries: int | None = None) -> UnitReading:
        """All running data, 0x0200..0x0255, in one function-0x03 request."""
        return decode_running_data(await self.bus.read_holding(self.unit_id, BLOCK_START, BLOCK_COUNT, retries))

    async def read_power(self) -> float:
        """Battery power alone (0x020D), W charge positive: one short request with no retry."""
        return decode_battery_power(await self.bus.read_holding(self.unit_id, BATTERY_POWER_ADDRESS, 1, 0))

    async def read_settings(self) -> UnitSettings:
        """The battery settings block (function 0x04 at 0x10B0)."""
        return decode_settings(await self.bus.read_input(self.unit_id, SETTINGS_START, SETTINGS_COUNT))

    async def read_info(self) -> UnitInfo:
        """Serial number and versions (function 0x04 at 0x2000)."""
        return decode_info(await self.bus.read_input(self.unit_id, INFO_START, INFO_COUNT))

    async def command(self, command: PassiveCommand) -> StatusWord:
        """Send one passive-mode command; a reply saying our frame arrived corrupted is re-sent."""
        register, value = command.register_and_value()
        status = await self._write_passive(register, value)
        for _ in range(self.bus.retries):
            if status.result is not CommandResult.CRC_FAILED:
                break
            status = await self._write_passive(register, value)
        self.last_outcome = CommandOutcome(command, status)
        if not status.accepted:
            log.debug("%s refused %s: %s", self.name, command.describe(), status.message)
        return status

    async def _write_passive(self, register: int, value: int) -> StatusWord:
        """Function 0x42 to this unit; the reply's status word."""
        reply = await self.bus.request(self.unit_id, lambda: PassiveRequest(register, value, dev_id=self.unit_id),
                                       PassiveResponse, lambda _r: True, priority=Priority.COMMAND)
        return StatusWord(reply.status_word)

    async def heartbeat(self) -> bool:
        """Keep passive mode alive; False if a heartbeat went out less than a second ago."""
        return await heartbeat(self.bus, self.unit_id, self._pacer)
