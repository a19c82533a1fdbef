"""The real-time runner stops its control loop, and runs the shutdown action, whatever is in flight."""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

from smartsofar.engine.runner import EngineRunner


class CountingSite:
    """Stands in for the site: counts cycles and the shutdown."""

    def __init__(self) -> None:
        self.keep_snapshots = False
        self.steps = 0
        self.shut_down = False
        self.steps_after_shutdown = 0

    async def step(self) -> None:
        self.steps += 1
        self.steps_after_shutdown += self.shut_down

    async def shutdown(self) -> None:
        self.shut_down = True


class IdleMonitor:
    async def read_all(self) -> None:
        return None

    async def run(self) -> None:
        await asyncio.Event().wait()


class Commands:
    def __init__(self) -> None:
        self.wake = asyncio.Event()


def runner_with(site: CountingSite, commands: Commands) -> EngineRunner:
    return EngineRunner(cast(Any, site), cast(Any, IdleMonitor()), None, cast(Any, commands))


async def test_a_command_arriving_as_the_service_stops_does_not_keep_the_control_loop_alive() -> None:
    # On Python 3.11, asyncio.wait_for returns the result and drops the cancel when both land together.
    site, commands = CountingSite(), Commands()
    runner = runner_with(site, commands)
    await runner.start()
    await asyncio.sleep(0.2)  # the loop waits for its next wake-up
    commands.wake.set()  # a command arrives ...
    started = time.monotonic()
    await runner.stop()  # ... as the service stops
    assert time.monotonic() - started < 0.5  # the loop ended at once ...
    await asyncio.sleep(1.5)  # (longer than the loop's longest wait)
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
    await asyncio.sleep(2.2)
    await runner.stop()
    assert woken == 5
    assert site.steps - first - woken >= 2  # no wake-ups, still a cycle a second
