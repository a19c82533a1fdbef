"""pymodbus 3.16 hazards, each reproduced on a real TCP socket by a scripted gateway.

1. replies are matched by slave id only: a late 0x49 reply arriving while a read is pending must not be
   taken for the read's reply;
2. the stock framer drops the rest of a chunk after one bad frame: noise, a foreign frame or a corrupted
   frame in front of the reply must not lose it;
3. units sometimes answer after 1.2 s: that is within the per-attempt timeout, and a reply later than the
   timeout leads to a retry in our code.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from smartsofar.bus.client import Bus
from smartsofar.bus.framer import crc16
from smartsofar.link import LinkHealth
from smartsofar.sofar.passive import SOFAR_PDUS

READ_SOC = bytes.fromhex("01 03 02 00 00 01 85 B2")  # read 0x0200 x 1 from unit 1


def _frame(hex_body: str) -> bytes:
    body = bytes.fromhex(hex_body)
    return body + crc16(body)


REPLY_STATE_4 = _frame("01 03 02 00 04")
LATE_HEARTBEAT = _frame("01 49 22 01 22 02")
FOREIGN = _frame("02 03 02 00 02")

Script = Callable[[int], tuple[float, bytes]]  # request number -> (delay, bytes to send)


@asynccontextmanager
async def scripted_gateway(script: Script) -> AsyncIterator[tuple[str, list[bytes]]]:
    received: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while request := await reader.read(64):
                received.append(request)
                delay, reply = script(len(received))
                await asyncio.sleep(delay)
                writer.write(reply)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    async with server:
        yield f"tcp://127.0.0.1:{server.sockets[0].getsockname()[1]}", received


async def test_hazard_1_late_heartbeat_reply_is_not_taken_for_a_read_reply() -> None:
    def script(n: int) -> tuple[float, bytes]:
        return (0.0, LATE_HEARTBEAT if n == 1 else REPLY_STATE_4)
    async with scripted_gateway(script) as (url, received), Bus(url, settle_s=0.05) as bus:
        bus.add_pdus(SOFAR_PDUS)  # a Sofar line: the late 0x49 reply decodes, and is seen as stray
        assert await bus.read_holding(1, 0x0200, 1) == [4]
        stats = bus.stats(1)
    assert stats.stray_frames == 1
    assert received == [READ_SOC, READ_SOC]  # settled, then re-issued
    assert stats.health is LinkHealth.DEGRADED


async def test_hazard_2_noise_foreign_and_corrupted_frames_before_the_reply_in_one_chunk() -> None:
    bad = bytearray(REPLY_STATE_4)
    bad[4] ^= 0x01
    chunk = b"\xff\x00\x7e" + FOREIGN + bytes(bad) + REPLY_STATE_4
    def script(_n: int) -> tuple[float, bytes]:
        return (0.0, chunk)
    async with scripted_gateway(script) as (url, received), Bus(url) as bus:
        assert await bus.read_holding(1, 0x0200, 1) == [4]
        counters = bus.counters
    assert len(received) == 1  # no retry was needed
    assert counters.crc_errors >= 1 and counters.foreign_frames == 1


async def test_hazard_3_a_reply_after_1_2_s_is_still_the_reply() -> None:
    def script(_n: int) -> tuple[float, bytes]:
        return (1.2, REPLY_STATE_4)
    async with scripted_gateway(script) as (url, received), Bus(url) as bus:  # default per-attempt timeout 1.5 s
        assert bus.timeout_s >= 1.5
        assert await bus.read_holding(1, 0x0200, 1) == [4]
    assert len(received) == 1


async def test_hazard_3_a_reply_later_than_the_timeout_is_retried_by_us() -> None:
    def script(n: int) -> tuple[float, bytes]:
        return (0.6 if n == 1 else 0.0, REPLY_STATE_4)
    async with scripted_gateway(script) as (url, received), Bus(url, timeout_s=0.3, settle_s=0.4) as bus:
        assert await bus.read_holding(1, 0x0200, 1) == [4]
        stats = bus.stats(1)
    assert stats.timeouts == 1 and stats.retries == 1
    assert len(received) == 2


async def test_reply_with_wrong_register_count_is_not_accepted() -> None:
    two_registers = _frame("01 03 04 00 04 00 05")
    def script(n: int) -> tuple[float, bytes]:
        return (0.0, two_registers if n == 1 else REPLY_STATE_4)
    async with scripted_gateway(script) as (url, _r), Bus(url, settle_s=0.01) as bus:
        assert await bus.read_holding(1, 0x0200, 1) == [4]
        assert bus.stats(1).stray_frames == 1
