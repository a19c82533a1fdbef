"""The site loop: one control cycle reads what is known, decides, commands the units, and publishes.

The same ``Site.step`` runs in real time (``engine.runner`` calls it on every meter sample) and in
accelerated simulated time (``sim.simulate`` calls it once per simulated second): there is one copy of the
control logic. ``Site`` only gathers the decision's inputs, carries the decision out, and keeps the units'
memory up to date; what each mode decides is in ``control.decide``.

Per cycle:

1. each unit's condition and room (link, faults, Passive mode, full/flat flags, SoC limits, permissions);
2. the meter's verdict and fresh sample; the mode's decision (``control.decide``): the setpoints to send;
3. only changed setpoints are sent, reductions first; increases to a unit are rate-limited, reductions
   and re-sends never are;
4. heartbeats keep passive mode alive, only while the engine is healthy: a crashed or blind controller
   lets the units lapse to standby by themselves (in real time they go out from their own task, so that
   a cycle never waits on them);
5. a ``SiteSnapshot`` is published.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

from smartsofar.config import ControlConfig
from smartsofar.control.decide import ControlMemory, decide
from smartsofar.control.decision import STARTING, Decision, DecisionInputs, SafetyState
from smartsofar.control.intent import NORMAL, BatteryIntent
from smartsofar.control.safety import meter_verdict, soc_gates, unavailable_reason, unit_room
from smartsofar.engine.hub import Topic
from smartsofar.engine.lag import LagMeter
from smartsofar.engine.snapshot import Event, SiteSnapshot
from smartsofar.engine.units import UnitRuntime
from smartsofar.engine.view import build_snapshot
from smartsofar.errors import DeviceError
from smartsofar.link import LinkHealth
from smartsofar.meter.base import MeterSample
from smartsofar.meter.poller import MeterPoller, MeterState
from smartsofar.modes import Mode, ModeState
from smartsofar.sofar.passive import PassiveCommand

log = logging.getLogger(__name__)
HEALTHY_CYCLE_AGE_S = 3.0  # heartbeats go out only while the last healthy cycle is this recent
PLAN_MEMORY_S = 8.0  # a usable sample is at most 5 s old, and its window reaches 2 s further back
Broadcast = Callable[[], Awaitable[bool]]
Steer = Callable[[float, float | None], BatteryIntent]  # (wall clock, site SoC) -> what auto mode is asked


class Site:
    """A site: its units, its meter, its operating state, and the law that drives them."""

    def __init__(self, control: ControlConfig, units: Sequence[UnitRuntime], meter: MeterPoller | None,
                 mode: ModeState, *, clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time,
                 broadcasters: Mapping[str, Broadcast] | None = None) -> None:
        self.control = control
        self.units = list(units)
        self.meter = meter
        self.mode = mode
        self.clock = clock
        self.wall_clock = wall_clock
        self.broadcasters = dict(broadcasters or {})
        self.memory = ControlMemory(control)  # the law's state and the oscillation watch
        self.snapshots: Topic[SiteSnapshot] = Topic(maxsize=20)
        self.events: Topic[Event] = Topic(maxsize=500)
        self.commands_sent = 0
        self.cycles = 0
        self.safety = SafetyState.STARTING
        self._last_decision: Decision | None = None
        self._snapshot: SiteSnapshot | None = None
        self.keep_snapshots = False  # the service keeps Topic.latest current for its adapters
        self._decided_at = -math.inf
        self.lag = LagMeter()
        self._broadcast_failing: set[str] = set()
        self.unit_reads_wanted = asyncio.Event()  # set when a command opens a response episode: read it soon
        self.steer: Steer | None = None  # the plan, schedules and external battery modes (engine.steering)
        self.intent: BatteryIntent = NORMAL  # what the last cycle was asked besides zero export

    def unit(self, unit_id: int) -> UnitRuntime:
        """A unit by slave id (KeyError if there is none)."""
        for rt in self.units:
            if rt.unit_id == unit_id:
                return rt
        raise KeyError(unit_id)

    @property
    def manual_range_w(self) -> tuple[int, int]:
        """The battery total manual mode accepts: the units' configured limits."""
        return (-sum(rt.config.max_discharge_w for rt in self.units), sum(rt.config.max_charge_w for rt in self.units))

    def emit(self, kind: str, message: str, unit_id: int | None = None,
             data: Mapping[str, object] | None = None) -> None:
        """Publish an event."""
        self.events.publish(Event(self.wall_clock(), kind, message, unit_id, dict(data or {})))

    def set_mode_state(self, state: ModeState) -> None:
        """Adopt a new operating state (validated by the caller): the next cycle acts on it, and a snapshot
        with it is published now, so whoever asked (or watches) reads it back at once."""
        previous, self.mode = self.mode, state
        if previous.mode is not state.mode or previous.target_w != state.target_w:
            self.memory.law.reset()
        if previous != state:
            self.emit("mode", f"mode {state.mode}", data=state.to_json())
            self._snapshot = None
            if self.snapshots.subscriber_count or self.keep_snapshots:
                self.snapshots.publish(self.snapshot())

    # --- one cycle ------------------------------------------------------------------------------------------

    async def step(self, now: float | None = None, *, keep_alive: bool = True) -> Decision:
        """Run one control cycle; publish its snapshot when anyone listens.

        With ``keep_alive`` the cycle also sends the heartbeats that are due (the accelerated simulation);
        the real-time runner sends them from a task of their own (``keep_alive_if_healthy``), so a cycle never
        waits on them.
        """
        now = self.clock() if now is None else now
        self.cycles += 1
        auto = self.mode.mode is Mode.AUTO
        self._update_intent(auto)
        for rt in self.units:
            self._refresh_unit(rt, now, auto)
        sample = self.meter.fresh(now) if self.meter else None
        decision = decide(self._inputs(now, sample), self.memory)
        for notice in decision.notices:
            log.log(notice.level, "%s", notice.log)
            self.emit(notice.kind, notice.event, data=notice.data)
        for rt in self.units:  # whatever the mode: keep what the meter's window may still need, fold the rest
            rt.plan.forget_before(now - PLAN_MEMORY_S)
        if sample is not None:
            self.lag.record(sample.taken_at, self.clock())
        self._note_safety(decision)
        await self._send(decision.setpoints, now)
        self._decided_at = now
        if decision.healthy and keep_alive:
            await self._keep_alive(now)
        if self.meter:
            self.meter.note_battery_power(sum(rt.reading.battery_w for rt in self.units if rt.reading))
        self._last_decision = decision
        self._snapshot = None
        if self.snapshots.subscriber_count or self.keep_snapshots:
            self.snapshots.publish(self.snapshot(now))
        return decision

    def snapshot(self, now: float | None = None) -> SiteSnapshot:
        """The picture after the last cycle (built once per cycle, on demand)."""
        if self._snapshot is None:
            self._snapshot = build_snapshot(
                units=self.units, mode=self.mode, meter=self.meter, decision=self._last_decision or STARTING,
                commands_sent=self.commands_sent, lag=self.lag.summary(), manual_range_w=self.manual_range_w,
                now=self.clock() if now is None else now, wall=self.wall_clock(), intent=self.intent)
        return self._snapshot

    def site_soc_pct(self) -> float | None:
        """The units' SoC weighted by their capacity (those that reported one)."""
        known = [(rt.soc_pct, rt.config.capacity_wh) for rt in self.units if rt.soc_pct is not None]
        total = sum(c for _, c in known)
        return sum(s * c for s, c in known) / total if total else None

    def _update_intent(self, auto: bool) -> None:
        """Ask the steering what auto mode should do besides zero export; say so when it changes."""
        intent = NORMAL
        if auto and self.steer is not None:
            soc = self.site_soc_pct()
            intent = self.steer(self.wall_clock(), soc).at_soc(soc)
        if (intent.mode, intent.source, round(intent.charge_w)) != \
                (self.intent.mode, self.intent.source, round(self.intent.charge_w)):
            log.info("battery mode %s%s%s", intent.mode, f" ({intent.source})" if intent.source else "",
                     f": {intent.reason}" if intent.reason else "")
            self.emit("battery_mode", f"battery mode {intent.mode}", data=intent.to_json())
        self.intent = intent

    def _refresh_unit(self, rt: UnitRuntime, now: float, auto: bool) -> None:
        if rt.link_changed(rt.port.health, now):
            if rt.link is LinkHealth.OFFLINE:
                log.warning("%s is offline; the other units take over", rt.config.label)
                self.emit("link", f"{rt.config.label} offline", rt.unit_id, {"link": "offline"})
            else:
                log.info("%s answers again", rt.config.label)
                self.emit("link", f"{rt.config.label} back", rt.unit_id, {"link": str(rt.link)})
        rt.gates = soc_gates(rt.gates, rt.soc_pct, rt.config, auto=auto)
        allow_charge = self.mode.allow_charge or not auto
        allow_discharge = (self.mode.allow_discharge and not self.intent.blocks_discharge) or not auto
        key = (rt.version, rt.gates, allow_charge, allow_discharge, rt.current_w)
        if key == rt.room_key and now < rt.room_valid_until:
            return  # nothing the rules look at has changed
        condition = rt.condition(now)
        rt.unavailable = unavailable_reason(condition)
        rt.room = unit_room(condition, rt.current_w, allow_charge=allow_charge, allow_discharge=allow_discharge)
        rt.room_key, rt.room_valid_until = key, rt.changes_at()

    def _inputs(self, now: float, sample: MeterSample | None) -> DecisionInputs:
        """What the decision looks at: the units as refreshed, the fresh sample, and the meter's verdict."""
        meter = self.meter
        latest = meter.latest if meter else None
        frozen = meter is not None and meter.state is MeterState.FROZEN
        age = latest.age_s(now) if latest is not None and not frozen else None
        verdict = meter_verdict(age, meter.stale_after_s if meter else 0.0, self.control.meter_standby_after_s)
        return DecisionInputs(now=now, mode=self.mode, control=self.control, units=self.units, sample=sample,
                              verdict=verdict, intent=self.intent)

    # --- commands -------------------------------------------------------------------------------------------

    async def _send(self, setpoints: Mapping[int, int], now: float) -> None:
        moves = []
        for uid, watts in setpoints.items():
            rt = self.unit(uid)
            old = rt.setpoint_w
            if old == watts:
                continue
            urgent = old is None or (rt.room is not None and not rt.room.holds(old)) or rt.room is None or (
                abs(watts) < abs(old) and watts * old >= 0)
            if not urgent and now - rt.last_command_at < self.control.unit_command_interval_s:
                continue
            moves.append((0 if urgent else 1, rt, watts))
        for _order, rt, watts in sorted(moves, key=lambda m: (m[0], m[1].position)):
            await self.command_unit(rt, PassiveCommand.battery(watts), now)

    async def command_unit(self, rt: UnitRuntime, command: PassiveCommand, now: float | None = None) -> bool:
        """Send one command to one unit and learn from the answer; True when accepted."""
        now = self.clock() if now is None else now
        try:
            status = await rt.port.command(command)
        except DeviceError as exc:
            rt.on_command_failed(now)
            log.warning("%s: %s not confirmed: %s", rt.config.label, command.describe(), exc)
            self.emit("command", f"{rt.config.label}: {command.describe()}: no answer", rt.unit_id,
                      {"command": command.describe(), "result": "no_answer", "error": str(exc)})
            return False
        rt.on_status(command, status, now)
        if status.accepted:
            self.unit_reads_wanted.set()
        self.commands_sent += status.accepted
        if not status.accepted:
            log.warning("%s refused %s: %s", rt.config.label, command.describe(), status.message)
        self.emit("command", f"{rt.config.label}: {command.describe()}: {status.message}", rt.unit_id,
                  {"command": command.describe(), "status": status.to_json()})
        return status.accepted

    async def keep_alive_if_healthy(self, now: float | None = None) -> None:
        """Send the heartbeats that are due, if the last cycle was healthy and recent (a stuck or blind
        controller sends none, and the units lapse to standby by themselves)."""
        now = self.clock() if now is None else now
        decision = self._last_decision
        if decision is not None and decision.healthy and now - self._decided_at <= HEALTHY_CYCLE_AGE_S:
            await self._keep_alive(now)

    async def _keep_alive(self, now: float) -> None:
        interval = self.control.heartbeat_interval_s
        due = [rt for rt in self.units if rt.room is not None and now - rt.last_keepalive_at >= interval]
        if not due:
            return
        if self.control.heartbeat == "broadcast":
            for bus_label, broadcast in self.broadcasters.items():
                on_bus = [rt for rt in self.units if rt.bus_label == bus_label]
                if all(rt.room is not None for rt in on_bus) and any(rt in due for rt in on_bus):
                    try:
                        await broadcast()
                    except DeviceError as exc:
                        if bus_label not in self._broadcast_failing:  # said once per outage
                            self._broadcast_failing.add(bus_label)
                            log.warning("broadcast heartbeat on %s failed: %s", bus_label, exc)
                        continue
                    if bus_label in self._broadcast_failing:
                        self._broadcast_failing.discard(bus_label)
                        log.info("broadcast heartbeat on %s goes out again", bus_label)
                    for rt in on_bus:
                        rt.last_keepalive_at = now
            due = [rt for rt in due if now - rt.last_keepalive_at >= interval]
        for rt in due:
            try:
                await rt.port.heartbeat()
            except DeviceError as exc:
                log.debug("%s: heartbeat not answered: %s", rt.config.label, exc)
                continue
            rt.last_keepalive_at = now

    def _note_safety(self, decision: Decision) -> None:
        if decision.safety is self.safety:
            return
        previous, self.safety = self.safety, decision.safety
        if decision.safety.routine and previous.routine:
            return
        level = logging.INFO if decision.safety is SafetyState.OK else logging.WARNING
        log.log(level, "%s", decision.message)
        self.emit("safety", decision.message, data={"state": decision.safety})

    # --- shutdown -------------------------------------------------------------------------------------------

    async def shutdown(self) -> None:
        """What the configuration says to do on stop: standby every unit, hand over, or leave them."""
        action = self.control.shutdown_action
        if action == "keep":
            log.info("stopping; the units keep their setpoints until passive mode lapses (60 s)")
            return
        command = PassiveCommand("standby") if action == "standby" else PassiveCommand("auto", self.mode.target_w)
        for rt in self.units:
            if rt.link is LinkHealth.OFFLINE:
                continue
            await self.command_unit(rt, command)
        log.info("stopped: every unit told %s", command.describe())
