"""The real bus client against the simulated ME3000 bus over RTU-over-TCP on 127.0.0.1."""

from __future__ import annotations

import asyncio

import pytest

from smartsofar.bus.client import Bus
from smartsofar.errors import BusUnavailableError, NoResponseError, ProtocolError
from smartsofar.link import LinkHealth
from smartsofar.sim.inverter_server import BusFaults
from smartsofar.sim.plant import Plant
from smartsofar.sofar.heartbeat import BroadcastHeartbeat
from smartsofar.sofar.passive import CommandResult, PassiveCommand
from smartsofar.sofar.status import RunningState
from smartsofar.sofar.unit import SofarUnit
from tests.conftest import SimGateway, start_gateway


async def test_read_decodes_what_the_simulated_unit_holds(gateway: SimGateway) -> None:
    gateway.bus.plant.units[2].soc_pct = 81.0
    async with Bus(gateway.url) as bus:
        reading = await SofarUnit(bus, 2).read()
        info = await SofarUnit(bus, 2).read_info()
        settings = await SofarUnit(bus, 2).read_settings()
    assert reading.soc_pct == 81
    assert reading.running_state is RunningState.WAIT
    assert 40 < reading.battery_v < 60
    assert reading.grid_feed_w == -400  # the simulated house imports its 400 W load
    assert info.serial.startswith("SE1ES")
    assert settings.battery_type_name == "PYLON"
    assert bus.health(2) is LinkHealth.OK


async def test_charge_command_is_followed_by_the_unit(gateway: SimGateway) -> None:
    async with Bus(gateway.url) as bus:
        unit = SofarUnit(bus, 1)
        status = await unit.command(PassiveCommand("charge", 1200))
        assert status.accepted and status.charge_allowed
        await asyncio.sleep(1.0 + 1.2 + 0.3)  # dead time 1 s, ramp 1000 W/s
        reading = await unit.read()
    assert reading.battery_w == 1200
    assert reading.running_state is RunningState.CHARGING
    assert reading.grid_feed_w == -1600
    assert [a.command for a in gateway.bus.applied] == [PassiveCommand("charge", 1200)]
    assert gateway.bus.applied[0].unit_id == 1


async def test_unit_not_in_passive_mode_says_how_to_fix_it(gateway: SimGateway) -> None:
    gateway.bus.plant.units[1].passive_selected = False
    async with Bus(gateway.url) as bus:
        status = await SofarUnit(bus, 1).command(PassiveCommand("discharge", 500))
    assert status.result is CommandResult.INVALID_MODE
    assert "Passive mode" in status.message
    assert gateway.bus.applied == []


async def test_unknown_slave_id_gets_silence_not_an_exception(gateway: SimGateway) -> None:
    async with Bus(gateway.url, timeout_s=0.2, retries=1, settle_s=0.01) as bus:
        with pytest.raises(NoResponseError, match="unit 9"):
            await SofarUnit(bus, 9).read()
        stats = bus.stats(9)
    assert stats.timeouts == 2 and stats.requests == 2


async def test_offline_unit_is_reported_offline_and_the_other_keeps_working(gateway: SimGateway) -> None:
    gateway.bus.faults.offline_units.add(2)
    async with Bus(gateway.url, timeout_s=0.2, retries=0, settle_s=0.01) as bus:
        for _ in range(3):
            with pytest.raises(NoResponseError):
                await SofarUnit(bus, 2).read()
        assert bus.health(2) is LinkHealth.OFFLINE
        assert (await SofarUnit(bus, 1).read()).soc_pct == 50
        assert bus.health(1) is LinkHealth.OK
        gateway.bus.faults.offline_units.clear()
        await SofarUnit(bus, 2).read()
        assert bus.health(2) is LinkHealth.OK


async def test_out_of_block_read_is_a_clear_protocol_error(gateway: SimGateway) -> None:
    async with Bus(gateway.url) as bus:
        with pytest.raises(ProtocolError, match="exception 2"):
            await bus.read_holding(1, 0x0300, 4)


async def test_unreachable_gateway_is_bus_unavailable() -> None:
    bus = Bus("tcp://127.0.0.1:9", timeout_s=0.5)
    with pytest.raises(BusUnavailableError, match="cannot open"):
        await bus.open()
    await bus.close()


async def test_broadcast_heartbeat_reaches_every_unit_and_is_rate_limited(gateway: SimGateway) -> None:
    for unit in gateway.bus.plant.units.values():
        unit.last_keepalive = -100.0
    async with Bus(gateway.url) as bus:
        broadcast, one = BroadcastHeartbeat(bus), SofarUnit(bus, 1)
        assert await broadcast()
        assert not await broadcast()  # < 1 s later: not sent
        assert await one.heartbeat()
        assert not await one.heartbeat()
        await asyncio.sleep(0.1)
    assert all(u.last_keepalive > 0 for u in gateway.bus.plant.units.values())
    assert gateway.bus.requests_seen == 2


async def test_passive_mode_lapses_to_standby_without_keepalive() -> None:
    now = [0.0]
    plant = Plant(unit_ids=(1,), clock=lambda: now[0])
    gw, server = await start_gateway(plant)
    async with server, Bus(gw.url) as bus:
        await SofarUnit(bus, 1).command(PassiveCommand("discharge", 2000))
        now[0] = 50.0
        await SofarUnit(bus, 1).heartbeat()
        now[0] = 100.0
        assert (await SofarUnit(bus, 1).read()).battery_w == -2000  # 50 s after the heartbeat: still on
        now[0] = 115.0
        reading = await SofarUnit(bus, 1).read()  # 65 s of silence: passive mode lapsed
    assert reading.battery_w == 0
    assert plant.units[1].command.kind == "standby"


@pytest.mark.slow
async def test_under_five_percent_line_faults_reads_are_right_and_commands_land_on_the_right_unit() -> None:
    plant = Plant(unit_ids=(1, 2))
    faults = BusFaults(drop_rate=0.05, corrupt_rate=0.05, stray_rate=0.05, noise_rate=0.05, late_rate=0.02,
                       late_s=0.25, seed=7)
    gw, server = await start_gateway(plant, faults)
    sent: dict[int, list[PassiveCommand]] = {1: [], 2: []}
    errors = 0
    async with server, Bus(gw.url, timeout_s=0.2, retries=3, settle_s=0.05, min_gap_s=0.0) as bus:
        for i in range(120):
            uid = 1 + i % 2
            plant.units[uid].soc_pct = 10 + i % 80
            try:
                reading = await SofarUnit(bus, uid).read()
                assert reading.soc_pct == 10 + i % 80
            except (NoResponseError, ProtocolError):
                errors += 1
            command = PassiveCommand.battery((i * 137) % 6001 - 3000)
            sent[uid].append(command)
            try:
                await SofarUnit(bus, uid).command(command)
            except (NoResponseError, ProtocolError):
                errors += 1
        counters = bus.counters
    assert errors <= 2
    assert counters.crc_errors > 0 and sum(s.stray_frames for s in counters.units.values()) > 0
    for uid in (1, 2):
        applied = [a.command for a in gw.bus.applied if a.unit_id == uid]
        # every applied command is one sent to this unit, in order (a retry may apply one twice)
        deduped = [c for k, c in enumerate(applied) if k == 0 or c != applied[k - 1]]
        it = iter(sent[uid])
        assert all(any(c == s for s in it) for c in deduped)
        assert len(deduped) >= len(sent[uid]) - 2
