"""Decoding the 86-register running-data block, faults and the settings/info blocks."""

from __future__ import annotations

import pytest

from smartsofar.errors import ProtocolError
from smartsofar.sofar.device_info import UnitInfo, decode_info, decode_settings, encode_info
from smartsofar.sofar.register_map import (
    BLOCK_COUNT,
    RUNNING_DATA,
    UnitReading,
    decode_running_data,
    encode_running_data,
)
from smartsofar.sofar.status import RunningState, decode_alerts, decode_faults


def _block(**raw: int) -> list[int]:
    regs = [0] * BLOCK_COUNT
    for addr, value in raw.items():
        regs[int(addr[1:], 16) - 0x0200] = value & 0xFFFF
    return regs


def test_one_bulk_read_is_86_registers() -> None:
    assert BLOCK_COUNT == 86


def test_table_rows_are_exactly_the_reading_fields() -> None:
    assert [row.name for row in RUNNING_DATA] == list(UnitReading._fields)
    addresses = [row.address for row in RUNNING_DATA]
    assert addresses == sorted(addresses) and len(set(addresses)) == len(addresses)
    assert {0x0252, 0x0255} <= set(addresses)


def test_typical_discharging_unit_decodes_with_units_and_signs() -> None:
    reading = decode_running_data(_block(
        x200=4, x206=2318, x207=-655, x20C=5001, x20D=-150, x20E=5213, x20F=-2890, x210=63, x211=24,
        x212=-37, x213=187, x218=1234, x21C=1, x21D=5, x238=41, x239=-3))
    assert reading.running_state is RunningState.DISCHARGING
    assert reading.grid_a_v == pytest.approx(231.8)
    assert reading.grid_a_a == pytest.approx(-6.55)
    assert reading.grid_hz == pytest.approx(50.01)
    assert reading.battery_w == -1500  # discharging is negative
    assert reading.battery_a == pytest.approx(-28.9)
    assert reading.soc_pct == 63
    assert reading.grid_feed_w == -370  # importing: 0x0212 is export positive
    assert reading.load_w == 1870
    assert reading.pv_today_wh == 12340
    assert reading.pv_total_kwh == 65536 + 5  # high word first
    assert reading.heatsink_temp_c == -3


@pytest.mark.parametrize(("raw", "volts"), [(521, 52.1), (5213, 52.13), (480, 48.0), (4800, 48.0)],
                         ids=["pdf 0.1 V", "field firmware 0.01 V", "pdf low", "field low"])
def test_battery_voltage_is_plausible_in_both_scales(raw: int, volts: float) -> None:
    assert decode_running_data(_block(x20E=raw)).battery_v == pytest.approx(volts)


def test_wrong_register_count_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="86"):
        decode_running_data([0] * 85)


def test_unknown_running_state_is_not_a_crash() -> None:
    assert decode_running_data(_block(x200=42)).running_state is RunningState.UNKNOWN


def test_fault_words_decode_to_named_faults() -> None:
    # 0x0201 lo bit 4 = BatOVP (ID05); hi bit 0 = HW_LLCBus_OVP (ID09); 0x0204 hi bit 1 = ID58
    reading = decode_running_data(_block(x200=6, x201=0x0110, x204=0x0200, x23D=0x0008, x22B=0x0081))
    assert [f.name for f in reading.faults] == ["BatOVP", "HW_LLCBus_OVP", "OverTempFault_HeatSink"]
    assert [f.code for f in reading.faults] == [5, 9, 58]
    assert [f.name for f in reading.battery_faults] == ["BatUV"]
    assert [f.name for f in reading.alerts] == ["OverTempAlarmLoadShedding", "batLowVoltageAlarm"]
    assert reading.in_fault
    json = reading.to_json()
    assert json["faults"] == ["BatOVP", "HW_LLCBus_OVP", "OverTempFault_HeatSink"]
    assert json["running_state"] == "fault"


def test_reserved_bits_are_reported_not_dropped() -> None:
    assert [f.label for f in decode_faults([0x0020, 0, 0, 0, 0])] == ["ID06 reserved06"]
    assert decode_alerts(0x0100)[0].code == 89


def test_encode_then_decode_round_trips() -> None:
    values = {"running_state": 2, "battery_w": 1230, "soc_pct": 77, "grid_feed_w": -40, "pv_total_kwh": 123456}
    reading = decode_running_data(encode_running_data(values))
    assert (reading.battery_w, reading.soc_pct, reading.grid_feed_w, reading.pv_total_kwh) == (1230, 77, -40, 123456)


def test_settings_and_info_decode() -> None:
    settings = decode_settings([1, 100, 0, 532, 5000, 540, 470, 5000, 460, 90, 0, 4650, 5350])
    assert settings.battery_type_name == "PYLON"
    assert settings.values["max_charge_v"] == pytest.approx(53.2)
    assert settings.values["max_charge_a"] == pytest.approx(50.0)
    assert settings.depth_of_discharge_pct == 90
    assert settings.values["full_battery_v"] == pytest.approx(53.5)
    info = UnitInfo(0x0A01, "SE1ES0301A3B012", "V140", "V100")
    decoded = decode_info(encode_info(info))
    assert decoded.serial == "SE1ES0301A3B01"  # 7 registers hold 14 characters
    assert decoded.software_version == "V140"
    with pytest.raises(ProtocolError):
        decode_settings([0] * 3)
