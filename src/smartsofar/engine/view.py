"""Building the immutable ``SiteSnapshot`` from the engine's live state after a cycle."""

from __future__ import annotations

from collections.abc import Sequence

from smartsofar.control.decision import Decision
from smartsofar.control.intent import NORMAL, BatteryIntent
from smartsofar.engine.snapshot import MeterSnapshot, SiteSnapshot, UnitSnapshot
from smartsofar.engine.units import UnitRuntime
from smartsofar.meter.poller import MeterPoller
from smartsofar.modes import ModeState


def unit_snapshot(rt: UnitRuntime, now: float) -> UnitSnapshot:
    """One unit's picture."""
    room = rt.room
    counters: dict[str, int] = {}
    stats = getattr(rt.port, "link_stats", None)
    if callable(stats):
        counters = stats()
    return UnitSnapshot(
        unit_id=rt.unit_id, name=rt.config.label, position=rt.position, bus=rt.bus_label, link=rt.link,
        available=room is not None, unavailable_reason=rt.unavailable, setpoint_w=rt.setpoint_w,
        expected_w=rt.plan.power_at(max(now, rt.plan.anchor_t)),
        charge_room_w=room.charge_w if room else 0.0, discharge_room_w=room.discharge_w if room else 0.0,
        reading=rt.reading, reading_age_s=None if rt.read_at is None else now - rt.read_at,
        status=rt.status, last_command=rt.last_command.describe() if rt.last_command else None,
        last_command_age_s=None if rt.last_command is None else now - rt.last_command_at,
        info=rt.info, commands_sent=rt.commands_sent, link_counters=counters, response=rt.response.summary())


def meter_snapshot(poller: MeterPoller, now: float) -> MeterSnapshot:
    """The meter's picture."""
    latest = poller.latest
    return MeterSnapshot(model=poller.meter.model, state=str(poller.state), sample=latest,
                         age_s=None if latest is None else latest.age_s(now), fresh=poller.fresh(now) is not None,
                         error=poller.last_error, reads=poller.reads, failures=poller.failures)


def build_snapshot(*, units: Sequence[UnitRuntime], mode: ModeState, meter: MeterPoller | None, decision: Decision,
                   commands_sent: int, lag: dict[str, float | int], manual_range_w: tuple[int, int], now: float,
                   wall: float, intent: BatteryIntent = NORMAL) -> SiteSnapshot:
    """The whole site after a cycle."""
    pictures = tuple(unit_snapshot(rt, now) for rt in units)
    reported = [u.reading.battery_w for u in pictures if u.reading is not None]
    socs = [u.reading.soc_pct for u in pictures if u.reading is not None]
    return SiteSnapshot(
        at=wall, mode=mode, safety=decision.safety, message=decision.message, grid_w=decision.grid_w,
        base_w=decision.base_w, setpoint_total_w=sum(rt.setpoint_w or 0 for rt in units),
        battery_w=sum(reported) if reported else None, soc_pct=sum(socs) / len(socs) if socs else None,
        units=pictures, meter=meter_snapshot(meter, now) if meter else None,
        commands_sent=commands_sent, decision=decision.reason,
        manual_min_w=manual_range_w[0], manual_max_w=manual_range_w[1], control_lag=lag, intent=intent)
