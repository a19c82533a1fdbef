"""Sofar's keep-alive (function 0x49): to one unit with its reply, or broadcast to 0x88, paced.

Passive mode lapses to standby after 60 s without a heartbeat. Sending one more often than once a second is
pointless, so ``Pacer`` lets at most one through per second for each destination.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from smartsofar.bus.client import Bus
from smartsofar.bus.priority import Priority
from smartsofar.sofar.passive import BROADCAST_ID, SOFAR_PDUS, HeartbeatRequest, HeartbeatResponse

MIN_INTERVAL_S = 1.0


class Pacer:
    """Lets one heartbeat through per ``MIN_INTERVAL_S``."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._last: float | None = None

    def due(self) -> bool:
        """True (and counted as sent) when the last one went out at least a second ago."""
        now = self.clock()
        if self._last is not None and now - self._last < MIN_INTERVAL_S:
            return False
        self._last = now
        return True


async def heartbeat(bus: Bus, unit_id: int, pacer: Pacer) -> bool:
    """0x49 to one unit, waiting for its reply. False if skipped (sent less than a second ago)."""
    if not pacer.due():
        return False
    await bus.request(unit_id, lambda: HeartbeatRequest(dev_id=unit_id), HeartbeatResponse, lambda _r: True,
                      priority=Priority.COMMAND)
    return True


class BroadcastHeartbeat:
    """0x49 to 0x88 on one bus: every unit hears it, none answers."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.pacer = Pacer()
        bus.add_pdus(SOFAR_PDUS)

    async def __call__(self) -> bool:
        """Send it; False if skipped (sent less than a second ago)."""
        if not self.pacer.due():
            return False
        await self.bus.broadcast(HeartbeatRequest(dev_id=BROADCAST_ID))
        return True
