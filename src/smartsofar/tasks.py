"""Ending background tasks: cancel them and wait until they have really ended.

``asyncio.wait`` is used rather than awaiting each task under ``suppress(CancelledError)``: that would also
swallow a cancel aimed at the caller, so a stop that was itself cancelled (a shutdown deadline) would go on.

A cancel can be lost on Python 3.11: ``asyncio.wait_for`` (which pymodbus uses for every reply) returns the
result and drops the cancel when both arrive together, and the task then runs on as if nothing happened.
So a task that has not ended ``RECANCEL_S`` after its cancel is cancelled again, until it ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)
RECANCEL_S = 0.5


async def cancel_and_wait(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel ``tasks`` and return once every one of them is done; their errors are logged, not raised."""
    every = list(tasks)
    pending = {task for task in every if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _done, pending = await asyncio.wait(pending, timeout=RECANCEL_S)
        for task in pending:
            log.debug("task %s is still running after its cancel: cancelling it again", task.get_name())
    for task in every:
        if not task.cancelled() and task.exception() is not None:
            log.debug("task %s ended with %r", task.get_name(), task.exception())
