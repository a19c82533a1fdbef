"""A simulated SMA Energy Meter 2.0: Speedwire datagrams of the plant's grid, multicast from loopback.

Each datagram carries the total and per-phase import and export powers (0.1 W), the energy counters (W·s),
the phases' voltages, currents and power factors, and the frequency, as the real meter sends them. It goes
to ``group:port`` from a socket bound to 127.0.0.1, with the multicast interface set to it, so only this
machine hears it. With the meter's ``update_period_s`` set, one datagram per update; else every ``interval_s``.
"""

from __future__ import annotations

import asyncio
import socket
import struct

from smartsofar.sim.meter_server import SimMeter

EM20_SUSY = 349


def _channel(index: int, kind: int, value: int) -> bytes:
    return bytes((0, index, kind, 0)) + max(0, value).to_bytes(8 if kind == 8 else 4, "big")


def _phase(first: int, power_w: float, current_a: float, voltage_v: float, pf: float) -> bytes:
    return b"".join((
        _channel(first, 4, round(max(power_w, 0) * 10)), _channel(first + 1, 4, round(max(-power_w, 0) * 10)),
        _channel(first + 10, 4, round(current_a * 1000)), _channel(first + 11, 4, round(voltage_v * 1000)),
        _channel(first + 12, 4, round(abs(pf) * 1000))))


def encode_datagram(meter: SimMeter, serial: int, ticker_ms: int) -> bytes:
    """One datagram with the meter's values now."""
    phases = meter.phases()
    total = sum(p.power for p in phases)
    state = meter.state
    body = b"".join((
        _channel(1, 4, round(max(total, 0) * 10)), _channel(1, 8, round(sum(state.import_wh) * 3600)),
        _channel(2, 4, round(max(-total, 0) * 10)), _channel(2, 8, round(sum(state.export_wh) * 3600)),
        _channel(14, 4, 50_000),
        *(_phase(first, p.power, p.current, p.voltage, p.pf) for first, p in zip((21, 41, 61), phases, strict=True)),
        bytes((144, 0, 0, 0)) + bytes((2, 0, 18, 82)),  # firmware version 2.0.18.R
    ))
    data = struct.pack(">HHII", 0x6069, EM20_SUSY, serial, ticker_ms & 0xFFFFFFFF) + body  # length: to the end mark
    return (b"SMA\x00" + struct.pack(">HHI", 4, 0x02A0, 1) + struct.pack(">HH", len(data), 0x0010) + data
            + b"\x00\x00\x00\x00")


async def send_speedwire(meter: SimMeter, group: str, port: int, serial: int = 3_012_345_678,
                         interval_s: float = 0.2) -> None:
    """Send until cancelled (nothing during an outage fault)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.bind(("127.0.0.1", 0))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
        sock.setblocking(False)
        loop = asyncio.get_running_loop()
        while True:
            await meter.next_update(interval_s)
            if not meter.faults.outage:
                await loop.sock_sendto(sock, encode_datagram(meter, serial, int(loop.time() * 1000)), (group, port))
    finally:
        sock.close()
