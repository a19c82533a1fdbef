"""Running a site in real time: the meter poller, the unit monitor and the control loop, as tasks.

The control loop runs one ``Site.step`` after every meter poll and every command, and at least once a
second, so a silent meter is noticed on time. A cycle that fails on a bug is logged and the next one starts
afresh. Heartbeats go out from their own task, only while the last cycle was good and recent, so a
controller stuck in failures lets the units lapse to standby by themselves, and a cycle never waits on them.
On stop, the configured shutdown action runs (standby by default). The units' learned responses are saved now
and then while they change, and on stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from smartsofar.engine.commands import SiteCommands
from smartsofar.engine.monitor import UnitMonitor
from smartsofar.engine.site import Site
from smartsofar.meter.poller import MeterPoller
from smartsofar.storage.response_store import SAVE_EVERY_S, ResponseStore
from smartsofar.tasks import cancel_and_wait

log = logging.getLogger(__name__)
MAX_CYCLE_GAP_S = 1.0
HEARTBEAT_CHECK_S = 1.0
CYCLING_AGE_S = 5.0  # a control loop whose last good cycle is older than this has stalled


class EngineRunner:
    """The site's tasks."""

    def __init__(self, site: Site, monitor: UnitMonitor, poller: MeterPoller | None, commands: SiteCommands,
                 responses: ResponseStore | None = None, *, max_cycle_gap_s: float = MAX_CYCLE_GAP_S) -> None:
        self.site = site
        self.max_cycle_gap_s = max_cycle_gap_s  # a cycle at least this often, woken or not
        self.responses = responses
        self.monitor = monitor
        self.poller = poller
        self.commands = commands
        self.first_decision_s: float | None = None  # seconds from start() to the first control cycle
        self._started = 0.0
        self._tasks: list[asyncio.Task[None]] = []
        self._failures = 0
        self._good_cycle_at: float | None = None  # monotonic time the last cycle ended without an error
        if poller is not None:
            poller.on_poll = commands.wake.set

    async def start(self) -> None:
        """Read every unit and the meter once, run the first cycle, then start the tasks."""
        self._started = time.monotonic()
        self.site.keep_snapshots = True
        reads = [self.monitor.read_all()]
        if self.poller is not None:
            reads.append(self._first_poll(self.poller))
        await asyncio.gather(*reads)
        await self._cycle()
        await self.site.keep_alive_if_healthy()
        self.site.lag.clear()  # the first sample waited for the start-up reads: that is first_decision_s
        self.first_decision_s = time.monotonic() - self._started
        log.info("first control decision %.2f s after start", self.first_decision_s)
        if self.poller is not None:
            self._tasks.append(asyncio.create_task(self.poller.run(), name="meter"))
        self._tasks.append(asyncio.create_task(self.monitor.run(), name="units"))
        self._tasks.append(asyncio.create_task(self._control_loop(), name="control"))
        self._tasks.append(asyncio.create_task(self._heartbeats(), name="heartbeats"))
        if self.responses is not None:
            self._tasks.append(asyncio.create_task(self._keep_responses(self.responses), name="responses"))

    async def _keep_responses(self, store: ResponseStore) -> None:
        while True:
            await asyncio.sleep(SAVE_EVERY_S)
            self._save_responses(store)

    def _save_responses(self, store: ResponseStore) -> None:
        if not store.changed(self.site.units):
            return
        try:
            store.save(self.site.units)
        except OSError as exc:
            log.warning("the units' learned responses could not be saved: %s", exc)

    @staticmethod
    async def _first_poll(poller: MeterPoller) -> None:
        await poller.poll_once()

    async def _control_loop(self) -> None:
        wake = self.commands.wake
        while True:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for loses a cancel that arrives as the wake-up
            # does, and this loop would go on commanding the units after stop().
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.max_cycle_gap_s):
                    await wake.wait()
            wake.clear()
            await self._cycle()

    async def _heartbeats(self) -> None:
        """Keep passive mode alive, apart from the control cycle (which must never wait on it)."""
        while True:
            await asyncio.sleep(HEARTBEAT_CHECK_S)
            try:
                await self.site.keep_alive_if_healthy()
            except Exception:  # a bug: log it; without heartbeats the units lapse to standby, which is safe
                log.exception("heartbeats failed")

    async def _cycle(self) -> None:
        try:
            await self.site.step(keep_alive=False)
        except Exception:  # a bug: log it, keep the loop alive; no heartbeat went out this cycle
            self._failures += 1
            if self._failures in (1, 10) or self._failures % 600 == 0:
                log.exception("control cycle failed (%d so far)", self._failures)
        else:
            self._failures = 0
            self._good_cycle_at = time.monotonic()

    async def stop(self) -> None:
        """Stop the tasks, then run the shutdown action (even when this stop is itself cancelled)."""
        try:
            await cancel_and_wait(self._tasks)
        finally:
            self._tasks.clear()
            try:
                await self.site.shutdown()
            finally:
                if self.responses is not None:
                    self._save_responses(self.responses)

    def cycling(self) -> bool:
        """True while the tasks are alive and the control loop completed a cycle in the last few seconds
        (what the systemd watchdog is fed on)."""
        good = self._good_cycle_at
        return self.running and good is not None and time.monotonic() - good <= CYCLING_AGE_S

    @property
    def running(self) -> bool:
        """True while every task is alive."""
        return bool(self._tasks) and all(not t.done() for t in self._tasks)
