"""The JSON contract: typed models of what SmartSofar says about itself, built once from a snapshot.

``SitePayload`` (with ``UnitPayload`` and ``MeterPayload`` inside) is what ``/api/v1/state`` returns, what
the page's live stream carries, and what the MQTT state messages, v1's ``/data.json`` and ``/metrics`` are
drawn from; ``HistoryPayload`` and ``DayPayload`` are the history's. The API's OpenAPI document shows
their schemas, and ``web/static/types.js`` mirrors them for the page. A value that is not known now is
``null``, never a stale number shown as live. Power in W (grid > 0 import, battery > 0 charge).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from smartsofar.control.decision import SafetyState
from smartsofar.control.intent import BatteryIntent, BatteryMode
from smartsofar.engine.snapshot import Event, MeterSnapshot, SiteSnapshot, UnitSnapshot
from smartsofar.link import LinkHealth
from smartsofar.meter.base import MeterSample, PhaseSample
from smartsofar.modes import Mode, ModeState
from smartsofar.sofar.passive import StatusWord
from smartsofar.sofar.register_map import UnitReading


class Payload(BaseModel):
    """A frozen, closed JSON object."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ModePayload(Payload):
    """The operating state."""

    mode: Mode
    manual_power_w: int
    target_w: int
    allow_charge: bool
    allow_discharge: bool

    @classmethod
    def of(cls, state: ModeState) -> ModePayload:
        return cls(mode=state.mode, manual_power_w=state.manual_power_w, target_w=state.target_w,
                   allow_charge=state.allow_charge, allow_discharge=state.allow_discharge)


class StatusPayload(Payload):
    """A unit's answer to a 0x42 command (its status word)."""

    raw: str
    result: str
    message: str
    charge_allowed: bool
    discharge_allowed: bool
    battery_full: bool
    battery_flat: bool

    @classmethod
    def of(cls, status: StatusWord) -> StatusPayload:
        return cls.model_validate(status.to_json())


class ReadingPayload(Payload):
    """Everything one bulk read of a unit says (0x0200..0x0255), decoded."""

    running_state: str
    running_state_code: int  # 0x0200 as the unit sent it
    running_state_words: str
    faults: list[str]
    battery_faults: list[str]
    alerts: list[str]
    comm_board_faults: list[str]
    fault_labels: list[str]  # inverter and battery faults, 'ID05 BatOVP' style
    alert_labels: list[str]
    fault_word_1: int
    fault_word_2: int
    fault_word_3: int
    fault_word_4: int
    fault_word_5: int
    alert_word: int
    battery_fault_word_1: int
    battery_fault_word_2: int
    battery_fault_word_3: int
    battery_fault_word_4: int
    battery_fault_word_5: int
    comm_board_word: int
    dc_current_ma: float
    dc_voltage_v: float
    generation_today_min: float
    generation_total_h: float
    hybrid_pv1_w: float
    hybrid_pv2_w: float
    grid_a_v: float
    grid_a_a: float
    grid_b_v: float
    grid_b_a: float
    grid_c_v: float
    grid_c_a: float
    grid_hz: float
    battery_w: float
    battery_v: float
    battery_a: float
    soc_pct: float
    battery_temp_c: float
    grid_feed_w: float
    load_w: float
    inverter_w: float
    pv_w: float
    eps_v: float
    eps_w: float
    pv_today_wh: float
    export_today_wh: float
    import_today_wh: float
    load_today_wh: float
    pv_total_kwh: float
    export_total_kwh: float
    import_total_kwh: float
    load_total_kwh: float
    countdown: float
    battery_cycles: float
    inv_bus_raw: float
    llc_bus_raw: float
    buck_current_raw: float
    grid_r_v: float
    grid_r_a: float
    grid_s_v: float
    grid_s_a: float
    grid_t_v: float
    grid_t_a: float
    pv_current_raw: float
    inverter_temp_c: float
    heatsink_temp_c: float
    country_code: float

    @classmethod
    def of(cls, reading: UnitReading) -> ReadingPayload:
        return cls.model_validate({**reading.to_json(), "running_state_code": int(reading.running_state),
                                   "fault_labels": [f.label for f in (*reading.faults, *reading.battery_faults)],
                                   "alert_labels": [f.label for f in reading.alerts]})


class InfoPayload(Payload):
    """A unit's identity."""

    serial: str
    software_version: str
    hardware_version: str


class DirectionPayload(Payload):
    """The learned response in one direction."""

    dead_time_s: float
    ramp_w_per_s: float
    samples: int


class ResponsePayload(Payload):
    """How fast the unit follows a command: the slower direction's figures, and each direction's."""

    dead_time_s: float
    ramp_w_per_s: float
    samples: int
    learned: bool
    fixed: bool
    up: DirectionPayload
    down: DirectionPayload


class UnitPayload(Payload):
    """One unit, as the engine sees it now."""

    unit_id: int
    name: str
    position: int  # 1, 2, ... in configuration order (v1's Charger<N>)
    bus: str
    link: LinkHealth
    available: bool
    unavailable_reason: str | None
    setpoint_w: int | None  # the last power it accepted
    expected_w: int  # what its plan says it delivers now
    charge_room_w: int
    discharge_room_w: int
    reading_age_s: float | None
    reading: ReadingPayload | None
    status: StatusPayload | None
    last_command: str | None
    last_command_age_s: float | None
    info: InfoPayload | None
    commands_sent: int
    link_counters: dict[str, int]
    response: ResponsePayload | None

    @classmethod
    def of(cls, unit: UnitSnapshot) -> UnitPayload:
        info = unit.info
        return cls(
            unit_id=unit.unit_id, name=unit.name, position=unit.position, bus=unit.bus, link=unit.link,
            available=unit.available, unavailable_reason=unit.unavailable_reason, setpoint_w=unit.setpoint_w,
            expected_w=round(unit.expected_w), charge_room_w=round(unit.charge_room_w),
            discharge_room_w=round(unit.discharge_room_w), reading_age_s=_round(unit.reading_age_s, 1),
            reading=ReadingPayload.of(unit.reading) if unit.reading else None,
            status=StatusPayload.of(unit.status) if unit.status else None, last_command=unit.last_command,
            last_command_age_s=_round(unit.last_command_age_s, 1),
            info=None if info is None else InfoPayload(serial=info.serial, software_version=info.software_version,
                                                       hardware_version=info.hardware_version),
            commands_sent=unit.commands_sent, link_counters=dict(unit.link_counters),
            response=ResponsePayload.model_validate(unit.response) if unit.response else None)


class UnitReadPayload(Payload):
    """A unit read on demand."""

    unit_id: int
    reading: ReadingPayload


class PhasePayload(Payload):
    """One phase of the grid connection."""

    power_w: float
    voltage_v: float | None
    current_a: float | None
    power_factor: float | None

    @classmethod
    def of(cls, phase: PhaseSample) -> PhasePayload:
        return cls(power_w=phase.power_w, voltage_v=phase.voltage_v, current_a=phase.current_a,
                   power_factor=phase.power_factor)


class MeterPayload(Payload):
    """The grid meter: its state, and its values only while they may be used."""

    model: str
    state: str  # ok / unavailable / auth_failed / bad_reply / frozen / unknown
    fresh: bool
    age_s: float | None
    error: str | None
    reads: int
    failures: int
    power_w: float | None  # what the controller follows (the sum, or the chosen phase)
    total_power_w: float | None
    phases: list[PhasePayload]
    frequency_hz: float | None
    import_wh: float | None
    export_wh: float | None

    @classmethod
    def of(cls, meter: MeterSnapshot) -> MeterPayload:
        sample = meter.sample if meter.fresh else None
        return cls(model=meter.model, state=meter.state, fresh=meter.fresh, age_s=_round(meter.age_s, 1),
                   error=meter.error, reads=meter.reads, failures=meter.failures,
                   power_w=sample.power_w if sample else None, total_power_w=sample.total_power_w if sample else None,
                   phases=[PhasePayload.of(p) for p in sample.phases] if sample else [],
                   frequency_hz=sample.frequency_hz if sample else None,
                   import_wh=sample.import_wh if sample else None, export_wh=sample.export_wh if sample else None)


class SamplePayload(Payload):
    """A meter read on demand."""

    model: str
    power_w: float
    total_power_w: float
    phases: list[PhasePayload]
    frequency_hz: float | None
    import_wh: float | None
    export_wh: float | None

    @classmethod
    def of(cls, model: str, sample: MeterSample) -> SamplePayload:
        return cls(model=model, power_w=sample.power_w, total_power_w=sample.total_power_w,
                   phases=[PhasePayload.of(p) for p in sample.phases], frequency_hz=sample.frequency_hz,
                   import_wh=sample.import_wh, export_wh=sample.export_wh)


class LagPayload(Payload):
    """From a meter sample's arrival to the control decision on it, over the recent samples."""

    p50_s: float | None = None
    p99_s: float | None = None
    max_s: float | None = None
    samples: int = 0


class IntentPayload(Payload):
    """Auto mode's battery mode: normal, hold, charge or export, who asked (plan, schedule, external) and why."""

    mode: BatteryMode
    charge_w: int
    until_soc_pct: float | None
    source: str
    reason: str
    ends_at: float | None
    export_w: int = 0

    @classmethod
    def of(cls, intent: BatteryIntent) -> IntentPayload:
        return cls(mode=intent.mode, charge_w=round(intent.charge_w), until_soc_pct=intent.until_soc_pct,
                   source=intent.source, reason=intent.reason, ends_at=intent.ends_at, export_w=round(intent.export_w))


class SitePayload(Payload):
    """The whole site after one control cycle."""

    at: float  # Unix seconds
    mode: ModePayload
    modes: list[Mode]  # every mode there is, in the order to offer them
    safety: SafetyState
    message: str
    grid_w: float | None  # the fresh meter sample
    base_w: float | None  # the house's own power as the control law estimates it
    setpoint_total_w: int
    battery_w: float | None  # sum of what the units report
    soc_pct: float | None  # mean over the units that reported one
    commands_sent: int
    decision: str
    manual_min_w: int  # the range manual mode accepts
    manual_max_w: int
    meter: MeterPayload | None
    units: list[UnitPayload]
    control_lag: LagPayload
    battery_mode: IntentPayload

    @classmethod
    def of(cls, state: SiteSnapshot) -> SitePayload:
        return cls(at=state.at, mode=ModePayload.of(state.mode), modes=list(Mode), safety=state.safety,
                   message=state.message, grid_w=_round(state.grid_w, 1), base_w=_round(state.base_w, 1),
                   setpoint_total_w=state.setpoint_total_w, battery_w=_round(state.battery_w, 0),
                   soc_pct=_round(state.soc_pct, 1), commands_sent=state.commands_sent, decision=state.decision,
                   manual_min_w=state.manual_min_w, manual_max_w=state.manual_max_w,
                   meter=MeterPayload.of(state.meter) if state.meter else None,
                   units=[UnitPayload.of(u) for u in state.units],
                   control_lag=LagPayload.model_validate(state.control_lag),
                   battery_mode=IntentPayload.of(state.intent))

    def unit(self, unit_id: int) -> UnitPayload | None:
        """One unit by slave id."""
        return next((u for u in self.units if u.unit_id == unit_id), None)


class UnitSeriesPayload(Payload):
    """One unit's history, aligned with ``HistoryPayload.t``."""

    battery_w: list[float | None]
    soc_pct: list[float | None]


class HistoryPayload(Payload):
    """Means over a time range, as columns (uPlot's shape): ``t`` (Unix s) and one list per value."""

    resolution_s: int
    t: list[float]
    grid_w: list[float | None]
    battery_w: list[float | None]
    soc_pct: list[float | None]
    house_w: list[float | None]
    pv_w: list[float | None]
    grid_a_w: list[float | None]  # per phase, where the meter has phases
    grid_b_w: list[float | None]
    grid_c_w: list[float | None]
    units: dict[str, UnitSeriesPayload]  # by slave id


class DayPayload(Payload):
    """One day's energies, Wh, and how self-sufficient the house was."""

    day: str  # YYYY-MM-DD
    import_wh: float
    export_wh: float
    charged_wh: float
    discharged_wh: float
    pv_wh: float
    load_wh: float
    self_sufficiency: float | None  # 1 - import / load
    self_consumption: float | None  # 1 - export / PV


def event_json(event: Event) -> dict[str, Any]:
    """An event as JSON: its kind, message and time, and what is particular to its kind."""
    return {"at": event.at, "kind": event.kind, "message": event.message, "unit_id": event.unit_id, **event.data}


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
