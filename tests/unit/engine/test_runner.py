"""The real-time runner stops its control loop, and runs the shutdown action, whatever is in flight."""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

import pytest

from smartsofar.engine.lag import LagMeter
from smartsofar.engine.runner import EngineRunner


class CountingSite:
    """Stands in for the site: counts cycles and the shutdown."""

    def __init__(self) -> None:
        self.keep_snapshots = False
        self.steps = 0
        self.shut_down = False
        self.steps_after_shutdown = 0
        self.keep_alives = 0
        self.lag = LagMeter()

    async def step(self, *, keep_alive: bool = True) -> None:
        assert not keep_alive  # in real time, heartbeats have their own task
        self.steps += 1
        self.steps_after_shutdown += self.shut_down

    async def keep_alive_if_healthy(self) -> None:
        self.keep_alives += 1

    async def shutdown(self) -> None:
        self.shut_down = True


class IdleMonitor:
    def __init__(self, linger_s: float = 0.0) -> None:
        self.linger_s = linger_s  # how long it takes to end once cancelled

    async def read_all(self) -> None:
        return None

    async def run(self) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.shield(asyncio.sleep(self.linger_s))


class Commands:
    def __init__(self) -> None:
        self.wake = asyncio.Event()


GAP_S = 0.05  # the loop's longest wait between cycles, shortened for these tests


def runner_with(site: CountingSite, commands: Commands, monitor: IdleMonitor | None = None) -> EngineRunner:
    return EngineRunner(cast(Any, site), cast(Any, monitor or IdleMonitor()), None, cast(Any, commands),
                        max_cycle_gap_s=GAP_S)


async def test_a_command_arriving_as_the_service_stops_does_not_keep_the_control_loop_alive() -> None:
    # On Python 3.11, asyncio.wait_for returns the result and drops the cancel when both land together.
    site, commands = CountingSite(), Commands()
    runner = runner_with(site, commands)
    await runner.start()
    await asyncio.sleep(GAP_S / 2)  # the loop waits for its next wake-up
    commands.wake.set()  # a command arrives ...
    started = time.monotonic()
    await runner.stop()  # ... as the service stops
    assert time.monotonic() - started < 0.5  # the loop ended at once ...
    await asyncio.sleep(4 * GAP_S)  # (longer than the loop's longest wait)
    assert site.shut_down and site.steps_after_shutdown == 0 and not runner.running  # ... and for good


async def test_the_loop_cycles_on_every_wake_up_and_at_least_once_a_second() -> None:
    site, commands = CountingSite(), Commands()
    runner = runner_with(site, commands)
    await runner.start()
    first = site.steps
    for _ in range(5):
        commands.wake.set()
        await asyncio.sleep(0.01)
    woken = site.steps - first
    await asyncio.sleep(5 * GAP_S)
    await runner.stop()
    assert woken == 5
    assert site.steps - first - woken >= 2  # no wake-ups, still a cycle every GAP_S


async def test_the_shutdown_action_runs_even_when_the_stop_itself_is_cancelled() -> None:
    site, commands = CountingSite(), Commands()
    runner = runner_with(site, commands, IdleMonitor(linger_s=0.5))
    await runner.start()
    stopping = asyncio.create_task(runner.stop())
    await asyncio.sleep(0.1)  # the monitor is still ending ...
    stopping.cancel()  # ... when a deadline cancels the stop
    with pytest.raises(asyncio.CancelledError):
        await stopping
    assert site.shut_down  # the units were still told the shutdown action
