"""Fronius Solar API replies (tests/fixtures/fronius) into grid samples; a meter in the consumption path or
an error status is refused with the reason."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from smartsofar.config import parse_meter
from smartsofar.config_meters import FroniusMeterConfig
from smartsofar.errors import ConfigError, MeterReplyError
from smartsofar.meter.base import MeterOptions
from smartsofar.meter.fronius import decode_realtime

FIXTURES = Path(__file__).parents[2] / "fixtures" / "fronius"


def reply(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return body


def test_a_feed_in_meter_reads_as_the_grid() -> None:
    sample = decode_realtime(reply("realtime_feed_in.json"), MeterOptions(), 2.0)
    assert sample.power_w == -1234.5 and sample.frequency_hz == 49.98
    assert [p.power_w for p in sample.phases] == [-1601.2, 180.4, 186.3]
    assert sample.import_wh == 3217764 and sample.export_wh == 4521880


@pytest.mark.parametrize(("name", "words"), [
    pytest.param("realtime_consumption_path.json", "location 1, not at the grid", id="consumption path"),
    pytest.param("realtime_not_found.json", "255: Device not found", id="no such device"),
])
def test_a_reply_that_is_not_a_grid_reading_is_refused(name: str, words: str) -> None:
    with pytest.raises(MeterReplyError, match=words):
        decode_realtime(reply(name), MeterOptions(), 0)


def test_the_url_names_the_inverter_and_the_device() -> None:
    config = parse_meter({"url": "fronius://192.0.2.7?device=2"})
    assert isinstance(config, FroniusMeterConfig) and config.http_url == "http://192.0.2.7" and config.device == 2
    with pytest.raises(ConfigError, match="fronius://HOST"):
        parse_meter({"url": "fronius:///nohost"})
