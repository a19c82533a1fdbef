"""A simulated RS485 bus of ME3000SP units: a real Modbus RTU slave over TCP, a serial device or a pty.

It answers what a real bus answers: 0x03 reads of 0x0200..0x0255, 0x04 reads of the settings and info
blocks, 0x42 passive commands with their status word, 0x49 heartbeats; broadcasts to 0x88 are obeyed and
never answered, and slave ids that are not on the bus get silence (not pymodbus' exception 04). Replies
come after a latency, sometimes late, and faults can be injected: dropped replies, corrupted replies,
stray frames and noise in front of a reply, a unit offline, a unit in fault.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import termios
import tty
from collections.abc import Callable
from dataclasses import dataclass, field

from pymodbus.pdu import DecodePDU, ExceptionResponse, ModbusPDU
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersRequest,
    ReadHoldingRegistersResponse,
    ReadInputRegistersRequest,
    ReadInputRegistersResponse,
)

from smartsofar.bus.framer import SlidingRtuFramer, add_pdus
from smartsofar.errors import InvalidInputError
from smartsofar.sim.plant import Plant
from smartsofar.sofar.device_info import INFO_COUNT, INFO_START, SETTINGS_COUNT, SETTINGS_START
from smartsofar.sofar.passive import (
    BROADCAST_ID,
    SOFAR_PDUS,
    HeartbeatRequest,
    HeartbeatResponse,
    PassiveCommand,
    PassiveRequest,
    PassiveResponse,
)
from smartsofar.sofar.register_map import BLOCK_COUNT, BLOCK_START

log = logging.getLogger(__name__)
Write = Callable[[bytes], None]


@dataclass(slots=True)
class BusFaults:
    """Fault injection, each a probability per reply (0..1), plus units that are down or faulted."""

    drop_rate: float = 0.0
    corrupt_rate: float = 0.0
    stray_rate: float = 0.0
    noise_rate: float = 0.0
    late_rate: float = 0.0
    late_s: float = 1.2
    offline_units: set[int] = field(default_factory=set)
    seed: int = 1

    def __post_init__(self) -> None:
        for name in ("drop_rate", "corrupt_rate", "stray_rate", "noise_rate", "late_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InvalidInputError(f"{name} must be between 0 and 1")


@dataclass(slots=True)
class AppliedCommand:
    """A 0x42 command a simulated unit accepted (kept for tests and the demo log)."""

    unit_id: int
    command: PassiveCommand
    at: float


class InverterBus:
    """The protocol side of the simulated bus: bytes in, bytes out, the plant behind."""

    def __init__(self, plant: Plant, faults: BusFaults | None = None, latency_s: float = 0.05) -> None:
        self.plant = plant
        self.faults = faults or BusFaults()
        self.latency_s = latency_s
        self.applied: list[AppliedCommand] = []
        self.requests_seen = 0
        self.on_request: Callable[[ModbusPDU, float], None] | None = None  # told of each request (benchmarks)
        self._rng = random.Random(self.faults.seed)
        decoder = DecodePDU(True)
        add_pdus(decoder, SOFAR_PDUS)
        self._framer = SlidingRtuFramer(decoder)
        self._reply_framer = SlidingRtuFramer(DecodePDU(False))

    # --- one link (a TCP connection or a serial line) -------------------------------------------------------

    async def serve_link(self, reader: Callable[[], asyncio.Future[bytes]], write: Write) -> None:
        """Read requests from one link and answer them one at a time, as a half-duplex bus does."""
        buffer = b""
        while True:
            chunk = await reader()
            if not chunk:
                return
            buffer += chunk
            while buffer:
                used, request = self._framer.handleFrame(buffer, 0, 0)
                buffer = buffer[used:]
                if request is None:
                    break
                await self._answer(request, write)

    async def _answer(self, request: ModbusPDU, write: Write) -> None:
        self.requests_seen += 1
        now = self.plant.now()
        if self.on_request is not None:
            self.on_request(request, now)
        if request.dev_id == BROADCAST_ID:
            for unit_id in self.plant.units:
                if unit_id not in self.faults.offline_units:
                    self._execute(unit_id, request, now)
            return
        if request.dev_id not in self.plant.units or request.dev_id in self.faults.offline_units:
            return  # nobody with that id on the bus: silence
        reply = self._execute(request.dev_id, request, now)
        rng = self._rng
        if rng.random() < self.faults.drop_rate:
            return
        delay = self.faults.late_s if rng.random() < self.faults.late_rate else self.latency_s
        await asyncio.sleep(delay)
        frame = self._reply_framer.buildFrame(reply)
        if rng.random() < self.faults.corrupt_rate:
            index = rng.randrange(len(frame))
            frame = frame[:index] + bytes([frame[index] ^ (1 << rng.randrange(8))]) + frame[index + 1 :]
        prefix = b""
        if rng.random() < self.faults.stray_rate:
            prefix += self._stray_frame(request.dev_id)
        if rng.random() < self.faults.noise_rate:
            prefix += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 6)))
        write(prefix + frame)

    def _stray_frame(self, unit_id: int) -> bytes:
        """A frame that is not the reply: a late heartbeat echo from this unit, or a reply from another."""
        if self._rng.random() < 0.5:
            stray: ModbusPDU = HeartbeatResponse(dev_id=unit_id)
        else:
            stray = PassiveResponse(0x0300, dev_id=(unit_id % 247) + 1)
        return self._reply_framer.buildFrame(stray)

    def _execute(self, unit_id: int, request: ModbusPDU, now: float) -> ModbusPDU:
        unit = self.plant.units[unit_id]
        if isinstance(request, ReadHoldingRegistersRequest) and request.function_code == 3:
            if request.address < BLOCK_START or request.address + request.count > BLOCK_START + BLOCK_COUNT:
                return ExceptionResponse(3, 2, device_id=unit_id)
            block = self.plant.unit_registers(unit_id, now)
            start = request.address - BLOCK_START
            return ReadHoldingRegistersResponse(registers=block[start : start + request.count], dev_id=unit_id)
        if isinstance(request, ReadInputRegistersRequest):
            for base, count, source in ((SETTINGS_START, SETTINGS_COUNT, self.plant.unit_settings),
                                        (INFO_START, INFO_COUNT, self.plant.unit_info)):
                if base <= request.address and request.address + request.count <= base + count:
                    block = source(unit_id)
                    start = request.address - base
                    return ReadInputRegistersResponse(registers=block[start : start + request.count],
                                                      dev_id=unit_id)
            return ExceptionResponse(4, 2, device_id=unit_id)
        if isinstance(request, PassiveRequest):
            self.plant.advance(now)
            try:
                command = PassiveCommand.from_register(request.address, request.value)
            except InvalidInputError:
                return PassiveResponse(unit.status(4).raw, dev_id=unit_id)
            status = unit.apply(command, now)
            if status.accepted:
                self.applied.append(AppliedCommand(unit_id, command, now))
            return PassiveResponse(status.raw, dev_id=unit_id)
        if isinstance(request, HeartbeatRequest):
            unit.heartbeat(now)
            return HeartbeatResponse(dev_id=unit_id)
        return ExceptionResponse(request.function_code, 1, device_id=unit_id)


# --- transports ---------------------------------------------------------------------------------------------

async def serve_tcp(bus: InverterBus, host: str, port: int) -> asyncio.Server:
    """Listen for RTU-over-TCP clients (as an RS485-to-Ethernet gateway does)."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await bus.serve_link(lambda: asyncio.ensure_future(reader.read(512)), writer.write)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the client went away, or the simulator is shutting down
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)


class SerialLink:
    """A serial device or pty opened raw, read through the event loop."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        tty.setraw(fd, termios.TCSANOW)
        os.set_blocking(fd, False)
        asyncio.get_running_loop().add_reader(fd, self._on_readable)

    @classmethod
    def open_path(cls, path: str) -> SerialLink:
        """Open an existing device (e.g. one end of a socat pty pair)."""
        return cls(os.open(path, os.O_RDWR | os.O_NOCTTY))

    @classmethod
    def open_pty(cls) -> tuple[SerialLink, str]:
        """Create a pseudo-terminal; clients open the returned path as a serial port."""
        master, slave = os.openpty()
        path = os.ttyname(slave)
        tty.setraw(slave, termios.TCSANOW)
        link = cls(master)
        link._slave_fd = slave  # keep the slave side open so the master never sees EIO between clients
        return link, path

    _slave_fd: int | None = None

    def _on_readable(self) -> None:
        try:
            data = os.read(self.fd, 512)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            self._queue.put_nowait(data)

    def read(self) -> asyncio.Future[bytes]:
        """Next chunk of received bytes."""
        return asyncio.ensure_future(self._queue.get())

    def write(self, data: bytes) -> None:
        """Send bytes (small frames: the tty buffer takes them whole)."""
        os.write(self.fd, data)

    def close(self) -> None:
        """Stop reading and close the device."""
        asyncio.get_running_loop().remove_reader(self.fd)
        os.close(self.fd)
        if self._slave_fd is not None:
            os.close(self._slave_fd)
