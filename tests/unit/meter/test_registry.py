"""Meter sources by type: the configuration picks the source by ``type`` or by the URL's scheme, a wrong
one is refused with words a user can act on, and the registry opens the source's client."""

from __future__ import annotations

import pytest

from smartsofar.config import parse_config, parse_meter
from smartsofar.config_meters import ShellyMeterConfig
from smartsofar.errors import ConfigError
from smartsofar.meter.factory import DetectingMeter
from smartsofar.meter.registry import register, registered
from smartsofar.meter.sources import open_meter_source


def test_a_meter_without_a_type_is_what_its_url_names() -> None:
    meter = parse_config({"meter": {"url": "http://192.0.2.20", "password": "pw"}}).meter
    assert isinstance(meter, ShellyMeterConfig) and meter.type == "shelly" and meter.label == "Shelly (auto)"


@pytest.mark.parametrize(("section", "words"), [
    pytest.param({"type": "smoke-signals", "url": "http://x"}, "unknown meter type 'smoke-signals'", id="unknown type"),
    pytest.param({"url": "gopher://meter"}, "unknown meter type 'gopher'", id="URL naming no source"),
    pytest.param({"url": "ftp"}, "meter.url: Value error, must be http", id="Shelly URL without a scheme"),
    pytest.param({"url": "http://m", "chanel": 1}, "meter.chanel: unknown key", id="misspelt key, tag not shown"),
])
def test_a_wrong_meter_section_is_refused_with_its_key(section: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config({"meter": section}, "smartsofar.toml")
    assert words.replace("Value error, ", "") in str(refused.value)
    assert ".shelly." not in str(refused.value)


async def test_the_registry_opens_the_configured_source() -> None:
    meter = await open_meter_source(parse_meter({"url": "http://192.0.2.20"}))
    assert isinstance(meter, DetectingMeter)  # model 'auto': asked from the device on first contact
    await meter.aclose()


def test_a_type_is_registered_once() -> None:
    assert "shelly" in registered()
    with pytest.raises(ValueError, match="twice"):
        register("shelly")(open_meter_source)
