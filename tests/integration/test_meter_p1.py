"""The P1 source on a real transport: recorded-layout telegrams written to a pty standing in for the serial
cable, a simulated meter behind a TCP bridge, a broken telegram among good ones, and a cable pulled."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from smartsofar.config import parse_meter
from smartsofar.errors import ConfigError, MeterUnavailableError
from smartsofar.meter.sources import open_meter_source
from smartsofar.sim.household import ConstantHousehold
from smartsofar.sim.meter_server import SimMeter
from smartsofar.sim.p1_meter import serve_p1
from smartsofar.sim.plant import Plant
from tests.cli_process import smartsofar

FIXTURES = Path(__file__).parents[1] / "fixtures" / "p1"


@pytest.fixture
def pty() -> Iterator[tuple[int, str]]:
    master, slave = os.openpty()
    name = os.ttyname(slave)
    yield master, name
    os.close(master)
    os.close(slave)


async def test_telegrams_on_a_serial_line_are_read_and_a_broken_one_skipped(
        pty: tuple[int, str], caplog: pytest.LogCaptureFixture) -> None:
    master, device = pty
    good = (FIXTURES / "dsmr5_nl_exporting.txt").read_bytes()
    broken = good.replace(b"02.315*kW", b"09.315*kW")
    meter = await open_meter_source(parse_meter({"url": f"serial://{device}"}))
    try:
        first = asyncio.create_task(meter.read())
        await asyncio.sleep(0.3)  # the port is opened by the first read
        os.write(master, b"\x00garbage before the first telegram\r\n" + broken)
        os.write(master, good[:100])  # a telegram arriving in pieces, as it does at 115200 baud
        await asyncio.sleep(0.05)
        os.write(master, good[100:])
        sample = await asyncio.wait_for(first, 5)
        assert sample.power_w == pytest.approx(-2315) and len(sample.phases) == 3
        assert any("CRC" in r.getMessage() for r in caplog.records)
    finally:
        await meter.aclose()


async def test_a_tcp_bridge_feeds_a_live_meter_and_its_silence_is_noticed() -> None:
    sim = SimMeter(Plant(ConstantHousehold(load=1750.0), unit_ids=()), noise_w=0.0)
    server = await serve_p1(sim, interval_s=0.2)
    port = server.sockets[0].getsockname()[1]
    meter = await open_meter_source(parse_meter({"url": f"p1://127.0.0.1:{port}", "stale_after_s": 1}))
    try:
        async with server:
            samples = [await meter.read() for _ in range(3)]
            assert all(s.power_w == pytest.approx(1750, abs=1) for s in samples)
            assert samples[0].import_wh is not None and len(samples[0].phases) == 3
            sim.faults.outage = True
            with pytest.raises(MeterUnavailableError, match="no message for 1 s"):
                await meter.read()
    finally:
        await meter.aclose()


async def test_a_device_that_is_not_there_is_unavailable_with_its_name() -> None:
    meter = await open_meter_source(parse_meter({"url": "serial:///dev/ttyNOSUCHP1"}))
    try:
        with pytest.raises(MeterUnavailableError, match="ttyNOSUCHP1"):
            await meter.read()
    finally:
        await meter.aclose()


async def test_smartsofar_meter_and_the_probe_read_a_p1_bridge(tmp_path: Path) -> None:
    sim = SimMeter(Plant(ConstantHousehold(load=640.0), unit_ids=()), noise_w=0.0)
    server = await serve_p1(sim, interval_s=0.3)
    url = f"p1://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    config = tmp_path / "smartsofar.toml"
    config.write_text(f'[control]\nmode = "standby"\n[meter]\nurl = "{url}"\n')
    async with server:
        code, out, err = await smartsofar("meter", "--url", url, "--json")
        assert code == 0, err
        assert json.loads(out)["power_w"] == pytest.approx(640, abs=1) and len(json.loads(out)["phases"]) == 3
        code, out, err = await smartsofar("config", "check", str(config), "--probe")
        assert code == 0, err
        assert "P1 port (DSMR 5): grid 640 W import" in out


SMARTY_AUTHENTICATION_KEY = bytes.fromhex("00112233445566778899AABBCCDDEEFF")  # fixed by the Luxmetering spec
METER_KEY = bytes.fromhex("0F1E2D3C4B5A69788796A5B4C3D2E1F0")  # our own
SYSTEM_TITLE = b"SAG\x05\x00\x01\x02\x03"


def encrypted_frame(telegram: bytes, key: bytes, authentication_key: bytes, counter: int) -> bytes:
    """A DLMS general-global-cipher frame as the Luxmetering P1 specification lays it out: tag 0xDB, the
    system title, a two-byte length, security control 0x30, the frame counter, then the telegram under
    AES-128-GCM (IV: system title and counter; AAD: 0x30 and the authentication key; a 12-byte tag)."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    iv = SYSTEM_TITLE + counter.to_bytes(4, "big")
    encryptor = Cipher(algorithms.AES(key), modes.GCM(iv, min_tag_length=12)).encryptor()
    encryptor.authenticate_additional_data(b"\x30" + authentication_key)
    sealed = encryptor.update(telegram) + encryptor.finalize() + encryptor.tag[:12]
    content = b"\x30" + counter.to_bytes(4, "big") + sealed
    return b"\xdb\x08" + SYSTEM_TITLE + b"\x82" + len(content).to_bytes(2, "big") + content


@pytest.mark.parametrize(("version", "authentication_key"), [("MSN", SMARTY_AUTHENTICATION_KEY), ("T210", None)])
async def test_an_encrypted_meter_is_read_with_its_key(pty: tuple[int, str], version: str,
                                                        authentication_key: bytes | None) -> None:
    """Luxembourg's Smarty (its fixed authentication key checked) and a Sagemcom T210-D-r given no
    authentication key (decrypted, then vouched for by the telegram's CRC). The plain telegram inside is the
    Dutch fixture: it is the framing and the decryption that are tested here."""
    master, device = pty
    telegram = (FIXTURES / "dsmr5_nl_exporting.txt").read_bytes()
    frame = encrypted_frame(telegram, METER_KEY, authentication_key or bytes(16), counter=7)
    meter = await open_meter_source(parse_meter({"url": f"serial://{device}", "dsmr_version": version,
                                                 "encryption_key": METER_KEY.hex()}))
    try:
        first = asyncio.create_task(meter.read())
        await asyncio.sleep(0.3)
        os.write(master, b"\x00\x17noise" + frame[:40])  # noise, then a frame arriving in pieces
        await asyncio.sleep(0.05)
        os.write(master, frame[40:])
        sample = await asyncio.wait_for(first, 5)
        assert sample.power_w == pytest.approx(-2315) and sample.import_wh is not None
    finally:
        await meter.aclose()


async def test_a_wrong_key_is_said_and_nothing_is_used(pty: tuple[int, str], caplog: pytest.LogCaptureFixture) -> None:
    master, device = pty
    telegram = (FIXTURES / "dsmr5_nl_exporting.txt").read_bytes()
    meter = await open_meter_source(parse_meter({"url": f"serial://{device}", "dsmr_version": "MSN",
                                                 "encryption_key": "00" * 16, "stale_after_s": 1}))
    try:
        first = asyncio.create_task(meter.read())
        await asyncio.sleep(0.3)
        os.write(master, encrypted_frame(telegram, METER_KEY, SMARTY_AUTHENTICATION_KEY, counter=8))
        with pytest.raises(MeterUnavailableError):
            await asyncio.wait_for(first, 5)
        assert any("check encryption_key" in r.getMessage() for r in caplog.records)
    finally:
        await meter.aclose()


@pytest.mark.parametrize(("section", "message"), [
    ({"dsmr_version": "MSN"}, "encrypted: set encryption_key"),
    ({"dsmr_version": "MSN", "encryption_key": "12ab"}, "32 hexadecimal digits"),
    ({"dsmr_version": "5", "encryption_key": METER_KEY.hex()}, "not encrypted"),
])
def test_encryption_settings_are_checked(section: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_meter({"url": "serial:///dev/ttyUSB0", **section})
