"""Operating state: parsing what people type, valid transitions, refusals, persistence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartsofar.errors import InvalidInputError
from smartsofar.modes import Mode, ModeState, parse_switch, parse_watts
from smartsofar.storage.atomic import atomic_write
from smartsofar.storage.state_store import StateStore


@pytest.mark.parametrize(("text", "mode"), [("auto", Mode.AUTO), ("MANUAL", Mode.MANUAL), (" standby ", Mode.STANDBY),
                                            ("1", Mode.AUTO), ("0", Mode.MANUAL)])
def test_modes_by_name_and_v1_numbers(text: str, mode: Mode) -> None:
    assert Mode.parse(text) is mode


@pytest.mark.parametrize("text", ["2", "automatic", "", "-1"])
def test_unknown_modes_are_refused(text: str) -> None:
    with pytest.raises(InvalidInputError, match="mode must be"):
        Mode.parse(text)


@pytest.mark.parametrize(("value", "watts"), [(1500, 1500), ("-800", -800), ("0", 0), (250.0, 250), ("12.0", 12)])
def test_watts(value: object, watts: int) -> None:
    assert parse_watts(value, "power") == watts


@pytest.mark.parametrize("value", ["abc", "12.5", 12.5, True, None, "", " 0 ", "1500\n", "+1500", "1_500", "1e3",
                                   "١٥٠٠", "𝟏𝟓𝟎𝟎", "0x10", "--5", "1500 W"])
def test_bad_watts_name_the_field(value: object) -> None:
    with pytest.raises(InvalidInputError, match="power"):
        parse_watts(value, "power")


@given(st.text(max_size=12))
def test_any_text_taken_as_watts_is_plain_ascii_digits(text: str) -> None:
    try:
        watts = parse_watts(text, "power")
    except InvalidInputError:
        return
    assert text.isascii() and text.split(".")[0].lstrip("-").isdigit() and int(text.split(".")[0]) == watts


@pytest.mark.parametrize(("value", "on"), [("ON", True), ("off", False), ("1", True), ("false", False), (True, True)])
def test_switches(value: object, on: bool) -> None:
    assert parse_switch(value, "allow_charge") is on


def test_manual_power_only_in_manual_mode_and_within_range() -> None:
    auto = ModeState(Mode.AUTO)
    with pytest.raises(InvalidInputError, match="switch to manual"):
        auto.with_manual_power(500, -6000, 6000)
    manual = auto.with_mode(Mode.MANUAL)
    assert manual.with_manual_power(-6000, -6000, 6000).manual_power_w == -6000
    with pytest.raises(InvalidInputError, match="between -6000 and 6000"):
        manual.with_manual_power(6001, -6000, 6000)


def test_entering_auto_resets_the_manual_power() -> None:
    manual = ModeState(Mode.MANUAL, manual_power_w=1200)
    assert manual.with_mode(Mode.AUTO).manual_power_w == 0
    assert manual.with_mode(Mode.STANDBY).manual_power_w == 1200


def test_state_survives_a_restart(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    state = ModeState(Mode.MANUAL, manual_power_w=-1500, target_w=20, allow_charge=False)
    store.save(state)
    assert StateStore(tmp_path).load(ModeState()) == state


def test_no_file_means_the_first_start_state(tmp_path: Path) -> None:
    assert StateStore(tmp_path).load(ModeState(Mode.STANDBY)).mode is Mode.STANDBY


def test_a_broken_state_file_is_set_aside_not_lost(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text('{"mode": "auto", "manual_po')
    assert StateStore(tmp_path).load(ModeState(Mode.STANDBY)).mode is Mode.STANDBY
    assert (tmp_path / "state.json.bad").read_text() == '{"mode": "auto", "manual_po'


def test_a_state_file_with_bad_values_is_set_aside(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text(json.dumps({**ModeState().to_json(), "mode": "turbo"}))
    assert StateStore(tmp_path).load(ModeState()).mode is Mode.AUTO
    assert (tmp_path / "state.json.bad").exists()


def test_atomic_write_keeps_the_old_content_when_writing_fails(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    atomic_write(path, "old")
    with pytest.raises(TypeError):
        atomic_write(path, None)  # type: ignore[arg-type]
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]  # no temporary file left behind
