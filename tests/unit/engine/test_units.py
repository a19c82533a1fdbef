"""Table tests of ``UnitRuntime``, the engine's memory of one unit: what each answer and reading teaches it."""

from __future__ import annotations

import pytest

from smartsofar.config import UnitConfig
from smartsofar.control.safety import unavailable_reason
from smartsofar.engine.units import MAX_REFRESHES, PASSIVE_RETRY_S, UnitRuntime
from smartsofar.link import LinkHealth
from smartsofar.sofar.passive import PassiveCommand, StatusWord
from tests.web.stub import reading

ACCEPTED = 0x0300  # result 0, charging and discharging allowed
FULL = 0x0600  # accepted, but the battery is full: charging prohibited
NOT_PASSIVE = 0x0301  # invalid mode: the unit is not in Passive mode
BUSY = 0x0303


def runtime(learn: bool = False) -> UnitRuntime:
    rt = UnitRuntime(UnitConfig(id=1, learn_response=learn), port=None, bus_label="tcp://127.0.0.1:1502",  # type: ignore[arg-type]
                     position=1)
    rt.link_changed(LinkHealth.OK, 0.0)
    rt.on_reading(reading(1, 0.0), 0.0)
    return rt


@pytest.mark.parametrize(("raw", "setpoint", "full", "refused"), [
    pytest.param(ACCEPTED, -1500, False, False, id="accepted: the new setpoint is known"),
    pytest.param(FULL, -1500, True, False, id="accepted with battery full: remembered for the charge side"),
    pytest.param(NOT_PASSIVE, None, False, True, id="not in Passive mode: unknown, and retried later"),
    pytest.param(BUSY, None, False, False, id="busy: unknown, so it is sent again"),
])
def test_a_command_answer(raw: int, setpoint: int | None, full: bool, refused: bool) -> None:
    rt = runtime()
    rt.on_status(PassiveCommand.battery(-1500), StatusWord(raw), 10.0)
    assert rt.setpoint_w == setpoint
    assert (rt.full_flag is not None) is full
    assert (rt.passive_refused_at is not None) is refused
    assert rt.commands_sent == (1 if setpoint is not None else 0)


def test_a_unit_that_refused_passive_mode_is_left_out_then_tried_again() -> None:
    rt = runtime()
    rt.on_status(PassiveCommand.battery(-1500), StatusWord(NOT_PASSIVE), 10.0)
    assert "Passive" in (unavailable_reason(rt.condition(11.0)) or "")
    assert unavailable_reason(rt.condition(10.0 + PASSIVE_RETRY_S + 1)) is None
    assert rt.changes_at() == 10.0 + PASSIVE_RETRY_S


@pytest.mark.parametrize(("reported", "note"), [
    pytest.param(-1500.0, None, id="where it was told: nothing to say"),
    pytest.param(-1470.0, None, id="within the register's steps: nothing to say"),
    pytest.param(-900.0, "delivers -900 W of -1500 W asked", id="short of it: capped to what it delivers"),
    pytest.param(0.0, "sending its setpoint again", id="idle: the command was lost, send it again"),
])
def test_a_reading_long_after_a_command(reported: float, note: str | None) -> None:
    rt = runtime()
    rt.on_status(PassiveCommand.battery(-1500), StatusWord(ACCEPTED), 10.0)
    said = rt.on_reading(reading(1, reported), 60.0)
    assert (said is None) if note is None else (note in (said or ""))
    if note and "capped" in note:
        assert rt.discharge_cap is not None and rt.discharge_cap[0] == 900


@pytest.mark.parametrize(("reported", "last_note"), [
    pytest.param(0.0, "delivers +0 W of -1500 W asked", id="stays idle: taken as able to deliver nothing"),
    pytest.param(600.0, "does not follow its commands", id="does the opposite: left alone both ways"),
])
def test_a_unit_that_never_follows_is_left_alone_for_a_while(reported: float, last_note: str) -> None:
    rt = runtime()
    notes = []
    for attempt in range(MAX_REFRESHES + 1):
        rt.on_status(PassiveCommand.battery(-1500), StatusWord(ACCEPTED), 10.0 + 60 * attempt)
        notes.append(rt.on_reading(reading(1, reported), 60.0 + 60 * attempt))
    assert all("sending its setpoint again" in (n or "") for n in notes[:MAX_REFRESHES])
    assert last_note in (notes[-1] or "")
    assert rt.discharge_cap is not None and rt.discharge_cap[0] == 0


@pytest.mark.parametrize(("health", "told", "forgets"), [
    pytest.param(LinkHealth.DEGRADED, False, False, id="degraded: still used, nothing to say"),
    pytest.param(LinkHealth.OFFLINE, True, True, id="offline: said, and its setpoint and reading forgotten"),
])
def test_the_link_going_bad(health: LinkHealth, told: bool, forgets: bool) -> None:
    rt = runtime()
    rt.on_status(PassiveCommand.battery(-1500), StatusWord(ACCEPTED), 10.0)
    assert rt.link_changed(health, 20.0) is told
    assert (rt.setpoint_w is None and rt.reading is None) is forgets
    if forgets:
        assert rt.link_changed(LinkHealth.OK, 30.0)  # and coming back is said too
        assert unavailable_reason(rt.condition(30.0)) == "not read yet"


def test_an_unanswered_command_leaves_the_setpoint_unknown() -> None:
    rt = runtime()
    rt.on_status(PassiveCommand.battery(-1500), StatusWord(ACCEPTED), 10.0)
    rt.on_command_failed(20.0)
    assert rt.setpoint_w is None  # the next cycle sends it again
