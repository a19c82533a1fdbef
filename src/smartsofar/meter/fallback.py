"""A meter read by its push where that works, and by polling where it does not (Shelly Gen2+ ``push = auto``).

The push is tried first. If it fails while the same device answers a poll (an old firmware, a proxy that
drops WebSockets), polling takes over, said once in the log, and the push is tried again every
``RETRY_PUSH_S``. A wrong password is never papered over: it fails both ways and is reported as such.
``pushes`` tells the poller which of the two is in use, so it paces its reads to match.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from smartsofar.errors import MeterAuthError, MeterError
from smartsofar.meter.base import Meter, MeterSample
from smartsofar.meter.push import PushMeter

log = logging.getLogger(__name__)
RETRY_PUSH_S = 600.0


class PushThenPoll:
    """The push meter while it delivers, else the polled one."""

    def __init__(self, push: PushMeter, poll: Meter, clock: Callable[[], float] = time.monotonic) -> None:
        self.push = push
        self.poll = poll
        self.clock = clock
        self.pushes = True
        self.model = push.model  # what is read, and how
        self._retry_push_at = 0.0

    @property
    def wait_s(self) -> float:
        """How long the push's read waits for a message."""
        return self.push.wait_s

    @wait_s.setter
    def wait_s(self, value: float) -> None:
        self.push.wait_s = value

    async def read(self) -> MeterSample:
        """The next pushed sample, or a polled one when the push does not work."""
        if self.pushes or self.clock() >= self._retry_push_at:
            try:
                sample = await self.push.read()
            except MeterAuthError:
                raise
            except MeterError as exc:
                await self.push.aclose()
                sample = await self.poll.read()  # raises if the device is not there at all
                if self.pushes:
                    log.warning("%s: its push does not work (%s); polling it instead", self.poll.model, exc)
                self.pushes = False
                self.model = f"{self.poll.model} (polled)"
                self._retry_push_at = self.clock() + RETRY_PUSH_S
                return sample
            if not self.pushes:
                log.info("%s: its push works again", self.poll.model)
            self.pushes = True
            self.model = self.push.model
            return sample
        return await self.poll.read()

    async def aclose(self) -> None:
        """Close both."""
        try:
            await self.push.aclose()
        finally:
            await self.poll.aclose()
