"""SMA Energy Meter and Sunny Home Manager 2.0 (the ``sma`` source): their Speedwire datagrams.

The meter multicasts one datagram to 239.12.255.254:9522 every 200 ms to 1 s. Layout (SMA's "EMETER
protocol" note): ``SMA\\0``, a group tag, then a data block with protocol id 0x6069, the SUSy id, the serial
number, a millisecond ticker and OBIS channels. Each channel is four bytes (channel, index, type, tariff):
type 4 is a 4-byte present value, type 8 an 8-byte counter. Powers are in 0.1 W, import (``x.4.0`` with
x = 1, 21, 41, 61) and export (x = 2, 22, 42, 62) apart; counters (``1.8.0``, ``2.8.0``) in W·s; voltages
in mV, currents in mA, frequency in mHz.

No Python library decodes the Energy Meter's datagrams (pysma speaks the inverters' Webconnect), so the
decoder is here, small and checked against the byte layout. Datagrams of other protocols (inverters'
discovery on the same group) are skipped without a word; a meter datagram that is cut short is refused. Each
datagram leaves as the meter measures, so its sample says how old it is at most (``lag_s``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from smartsofar.config_meters import SmaMeterConfig
from smartsofar.errors import MeterReplyError
from smartsofar.meter.base import Meter, MeterOptions, MeterSample, PhaseSample
from smartsofar.meter.push import PushMeter, plausible_power
from smartsofar.meter.registry import register

SMA_MAGIC = b"SMA\x00"
METER_PROTOCOL = 0x6069
_HEADER = struct.Struct(">4sHHIHHHHII")  # magic, 4, 0x02A0, group, length, 0x0010, protocol, susy, serial, ticker
MULTICAST_WITHIN_S = 0.2  # a datagram leaves as the meter has measured: on a LAN it arrives well within this
SUSY_MODELS = {270: "SMA Energy Meter", 349: "SMA Energy Meter 2.0", 372: "SMA Sunny Home Manager 2.0"}


@dataclass(frozen=True, slots=True)
class SpeedwireReading:
    """One decoded datagram: who sent it and its OBIS values (``(index, type) -> raw integer``)."""

    susy_id: int
    serial: int
    ticker_ms: int
    values: dict[tuple[int, int], int]

    def get(self, index: int, kind: int = 4) -> int | None:
        """The raw value of OBIS channel ``index`` (kind 4: present value, 8: counter)."""
        return self.values.get((index, kind))

    def phase(self, first: int) -> PhaseSample | None:
        """The phase whose import power is channel ``first`` (21, 41, 61), if the datagram has it."""
        plus, minus = self.get(first), self.get(first + 1)
        if plus is None or minus is None:
            return None
        voltage, current = self.get(first + 11), self.get(first + 10)
        factor = self.get(first + 12)
        return PhaseSample(plausible_power((plus - minus) / 10),
                           None if voltage is None else voltage / 1000, None if current is None else current / 1000,
                           None if factor is None else factor / 1000)


def decode_datagram(data: bytes) -> SpeedwireReading | None:
    """The reading in one datagram; None if it is not an energy meter's; MeterReplyError if it is broken."""
    if len(data) < _HEADER.size or not data.startswith(SMA_MAGIC):
        return None
    _, _, _, _, length, _, protocol, susy, serial, ticker = _HEADER.unpack_from(data)
    if protocol != METER_PROTOCOL:
        return None
    end = 16 + length  # the length counts from the protocol id to the end marker
    if end > len(data):
        raise MeterReplyError(f"the datagram from meter {serial} is cut short")
    values: dict[tuple[int, int], int] = {}
    at = _HEADER.size
    while at + 4 <= end:
        channel, index, kind, _tariff = data[at:at + 4]
        at += 4
        if channel == 0 and index == 0 and kind == 0:
            break  # end marker
        size = 8 if kind == 8 else 4
        if at + size > end:
            raise MeterReplyError(f"the datagram from meter {serial} is cut short")
        if channel == 0:
            values[(index, kind)] = int.from_bytes(data[at:at + size], "big")
        at += size  # channel 144 is the firmware version: skipped
    return SpeedwireReading(susy, serial, ticker, values)


def reading_to_sample(reading: SpeedwireReading, options: MeterOptions, taken_at: float) -> MeterSample:
    """The grid sample a meter datagram holds; MeterReplyError if it lacks the total power."""
    plus, minus = reading.get(1), reading.get(2)
    if plus is None or minus is None:
        raise MeterReplyError(f"the datagram from meter {reading.serial} has no active power")
    phases = [p for p in (reading.phase(21), reading.phase(41), reading.phase(61)) if p is not None]
    imported, exported = reading.get(1, 8), reading.get(2, 8)
    frequency = reading.get(14)
    return options.sample(phases, taken_at, plausible_power((plus - minus) / 10),
                          None if frequency is None else frequency / 1000,
                          None if imported is None else imported / 3600,
                          None if exported is None else exported / 3600)


def open_socket(group: str, port: int, interface: str) -> socket.socket:
    """A UDP socket receiving ``group:port`` (joined on ``interface``), or datagrams sent to a unicast address."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):  # Home Assistant or a second controller may listen too
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        multicast = ipaddress.ip_address(group).is_multicast
        sock.bind((group, port))
        if multicast:
            membership = socket.inet_aton(group) + socket.inet_aton(interface)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, membership)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, queue: asyncio.Queue[tuple[bytes, float]], clock: Callable[[], float]) -> None:
        self.queue = queue
        self.clock = clock

    def datagram_received(self, data: bytes, addr: tuple[str | object, int]) -> None:
        if self.queue.full():
            self.queue.get_nowait()  # a late reader gets the newest, not a backlog
        self.queue.put_nowait((data, self.clock()))


class SmaEnergyMeter(PushMeter):
    """Listens for one meter's datagrams (the first one heard, or the configured serial)."""

    def __init__(self, config: SmaMeterConfig, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(config.stale_after_s, clock)
        self.config = config
        self.model = config.label
        self.options = MeterOptions(invert=config.invert, phase=config.phase)
        self.serial = config.serial

    async def receive(self) -> None:
        """Join the group, then deliver each datagram of our meter."""
        sock = open_socket(self.config.group, self.config.port, self.config.interface)
        queue: asyncio.Queue[tuple[bytes, float]] = asyncio.Queue(maxsize=8)
        transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
            lambda: _Datagrams(queue, self.clock), sock=sock)
        try:
            while True:
                data, taken_at = await queue.get()
                try:
                    reading = decode_datagram(data)
                    if reading is None or (self.serial is not None and reading.serial != self.serial):
                        continue
                    sample = replace(reading_to_sample(reading, self.options, taken_at), lag_s=MULTICAST_WITHIN_S)
                except MeterReplyError as exc:
                    await self.refuse(exc)
                    continue
                if self.serial is None or self.model == self.config.label:
                    self.serial = reading.serial  # follow the first meter heard, not two at once
                    self.model = f"{SUSY_MODELS.get(reading.susy_id, 'SMA meter')} {reading.serial}"
                await self.deliver(sample)
        finally:
            transport.close()


@register("sma")
async def open_sma(config: SmaMeterConfig) -> Meter:
    """The configured meter's listener (it joins the group on the first read)."""
    return SmaEnergyMeter(config)
