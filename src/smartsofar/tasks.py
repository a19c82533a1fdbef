"""Ending background tasks: cancel them and wait until they have really ended.

``asyncio.wait`` is used rather than awaiting each task under ``suppress(CancelledError)``: that would also
swallow a cancel aimed at the caller, so a stop that was itself cancelled (a shutdown deadline) would go on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

log = logging.getLogger(__name__)


async def cancel_and_wait(tasks: Iterable[asyncio.Task[Any]]) -> None:
    """Cancel ``tasks`` and return once every one of them is done; their errors are logged, not raised."""
    pending = list(tasks)
    for task in pending:
        task.cancel()
    if not pending:
        return
    await asyncio.wait(pending)
    for task in pending:
        if not task.cancelled() and task.exception() is not None:
            log.debug("task %s ended with %r", task.get_name(), task.exception())
