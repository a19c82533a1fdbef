"""The bus's lock hands the line to the most urgent waiter, first come first served within a priority, and a
waiter that gives up does not block the others."""

from __future__ import annotations

import asyncio

import pytest

from smartsofar.bus.priority import Priority, PriorityLock, effective, on_demand


async def test_the_most_urgent_waiter_goes_next() -> None:
    lock = PriorityLock()
    order: list[str] = []
    release = asyncio.Event()

    async def holder() -> None:
        async with lock.hold(Priority.READ):
            await release.wait()

    async def waiter(name: str, priority: Priority) -> None:
        async with lock.hold(priority):
            order.append(name)

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    tasks = [asyncio.create_task(waiter(f"click {i}", Priority.ON_DEMAND)) for i in range(3)]
    tasks += [asyncio.create_task(waiter("engine read", Priority.READ)),
              asyncio.create_task(waiter("setpoint", Priority.COMMAND))]
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(first, *tasks)
    assert order == ["setpoint", "engine read", "click 0", "click 1", "click 2"]


async def test_a_waiter_that_is_cancelled_leaves_the_line_to_the_next() -> None:
    lock = PriorityLock()
    release = asyncio.Event()
    got: list[str] = []

    async def holder() -> None:
        async with lock.hold(Priority.READ):
            await release.wait()

    async def waiter(name: str) -> None:
        async with lock.hold(Priority.COMMAND):
            got.append(name)

    first = asyncio.create_task(holder())
    await asyncio.sleep(0)
    quitter, stayer = asyncio.create_task(waiter("quitter")), asyncio.create_task(waiter("stayer"))
    await asyncio.sleep(0)
    quitter.cancel()
    release.set()
    await asyncio.gather(first, stayer)
    with pytest.raises(asyncio.CancelledError):
        await quitter
    assert got == ["stayer"] and lock.waiting == 0


def test_on_demand_lowers_reads_but_never_a_command() -> None:
    assert effective(Priority.READ) is Priority.READ
    with on_demand():
        assert effective(Priority.READ) is Priority.ON_DEMAND
        assert effective(Priority.COMMAND) is Priority.COMMAND
