"""Stopping background tasks: a task that lost its cancel is cancelled again, and a stop that is itself
cancelled still propagates."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from smartsofar.tasks import RECANCEL_S, cancel_and_wait


async def forgets_one_cancel(started: asyncio.Event) -> None:
    """As a loop around Python 3.11's wait_for behaves when a reply and the cancel arrive together."""
    started.set()
    with contextlib.suppress(asyncio.CancelledError):  # the cancel is lost: the loop goes on
        await asyncio.sleep(3600)
    await asyncio.sleep(3600)


async def test_a_task_that_lost_its_cancel_is_cancelled_again() -> None:
    started = asyncio.Event()
    task = asyncio.create_task(forgets_one_cancel(started))
    await started.wait()
    begun = time.monotonic()
    await asyncio.wait_for(cancel_and_wait([task]), 5)
    assert task.cancelled() and time.monotonic() - begun < RECANCEL_S + 0.5


async def test_finished_and_failed_tasks_are_fine() -> None:
    async def fails() -> None:
        raise RuntimeError("a bug")
    failed = asyncio.create_task(fails())
    await asyncio.sleep(0)
    await cancel_and_wait([failed, asyncio.create_task(asyncio.sleep(0))])
    assert failed.done()


async def test_a_stop_that_is_cancelled_is_cancelled() -> None:
    stubborn = asyncio.create_task(asyncio.sleep(3600))
    stopping = asyncio.create_task(cancel_and_wait([stubborn]))
    await asyncio.sleep(0)
    stopping.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopping
