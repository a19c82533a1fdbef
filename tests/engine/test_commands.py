"""Changes people make, through the one commands object: validation, persistence, restart, effect."""

from __future__ import annotations

from pathlib import Path

import pytest

from smartsofar.config import ControlConfig
from smartsofar.errors import InvalidInputError, StorageError
from smartsofar.modes import Mode, ModeState
from tests.engine.harness import ScriptedHouse, make_rig


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


async def test_a_restart_keeps_the_mode_and_the_manual_power(tmp_path: Path) -> None:
    rig = await make_rig(ScriptedHouse(load=500), data_dir=tmp_path)
    rig.commands.set_mode("manual")
    rig.commands.set_manual_power(-1800)
    await rig.run_until(30)
    assert sum(rig.battery_w().values()) == -1800
    # The service stops and starts again: a new engine on the same data directory and the same units.
    again = await make_rig(ScriptedHouse(load=500), data_dir=tmp_path)
    assert again.site.mode == ModeState(Mode.MANUAL, manual_power_w=-1800)
    await again.run_until(30)
    assert sum(again.battery_w().values()) == -1800


@pytest.mark.parametrize(("call", "message"), [
    (lambda c: c.set_mode("turbo"), "mode must be"),
    (lambda c: c.set_manual_power(500), "switch to manual"),
    (lambda c: c.set_target("12.5"), "whole number"),
    (lambda c: c.set_target(25_000), "target must be between"),
    (lambda c: c.set_permissions(allow_charge="maybe"), "allow_charge must be on or off"),
    (lambda c: c.set_permissions(), "give allow_charge"),
], ids=["unknown mode", "manual power in auto", "fractional target", "target out of range", "bad switch",
        "nothing to switch"])
async def test_bad_input_is_refused_with_a_clear_message_and_changes_nothing(call: object, message: str,
                                                                            tmp_path: Path) -> None:
    rig = await make_rig(ScriptedHouse(load=500), data_dir=tmp_path / "a")
    twin = await make_rig(ScriptedHouse(load=500), data_dir=tmp_path / "b")  # the same site, left alone
    await rig.run_until(20)
    await twin.run_until(20)
    files = listing(tmp_path / "a")
    with pytest.raises(InvalidInputError, match=message):
        call(rig.commands)  # type: ignore[operator]
    await rig.run_until(60)
    await twin.run_until(60)
    assert rig.site.mode == twin.site.mode and listing(tmp_path / "a") == files
    assert rig.commands_sent == twin.commands_sent  # nothing commanded because of it
    assert rig.grid == twin.grid


async def test_a_manual_power_out_of_range_is_refused_with_the_range() -> None:
    rig = await make_rig(ScriptedHouse(load=500), mode=ModeState(Mode.MANUAL))
    with pytest.raises(InvalidInputError, match="between -6000 and 6000 W"):
        rig.commands.set_manual_power(6500)
    assert rig.site.mode.manual_power_w == 0


async def test_a_state_that_cannot_be_saved_is_not_applied(tmp_path: Path) -> None:
    rig = await make_rig(ScriptedHouse(load=500), data_dir=tmp_path / "gone")
    (tmp_path / "gone").write_text("a file where the directory should be")
    with pytest.raises(StorageError, match="nothing was changed"):
        rig.commands.set_mode("standby")
    assert rig.site.mode.mode is Mode.AUTO


async def test_standby_and_back_to_auto() -> None:
    rig = await make_rig(ScriptedHouse(load=1500))
    await rig.run_until(30)
    rig.commands.standby()
    await rig.run_until(40)
    assert rig.battery_w() == {1: 0, 2: 0}
    rig.commands.set_mode(1)  # v1's "auto"
    await rig.run_until(60)
    assert sum(rig.battery_w().values()) < -1400


async def test_broadcast_heartbeats_keep_every_unit_alive() -> None:
    sent: list[float] = []
    rig = await make_rig(ScriptedHouse(load=500), mode=ModeState(Mode.MANUAL, manual_power_w=-1000),
                         control=ControlConfig(heartbeat="broadcast", heartbeat_interval_s=20))

    async def broadcast() -> bool:
        sent.append(rig.sim.t)
        for unit in rig.sim.plant.units.values():
            unit.heartbeat(rig.sim.t)
        return True

    rig.site.broadcasters = {"simulated bus": broadcast}
    await rig.run_until(300)
    assert sum(rig.battery_w().values()) == -1000
    assert 12 <= len(sent) <= 16  # one every 20 s
    assert rig.commands_sent == 2
