"""Reconfiguring the real engine (in accelerated time): what applies live does at once, the rest waits for a
restart and is said so, and the adapters are told."""

from __future__ import annotations

from smartsofar.config import Config, parse_config
from smartsofar.engine.facade import Engine, applies_live, changed_keys
from smartsofar.engine.runner import EngineRunner
from smartsofar.plan.service import Planning
from tests.engine.harness import ScriptedHouse, make_rig

SITE = {"buses": [{"url": "tcp://127.0.0.1:1502", "units": [{"id": 1}, {"id": 2}]}],
        "meter": {"url": "http://127.0.0.1:8081", "password": "old"}}


def with_changes(config: Config, **sections: dict[str, object]) -> Config:
    data = config.model_dump()
    for section, values in sections.items():
        data[section] = {**(data[section] or {}), **values}
    return parse_config(data)


async def test_live_settings_reach_the_law_the_monitor_and_the_meter_and_the_rest_waits() -> None:
    rig = await make_rig(ScriptedHouse(load=1200.0))
    config = parse_config(SITE)
    engine = Engine(config, rig.site, rig.monitor, rig.poller, rig.commands,
                    EngineRunner(rig.site, rig.monitor, rig.poller, rig.commands), Planning(config, rig.site, None))
    told: list[Config] = []
    engine.on_reconfigure(told.append)
    new = with_changes(config, control={"deadband_w": 25.0, "unit_read_interval_s": 7.0, "target_w": 30},
                       meter={"poll_interval_s": 2.0, "password": "new"}, web={"port": 8099})
    done = engine.reconfigure(new)
    assert done.applied == ("control.deadband_w", "control.target_w", "control.unit_read_interval_s",
                            "meter.poll_interval_s")
    assert done.needs_restart == ("meter.password", "web.port")  # a secret counts as changed by its value
    assert rig.site.control.deadband_w == 25 and rig.site.memory.law.config.deadband_w == 25
    assert rig.monitor.interval_s == 7 and rig.poller.interval_s == 2
    assert rig.site.mode.target_w == 30  # the operating target follows the file's new one
    assert engine.diagnostics()["pending_restart"] == ["meter.password", "web.port"]
    assert told == [new]
    again = engine.reconfigure(new, touched=["control.allow_discharge"])
    assert again.applied == ("control.allow_discharge",) and not again.needs_restart
    schedule = parse_config({**SITE, "schedule": [{"hours": "01:00-05:00", "mode": "charge", "soc_pct": 80}]})
    live = engine.reconfigure(schedule)
    assert "schedule.0.hours" in live.applied and not any(k.startswith("schedule") for k in live.needs_restart)
    assert engine.planning.view()["schedule"] == ["charge to 80 % 01:00-05:00 all"]  # in force now
    tariff = engine.reconfigure(parse_config({**SITE, "tariff": {"kind": "time_of_use", "price": 0.2,
                                                                 "offpeak_price": 0.1, "preset": "economy_7"}}))
    assert "tariff.kind" in tariff.needs_restart


async def test_a_changed_target_takes_the_grid_there() -> None:
    rig = await make_rig(ScriptedHouse(load=1200.0))
    await rig.run_until(30)
    assert abs(sum(rig.grid_between(25, 30)) / 5) < 20
    config = parse_config(SITE)
    engine = Engine(config, rig.site, rig.monitor, rig.poller, rig.commands,
                    EngineRunner(rig.site, rig.monitor, rig.poller, rig.commands), Planning(config, rig.site, None))
    engine.reconfigure(with_changes(config, control={"target_w": 300}))
    await rig.run_until(60)
    assert abs(sum(rig.grid_between(50, 60)) / 10 - 300) < 20


def test_the_live_rule() -> None:
    assert applies_live("control.deadband_w") and applies_live("meter.stale_after_s")
    assert not applies_live("control.mode") and not applies_live("buses.0.units.1.max_charge_w")
    assert applies_live("web.read_only_without_login") and not applies_live("web.port")
    base = parse_config(SITE)
    assert changed_keys(base, base) == []
