"""MQTT meter messages as real publishers send them: a plain number, Tasmota SML, Zigbee2MQTT, OpenDTU-style
import/export pairs. What the layout names is read; anything else is refused with the reason."""

from __future__ import annotations

import pytest

from smartsofar.config import parse_meter
from smartsofar.config_meters import MqttMeterConfig
from smartsofar.errors import ConfigError, MeterReplyError
from smartsofar.meter.base import MeterOptions
from smartsofar.meter.mqtt_topic import MessageLayout

TASMOTA_SML = (b'{"Time":"2026-11-30T12:00:01","SML":{"Total_in":15203.364,"Total_out":201.512,'
               b'"Power_curr":-345,"Power_L1":-400,"Power_L2":20,"Power_L3":35}}')
ZIGBEE2MQTT = b'{"power":1234.5,"energy":15203.36,"linkquality":120,"voltage":231}'


def layout(url: str, **keys: object) -> tuple[MessageLayout, MeterOptions]:
    config = parse_meter({"url": url, **keys})
    assert isinstance(config, MqttMeterConfig)
    return MessageLayout.of(config), MeterOptions(invert=config.invert, phase=config.phase)


def test_a_plain_number_is_the_grid_power() -> None:
    plain, options = layout("mqtt://broker/homeassistant/sensor/grid_power/state")
    assert plain.decode(b"-512.5", options, 7.0).power_w == -512.5
    assert plain.decode(b'"300"', options, 7.0).power_w == 300  # statestream sends states as strings


def test_tasmota_sml_with_phases_and_kwh_counters() -> None:
    sml, options = layout("mqtt://broker/tele/sml/SENSOR?path=SML.Power_curr&phases=SML.Power_L1,SML.Power_L2,"
                          "SML.Power_L3&import=SML.Total_in&export=SML.Total_out&energy_scale=1000")
    sample = sml.decode(TASMOTA_SML, options, 1.0)
    assert sample.power_w == -345 and [p.power_w for p in sample.phases] == [-400, 20, 35]
    assert sample.import_wh == pytest.approx(15_203_364) and sample.export_wh == pytest.approx(201_512)


def test_kw_scaled_and_inverted_and_one_phase_followed() -> None:
    kw, options = layout("mqtt://broker/m?path=power&scale=1000&invert=1")
    assert kw.decode(b'{"power": 1.5}', options, 0).power_w == -1500
    phased, options = layout("mqtt://broker/m?phases=a,b,c", phase="b")
    assert phased.decode(b'{"a": 1, "b": 2, "c": 3}', options, 0).power_w == 2


def test_import_and_export_power_reported_apart() -> None:
    pair, options = layout("mqtt://broker/dsmr?path=power_delivered&minus=power_returned&scale=1000")
    assert pair.decode(b'{"power_delivered": 0.0, "power_returned": 2.2}', options, 0).power_w == -2200


def test_a_key_in_the_section_wins_over_the_url() -> None:
    zigbee, options = layout("mqtt://broker/zigbee2mqtt/meter?path=nothing", path="power")
    assert zigbee.decode(ZIGBEE2MQTT, options, 0).power_w == 1234.5


@pytest.mark.parametrize(("payload", "words"), [
    pytest.param(b"", "not JSON", id="empty"),
    pytest.param(b"on", "not JSON", id="text"),
    pytest.param(b"NaN", "not a finite number", id="NaN"),
    pytest.param(b"true", "not a number", id="boolean"),
    pytest.param(b"250000", "out of range", id="beyond any house"),
    pytest.param(b'{"power": 5}', "not a number", id="object where a number was expected"),
])
def test_a_malformed_plain_message_is_refused(payload: bytes, words: str) -> None:
    plain, options = layout("mqtt://broker/grid")
    with pytest.raises(MeterReplyError, match=words):
        plain.decode(payload, options, 0)


@pytest.mark.parametrize(("payload", "words"), [
    pytest.param(b"12", "not a JSON object", id="number where an object was expected"),
    pytest.param(b'{"SML": {}}', "no 'SML.Power_curr'", id="path missing"),
    pytest.param(b'{"SML": {"Power_curr": "unavailable"}}', "not a number", id="unavailable"),
    pytest.param(b'{"SML": {"Power_curr": 5, "Total_in": -3}}', "negative", id="negative counter"),
    pytest.param(b"x" * 70_000, "too long", id="huge"),
])
def test_a_message_without_what_the_layout_names_is_refused(payload: bytes, words: str) -> None:
    sml, options = layout("mqtt://broker/tele/sml/SENSOR?path=SML.Power_curr&import=SML.Total_in")
    with pytest.raises(MeterReplyError, match=words):
        sml.decode(payload, options, 0)


@pytest.mark.parametrize(("url", "words"), [
    pytest.param("mqtt://broker", "names no topic", id="no topic"),
    pytest.param("mqtt://broker/tele/+/SENSOR", "wildcards", id="wildcard"),
    pytest.param("mqtt://broker/t?pth=power", "unknown URL option 'pth'", id="misspelt option"),
    pytest.param("mqtt://broker/t?phases=a,b", "1 or 3 phase paths", id="two phases"),
    pytest.param("mqtt://broker/t?scale=0", "greater than 0", id="zero scale"),
])
def test_a_wrong_mqtt_meter_url_is_refused(url: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        parse_meter({"url": url})


def test_the_url_gives_broker_topic_and_credentials() -> None:
    config = parse_meter({"url": "mqtts://meter:s%40cret@10.0.0.2/tele/sml/SENSOR"})
    assert isinstance(config, MqttMeterConfig)
    assert (config.host, config.port, config.topic, config.username, config.url_password, config.tls) == (
        "10.0.0.2", 8883, "tele/sml/SENSOR", "meter", "s@cret", True)
