"""SMA Speedwire datagrams, assembled byte by byte from SMA's EMETER protocol layout (not by our simulator),
decoded into grid samples; other Speedwire traffic is skipped and a datagram cut short is refused."""

from __future__ import annotations

import pytest

from smartsofar.errors import MeterReplyError
from smartsofar.meter.base import MeterOptions
from smartsofar.meter.sma_speedwire import decode_datagram, reading_to_sample
from smartsofar.sim.household import ConstantHousehold
from smartsofar.sim.meter_server import SimMeter
from smartsofar.sim.plant import Plant
from smartsofar.sim.sma_meter import encode_datagram

# An Energy Meter 2.0 (SUSy 349 = 0x015D), serial 3012345678 (0xB38CE14E), exporting 1234.5 W:
DATAGRAM = bytes.fromhex(
    "534d4100" "0004" "02a0" "00000001"      # SMA\0, group tag, group 1
    "005c" "0010"                              # data length 92 (to the end marker), SMA Net 2
    "6069" "015d" "b38cbf4e" "0001e240"        # energy meter protocol, SUSy, serial, ticker 123456 ms
    "00010400" "00000000"                      # 1.4.0  import power 0 W
    "00010800" "0000000ba43b7400"              # 1.8.0  imported 50_000_000_000 W·s
    "00020400" "00003039"                      # 2.4.0  export power 12345 (0.1 W)
    "00020800" "0000000002faf080"              # 2.8.0  exported 50_000_000 W·s
    "000e0400" "0000c350"                      # 14.4.0 frequency 50000 mHz
    "00150400" "00000000" "00160400" "00003039"  # 21.4.0 / 22.4.0: all of it on L1
    "00200400" "00038270"                      # 32.4.0 L1 voltage 230000 mV
    "90000000" "02001252"                      # firmware 2.0.18.R
    "00000000")


def test_a_datagram_laid_out_as_sma_documents_decodes_to_the_grid() -> None:
    reading = decode_datagram(DATAGRAM)
    assert reading is not None and (reading.susy_id, reading.serial, reading.ticker_ms) == (349, 3012345678, 123456)
    sample = reading_to_sample(reading, MeterOptions(), taken_at=5.0)
    assert sample.power_w == pytest.approx(-1234.5) and sample.frequency_hz == 50.0
    assert sample.phases[0].power_w == pytest.approx(-1234.5) and sample.phases[0].voltage_v == 230.0
    assert sample.import_wh == pytest.approx(50e9 / 3600) and sample.export_wh == pytest.approx(50e6 / 3600)


def test_inverted_it_reads_as_import() -> None:
    reading = decode_datagram(DATAGRAM)
    assert reading is not None
    assert reading_to_sample(reading, MeterOptions(invert=True), 0).power_w == pytest.approx(1234.5)


@pytest.mark.parametrize("data", [
    pytest.param(b"", id="empty"),
    pytest.param(b"HTTP/1.1 200 OK\r\n\r\n" + bytes(40), id="not SMA"),
    pytest.param(DATAGRAM[:16] + bytes.fromhex("6065") + DATAGRAM[18:], id="an inverter's protocol"),
])
def test_other_traffic_is_skipped(data: bytes) -> None:
    assert decode_datagram(data) is None


def test_a_datagram_cut_short_is_refused() -> None:
    with pytest.raises(MeterReplyError, match="cut short"):
        decode_datagram(DATAGRAM[:50])


def test_a_datagram_without_the_total_power_is_refused() -> None:
    counter = bytes.fromhex("00010800" "0000000ba43b7400")
    only_counters = DATAGRAM[:12] + (12 + len(counter)).to_bytes(2, "big") + DATAGRAM[14:28] + counter + bytes(4)
    reading = decode_datagram(only_counters)
    assert reading is not None
    with pytest.raises(MeterReplyError, match="no active power"):
        reading_to_sample(reading, MeterOptions(), 0)


def test_the_simulator_sends_what_the_decoder_reads() -> None:
    plant = Plant(ConstantHousehold(load=900.0), unit_ids=())
    meter = SimMeter(plant, noise_w=0.0)
    reading = decode_datagram(encode_datagram(meter, serial=7, ticker_ms=1))
    assert reading is not None and reading.serial == 7
    sample = reading_to_sample(reading, MeterOptions(), 0)
    assert sample.power_w == pytest.approx(900, abs=0.2) and len(sample.phases) == 3
    assert sum(p.power_w for p in sample.phases) == pytest.approx(900, abs=0.3)
