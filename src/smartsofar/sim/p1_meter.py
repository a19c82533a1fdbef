"""A simulated DSMR 5 smart meter's P1 port: one telegram a second of the plant's grid, with its CRC.

The telegram follows the P1 Companion Standard 5.0.2 layout (header, timestamp, tariff counters in kWh,
present powers in kW, per-phase powers, voltages and currents, ``!`` and a CRC16 over everything from ``/``).
``serve_p1`` writes them to every client of a TCP server (a P1-to-network bridge); ``write_p1`` to a file
descriptor (one end of a pty standing in for the serial cable).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time

from smartsofar.sim.meter_server import SimMeter


def crc16(text: bytes) -> int:
    """The P1 telegram CRC: CRC-16/ARC (polynomial 0xA001 reflected, initial 0)."""
    crc = 0
    for byte in text:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def with_crc(body: str) -> bytes:
    """``body`` (from ``/`` up to and including ``!``) with its CRC line."""
    data = body.encode("ascii")
    return data + f"{crc16(data):04X}\r\n".encode("ascii")


def telegram(meter: SimMeter, wall_time: float | None = None) -> bytes:
    """One DSMR 5 telegram of the meter's values now."""
    phases = meter.phases()
    state = meter.state
    total = sum(p.power for p in phases) / 1000
    stamp = time.strftime("%y%m%d%H%M%S", time.localtime(wall_time or time.time()))
    imported, exported = sum(state.import_wh) / 1000, sum(state.export_wh) / 1000
    lines = ["/ISK5\\2M550T-1012", "", "1-3:0.2.8(50)", f"0-0:1.0.0({stamp}W)",
             "0-0:96.1.1(4530303434303037313331363530363136)",
             f"1-0:1.8.1({imported / 2:010.3f}*kWh)", f"1-0:1.8.2({imported / 2:010.3f}*kWh)",
             f"1-0:2.8.1({exported / 2:010.3f}*kWh)", f"1-0:2.8.2({exported / 2:010.3f}*kWh)",
             "0-0:96.14.0(0002)", f"1-0:1.7.0({max(total, 0):06.3f}*kW)", f"1-0:2.7.0({max(-total, 0):06.3f}*kW)"]
    for index, p in zip((1, 2, 3), phases, strict=True):
        lines.append(f"1-0:{index * 20 + 12}.7.0({p.voltage:05.1f}*V)")
    for index, p in zip((1, 2, 3), phases, strict=True):
        lines.append(f"1-0:{index * 20 + 11}.7.0({round(p.current):03d}*A)")
    for index, p in zip((1, 2, 3), phases, strict=True):
        lines.append(f"1-0:{index * 20 + 1}.7.0({max(p.power, 0) / 1000:06.3f}*kW)")
    for index, p in zip((1, 2, 3), phases, strict=True):
        lines.append(f"1-0:{index * 20 + 2}.7.0({max(-p.power, 0) / 1000:06.3f}*kW)")
    return with_crc("\r\n".join(lines) + "\r\n!")


async def write_p1(meter: SimMeter, fd: int, interval_s: float = 1.0) -> None:
    """Write a telegram every ``interval_s`` to ``fd`` until cancelled (nothing during an outage fault)."""
    while True:
        await meter.next_update(interval_s)
        if not meter.faults.outage:
            os.write(fd, telegram(meter))


async def serve_p1(meter: SimMeter, host: str = "127.0.0.1", port: int = 0,
                   interval_s: float = 1.0) -> asyncio.Server:
    """A TCP server sending every client the telegrams (a P1 bridge such as ser2net)."""
    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await meter.next_update(interval_s)
                if not meter.faults.outage:
                    writer.write(telegram(meter))
                    await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    return await asyncio.start_server(client, host, port)
