"""The one owner of an RS485 line: serialises every frame, paces them, retries, and tracks unit health.

Exactly one request is in flight on a bus at any time, with at least ``min_gap_s`` of silence between the
end of one exchange and the next frame. pymodbus is told to make no retries of its own; retries happen
here, where a reply of the wrong kind (pymodbus matches replies by slave id only, so a late 0x49 reply can
arrive while a read is pending) counts as a stray frame, lets the line settle and re-issues the request.

Each unit's link health is ``ok`` (last exchange clean), ``degraded`` (it needed retries, or recent
exchanges failed) or ``offline`` (``offline_after`` exchanges in a row failed). The bus knows frames, not
devices: a vendor's function codes are taught with ``add_pdus`` (``sofar`` does it for 0x41/0x42/0x49). It
logs at DEBUG only; the engine says when a unit goes offline or comes back.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from pymodbus.exceptions import ConnectionException, ModbusException
from pymodbus.pdu import ExceptionResponse, ModbusPDU
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersRequest,
    ReadHoldingRegistersResponse,
    ReadInputRegistersRequest,
    ReadInputRegistersResponse,
)

from smartsofar.bus.connect import open_client
from smartsofar.bus.framer import PduPair, SlidingRtuFramer, add_pdus
from smartsofar.bus.priority import Priority, PriorityLock, effective
from smartsofar.bus.url import BusUrl
from smartsofar.errors import BusUnavailableError, InvalidInputError, NoResponseError, ProtocolError
from smartsofar.link import LinkHealth

log = logging.getLogger(__name__)
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)  # we count and log failures ourselves

RECONNECT_EVERY_S = 5.0  # a line that never connected (or gave up) is tried again this often
_Reply = TypeVar("_Reply", bound=ModbusPDU)


@dataclass(slots=True)
class LinkStats:
    """Counters for one unit on one bus."""

    health: LinkHealth = LinkHealth.UNKNOWN
    requests: int = 0
    retries: int = 0
    timeouts: int = 0
    stray_frames: int = 0
    exceptions: int = 0
    consecutive_failures: int = 0
    last_ok_monotonic: float | None = None


@dataclass(slots=True)
class BusCounters:
    """Counters for the whole line."""

    frames_sent: int = 0
    crc_errors: int = 0
    foreign_frames: int = 0
    undecodable_frames: int = 0
    units: dict[int, LinkStats] = field(default_factory=dict)


class Bus:
    """One RS485 bus (serial adapter or RTU-over-TCP gateway) and everything sent on it."""

    def __init__(self, url: str | BusUrl, *, timeout_s: float = 1.5, retries: int = 2, min_gap_s: float = 0.05,
                 settle_s: float = 0.3, offline_after: int = 3) -> None:
        if timeout_s <= 0 or retries < 0 or min_gap_s < 0 or settle_s < 0 or offline_after < 1:
            raise InvalidInputError("bus timing values must be positive")
        self.url = url if isinstance(url, BusUrl) else BusUrl.parse(url)
        self.timeout_s = timeout_s
        self.retries = retries
        self.min_gap_s = min_gap_s
        self.settle_s = settle_s
        self.offline_after = offline_after
        self._client = open_client(self.url, timeout_s)
        self._client.set_max_no_responses(1 << 30)  # one silent unit must not drop the whole gateway link
        self._lock = PriorityLock()  # one exchange at a time, the most urgent first (bus.priority)
        self._last_frame_end = 0.0
        self._counters = BusCounters()
        self._last_connect_attempt = -RECONNECT_EVERY_S

    def add_pdus(self, pdus: Mapping[int, PduPair]) -> None:
        """Let this bus carry vendor function codes (their request and reply classes)."""
        framer = self._client.ctx.framer
        add_pdus(framer.decoder, pdus)

    async def open(self) -> None:
        """Open the port or connect to the gateway; BusUnavailableError if that fails."""
        self._last_connect_attempt = time.monotonic()
        try:
            ok = await self._client.connect()
        except (OSError, ModbusException) as exc:
            raise BusUnavailableError(f"cannot open {self.url}: {exc}") from None
        if not ok:
            raise BusUnavailableError(f"cannot open {self.url}: {self._why_not_open()}")

    def _why_not_open(self) -> str:
        """pymodbus only says that it failed: for a serial port, find the usual reason."""
        if self.url.kind == "tcp":
            return "no connection"
        path = Path(self.url.path)
        if not path.exists():
            return "no such device (is the adapter plugged in?)"
        if not os.access(path, os.R_OK | os.W_OK):
            return "permission denied (add the user to the dialout group)"
        return "the port is in use by another program (it is locked while one has it open)"

    async def close(self) -> None:
        """Close the line."""
        self._client.close()

    async def __aenter__(self) -> Bus:
        await self.open()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    @property
    def connected(self) -> bool:
        """True while the port is open / the gateway connected."""
        return bool(self._client.connected)

    # --- requests -------------------------------------------------------------------------------------------

    async def read_holding(self, unit: int, address: int, count: int, retries: int | None = None) -> list[int]:
        """Function 0x03 (``retries`` overrides the bus's, e.g. 0 for a unit known to be offline)."""
        reply = await self.request(unit, lambda: ReadHoldingRegistersRequest(address=address, count=count,
                                                                                dev_id=unit),
                                     ReadHoldingRegistersResponse, lambda r: len(r.registers) == count, retries)
        return list(reply.registers)

    async def read_input(self, unit: int, address: int, count: int) -> list[int]:
        """Function 0x04."""
        reply = await self.request(unit, lambda: ReadInputRegistersRequest(address=address, count=count,
                                                                              dev_id=unit),
                                     ReadInputRegistersResponse, lambda r: len(r.registers) == count)
        return list(reply.registers)

    async def _ensure_connected(self) -> None:
        """Reconnect a line that is down, unless pymodbus is already at it; at most every few seconds."""
        if self._client.connected:
            return
        if getattr(self._client.ctx, "reconnect_task", None) is not None:
            raise BusUnavailableError(f"{self.url}: connection lost, reconnecting")
        if time.monotonic() - self._last_connect_attempt < RECONNECT_EVERY_S:
            raise BusUnavailableError(f"{self.url}: not connected")
        await self.open()
        log.debug("%s connected", self.url)

    async def broadcast(self, request: ModbusPDU) -> None:
        """Send a frame that nobody answers, to the broadcast address set in it (Sofar's is 0x88)."""
        async with self._lock.hold(Priority.COMMAND):
            await self._ensure_connected()
            await self._wait_gap()
            try:
                await self._client.execute(True, request)
            except (ConnectionException, OSError) as exc:
                raise BusUnavailableError(f"{self.url}: {exc}") from None
            finally:
                self._counters.frames_sent += 1
                self._last_frame_end = time.monotonic()

    # --- health ---------------------------------------------------------------------------------------------

    def stats(self, unit: int) -> LinkStats:
        """Counters and health of one unit (created on first use)."""
        return self._counters.units.setdefault(unit, LinkStats())

    def health(self, unit: int) -> LinkHealth:
        """Link health of one unit."""
        return self.stats(unit).health

    @property
    def counters(self) -> BusCounters:
        """Line-wide counters, refreshed from the framer."""
        framer = self._client.ctx.framer
        if isinstance(framer, SlidingRtuFramer):
            self._counters.crc_errors = framer.crc_errors
            self._counters.foreign_frames = framer.foreign_frames
            self._counters.undecodable_frames = framer.undecodable_frames
        return self._counters

    # --- internals ------------------------------------------------------------------------------------------

    async def _wait_gap(self) -> None:
        remaining = self._last_frame_end + self.min_gap_s - time.monotonic()
        if remaining > 0:
            await asyncio.sleep(remaining)

    async def request(self, unit: int, build: Callable[[], ModbusPDU], expected: type[_Reply],
                      valid: Callable[[_Reply], bool], retries: int | None = None,
                      priority: Priority = Priority.READ) -> _Reply:
        """One exchange with retries: ``build`` makes each attempt's request, a reply of type ``expected``
        that ``valid`` accepts ends it. NoResponseError / ProtocolError / BusUnavailableError otherwise.
        ``priority`` orders it among the exchanges waiting for the line (``bus.priority``)."""
        if not 1 <= unit <= 247:
            raise InvalidInputError(f"unit id must be 1..247, got {unit}")
        stats = self.stats(unit)
        last_problem = "no reply"
        attempts = (self.retries if retries is None else retries) + 1
        async with self._lock.hold(effective(priority)):
            for attempt in range(attempts):
                if attempt:
                    stats.retries += 1
                try:
                    await self._ensure_connected()
                except BusUnavailableError:
                    self._record_failure(unit, stats)
                    raise
                await self._wait_gap()
                request = build()
                stats.requests += 1
                self._counters.frames_sent += 1
                try:
                    reply = await self._client.execute(False, request)
                except ConnectionException as exc:
                    self._last_frame_end = time.monotonic()
                    self._record_failure(unit, stats)
                    raise BusUnavailableError(f"{self.url}: {exc}") from None
                except ModbusException:
                    self._last_frame_end = time.monotonic()
                    stats.timeouts += 1
                    last_problem = f"no reply within {self.timeout_s:g} s"
                    await self._settle()
                    continue
                self._last_frame_end = time.monotonic()
                if isinstance(reply, ExceptionResponse) and reply.function_code & 0x7F == request.function_code:
                    stats.exceptions += 1
                    self._record_success(unit, stats, attempt)
                    raise ProtocolError(f"unit {unit} answered function 0x{request.function_code:02X} with "
                                        f"Modbus exception {reply.exception_code}")
                if isinstance(reply, expected) and valid(reply):
                    self._record_success(unit, stats, attempt)
                    return reply
                stats.stray_frames += 1
                last_problem = f"stray frame (function 0x{reply.function_code:02X}) instead of the reply"
                await self._settle()
        self._record_failure(unit, stats)
        if last_problem.startswith("stray"):
            raise ProtocolError(f"unit {unit} on {self.url}: {last_problem}, after {attempts} attempts")
        raise NoResponseError(f"unit {unit} on {self.url}: {last_problem}, after {attempts} attempts")

    async def _settle(self) -> None:
        """Let late frames arrive and be discarded before the line is used again."""
        await asyncio.sleep(self.settle_s)
        self._last_frame_end = time.monotonic()

    def _record_success(self, unit: int, stats: LinkStats, attempt: int) -> None:
        stats.consecutive_failures = 0
        stats.last_ok_monotonic = time.monotonic()
        self._set_health(unit, stats, LinkHealth.DEGRADED if attempt else LinkHealth.OK)

    def _record_failure(self, unit: int, stats: LinkStats) -> None:
        stats.consecutive_failures += 1
        offline = stats.consecutive_failures >= self.offline_after
        self._set_health(unit, stats, LinkHealth.OFFLINE if offline else LinkHealth.DEGRADED)

    def _set_health(self, unit: int, stats: LinkStats, health: LinkHealth) -> None:
        if health is stats.health:
            return
        previous, stats.health = stats.health, health
        log.debug("unit %d on %s link %s -> %s (%d failed in a row)", unit, self.url, previous, health,
                  stats.consecutive_failures)
