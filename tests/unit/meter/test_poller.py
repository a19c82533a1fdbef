"""Meter polling: stale samples are never used, state changes are logged once, a frozen meter is caught."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pytest

from smartsofar.config import parse_meter
from smartsofar.errors import MeterAuthError, MeterError, MeterUnavailableError
from smartsofar.meter.base import MeterSample, PhaseSample
from smartsofar.meter.poller import MeterPoller, MeterState
from smartsofar.meter.push import PushMeter
from smartsofar.meter.sources import open_meter_source


class ScriptedMeter:
    """A fake meter: each read returns the next power or raises the next error."""

    model = "scripted"

    def __init__(self, clock: list[float], script: Sequence[float | MeterError]) -> None:
        self.clock = clock
        self.script = list(script)

    async def read(self) -> MeterSample:
        item = self.script.pop(0)
        if isinstance(item, MeterError):
            raise item
        return MeterSample(item, item, (PhaseSample(item),), self.clock[0])

    async def aclose(self) -> None:
        pass


async def test_a_sample_older_than_the_limit_is_never_used() -> None:
    now = [0.0]
    poller = MeterPoller(ScriptedMeter(now, [250.0]), stale_after_s=5.0, clock=lambda: now[0])
    await poller.poll_once()
    assert poller.fresh() is not None and poller.fresh().power_w == 250.0  # type: ignore[union-attr]
    now[0] = 5.0
    assert poller.fresh() is not None
    now[0] = 5.1
    assert poller.fresh() is None


async def test_failures_are_logged_once_per_change_of_state(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    down = MeterUnavailableError("http://m: cannot connect")
    meter = ScriptedMeter(now, [100.0, down, down, down, 120.0, MeterAuthError("refused")])
    poller = MeterPoller(meter, clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="smartsofar.meter.poller"):
        for _ in range(6):
            now[0] += 1
            await poller.poll_once()
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["meter scripted: http://m: cannot connect", "meter scripted is back", "meter scripted: refused"]
    assert poller.state is MeterState.AUTH_FAILED
    assert poller.failures == 4


async def test_failed_reads_let_the_last_sample_go_stale() -> None:
    now = [0.0]
    down = MeterUnavailableError("down")
    poller = MeterPoller(ScriptedMeter(now, [300.0] + [down] * 10), stale_after_s=5.0, clock=lambda: now[0])
    fresh_at = []
    for second in range(10):
        now[0] = float(second)
        await poller.poll_once()
        fresh_at.append(poller.fresh() is not None)
    assert fresh_at == [True] * 6 + [False] * 4


async def test_identical_values_while_batteries_move_means_frozen() -> None:
    now = [0.0]
    poller = MeterPoller(ScriptedMeter(now, [42.0] * 40 + [43.0]), frozen_after_s=30.0, clock=lambda: now[0])
    for second in range(31):
        now[0] = float(second)
        poller.note_battery_power(-1500.0 if second > 10 else 0.0)
        await poller.poll_once()
    assert poller.state is MeterState.FROZEN
    assert poller.fresh() is None
    for second in range(31, 40):
        now[0] = float(second)
        await poller.poll_once()
    now[0] = 40.0
    await poller.poll_once()  # 43.0: values move again
    assert poller.fresh() is not None
    assert str(poller.state) == "ok"


async def test_identical_values_while_nothing_moves_is_not_yet_frozen() -> None:
    now = [0.0]
    poller = MeterPoller(ScriptedMeter(now, [42.0] * 40), frozen_after_s=30.0, clock=lambda: now[0])
    for second in range(40):
        now[0] = float(second)
        await poller.poll_once()
    assert poller.state is MeterState.OK


async def test_samples_faster_than_a_second_reach_the_control_as_one_mean_a_second() -> None:
    now = [0.0]
    values = [100.0, 120.0, 140.0, 160.0, 180.0, 200.0, 220.0]  # a 5 Hz meter, its grid climbing
    poller = MeterPoller(ScriptedMeter(now, values), clock=lambda: now[0])
    woken: list[float] = []
    poller.on_poll = lambda: woken.append(now[0])
    handed = []
    for index in range(len(values)):
        now[0] = index * 0.2
        await poller.poll_once()
        handed.append(None if poller.latest is None else poller.latest.power_w)
    assert handed == [100.0, 100.0, 100.0, 100.0, 100.0, 160.0, 160.0]  # (120+...+200)/5 at 1.0 s
    assert woken == [0.0, 1.0]  # the control woken once a second, not at every sample


async def test_a_jump_between_fast_samples_reaches_the_control_at_once() -> None:
    now = [0.0]
    poller = MeterPoller(ScriptedMeter(now, [100.0, 110.0, 2100.0, 2090.0]), clock=lambda: now[0])
    handed = []
    for index in range(4):
        now[0] = index * 0.2
        await poller.poll_once()
        handed.append(None if poller.latest is None else poller.latest.power_w)
    assert handed == [100.0, 100.0, 2100.0, 2100.0]  # the kettle at 0.4 s, not at the window's end


async def test_a_changed_stale_limit_reaches_a_pushing_meter_s_wait() -> None:
    meter = await open_meter_source(parse_meter({"url": "mqtt://127.0.0.1:1/grid", "stale_after_s": 5}))
    assert isinstance(meter, PushMeter)
    poller = MeterPoller(meter, stale_after_s=5.0)
    poller.stale_after_s = 15.0  # a slower meter, set live from the settings page
    assert meter.wait_s == 15.0
    await meter.aclose()


async def test_the_poll_after_an_early_one_is_handed_on_at_once() -> None:
    now = [0.0]
    poller = MeterPoller(ScriptedMeter(now, [300.0, 300.0, 340.0]), clock=lambda: now[0])
    for at in (0.0, 0.98, 1.08):  # the second poll came before the meter's update: the same values again
        now[0] = at
        await poller.poll_once()
    assert poller.latest is not None and poller.latest.power_w == 340.0 and poller.latest.taken_at == 1.08


async def test_once_the_meter_s_update_is_found_its_new_samples_say_how_old_they_are_at_most() -> None:
    now = [0.0]
    poller = MeterPoller(ScriptedMeter(now, [300.0, 300.0, 340.0]), clock=lambda: now[0])
    lags = []
    for at in (0.0, 0.98, 1.08):  # the second poll came before the meter's update: the update is found
        now[0] = at
        poller.phase.after(await poller.poll_once(), 1.0)
        assert poller.latest is not None
        lags.append(poller.latest.lag_s)
    assert lags == [None, None, pytest.approx(0.1)]  # the repeat is a second old: it says nothing


async def test_an_early_poll_is_not_taken_for_a_new_measurement_but_a_lasting_value_keeps_the_meter_fresh() -> None:
    now = [0.0]
    poller = MeterPoller(ScriptedMeter(now, [300.0] * 4), clock=lambda: now[0])
    handed_on = []
    for at in (0.0, 0.98, 1.08, 2.08):  # the meter had not measured again by 0.98 s; by 2.08 s it has, the same
        now[0] = at
        await poller.poll_once()
        assert poller.latest is not None
        handed_on.append(poller.latest.taken_at)
    assert handed_on == [0.0, 0.0, 0.0, 2.08]
