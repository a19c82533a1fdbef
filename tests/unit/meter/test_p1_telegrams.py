"""P1 telegrams (tests/fixtures/p1) through dsmr_parser into grid samples: powers, phases and counters read;
a telegram with a broken CRC or without the present power is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartsofar.config import parse_meter
from smartsofar.config_meters import P1MeterConfig
from smartsofar.errors import ConfigError, MeterReplyError
from smartsofar.meter.dsmr_p1 import P1Meter

FIXTURES = Path(__file__).parents[2] / "fixtures" / "p1"


def meter(version: str = "5", **keys: object) -> P1Meter:
    config = parse_meter({"url": "p1://127.0.0.1:2001", "dsmr_version": version, **keys})
    assert isinstance(config, P1MeterConfig)
    return P1Meter(config)


def telegram(name: str) -> str:
    return (FIXTURES / name).read_bytes().decode("ascii")


def test_a_dutch_three_phase_telegram() -> None:
    sample = meter().decode(telegram("dsmr5_nl_exporting.txt"), taken_at=3.0)
    assert sample.power_w == pytest.approx(-2315) and sample.taken_at == 3.0
    assert [p.power_w for p in sample.phases] == pytest.approx([-2907, 412, 180])
    assert [p.voltage_v for p in sample.phases] == pytest.approx([235.1, 236.0, 234.2])
    assert sample.import_wh == pytest.approx((12345.678 + 9876.543) * 1000)
    assert sample.export_wh == pytest.approx((1234.567 + 3456.789) * 1000)


def test_a_belgian_single_phase_telegram_and_one_phase_followed() -> None:
    sample = meter("5B", phase="a").decode(telegram("dsmr5_be_single_phase.txt"), taken_at=0.0)
    assert sample.power_w == pytest.approx(1204) and len(sample.phases) == 1
    assert sample.phases[0].current_a == pytest.approx(5.52)


def test_a_telegram_with_a_broken_crc_is_refused() -> None:
    broken = telegram("dsmr5_nl_exporting.txt").replace("02.315*kW", "00.315*kW")
    with pytest.raises(MeterReplyError, match="CRC"):
        meter().decode(broken, 0.0)


def test_a_telegram_without_the_present_power_is_refused() -> None:
    from smartsofar.sim.p1_meter import with_crc
    bare = with_crc("/ISK5\\2M550T-1012\r\n\r\n1-3:0.2.8(50)\r\n1-0:1.8.1(000001.000*kWh)\r\n!").decode()
    with pytest.raises(MeterReplyError, match="no present power"):
        meter().decode(bare, 0.0)


@pytest.mark.parametrize(("section", "words"), [
    pytest.param({"url": "p1://bridge"}, "names no port", id="bridge without port"),
    pytest.param({"url": "serial://ttyUSB0"}, "serial:///dev/DEVICE", id="relative device"),
    pytest.param({"url": "p1://bridge:23", "dsmr_version": "6"}, "dsmr_version", id="unknown version"),
    pytest.param({"url": "p1://bridge:23?dsmr=4"}, "every 10 s", id="DSMR 4 with a 5 s stale limit"),
])
def test_a_wrong_p1_section_is_refused(section: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        parse_meter(section)


def test_a_serial_url_names_the_device() -> None:
    config = parse_meter({"url": "serial:///dev/ttyUSB0?dsmr=4", "stale_after_s": 15})
    assert isinstance(config, P1MeterConfig) and config.device == "/dev/ttyUSB0" and config.dsmr_version == "4"
