"""The JSON API under ``/api/v1``: state, units, meter, operating state, settings, history, logs, diagnostics.

Reads come from the engine's latest snapshot; every change goes through ``SiteCommands``, the same entry
point as v1's ``/update`` and MQTT. A rejected request changes nothing and commands nothing.
"""

from __future__ import annotations

import asyncio
import math
import platform
import sys
import time
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, BeforeValidator, Field, Strict, StrictBool

from smartsofar import __version__
from smartsofar.control.intent import BatteryMode
from smartsofar.errors import InvalidInputError
from smartsofar.logbuffer import LEVELS
from smartsofar.payloads import (
    DayPayload,
    HistoryPayload,
    MeterPayload,
    ModePayload,
    ReadingPayload,
    SamplePayload,
    SitePayload,
    UnitPayload,
    UnitReadPayload,
)
from smartsofar.redact import redact
from smartsofar.web.context import WebContext
from smartsofar.web.settings import SaveResult, SettingsFile, catalogue

RANGES = {"15m": 900, "1h": 3600, "6h": 6 * 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400}


def context(request: Request) -> WebContext:
    """The service behind the app."""
    ctx: WebContext = request.app.state.ctx
    return ctx


Ctx = Annotated[WebContext, Depends(context)]


def may_read(request: Request, ctx: Ctx) -> None:
    """Dependency: reading allowed?"""
    ctx.auth.check_read(request)


def may_write(request: Request, ctx: Ctx) -> None:
    """Dependency: changing allowed?"""
    ctx.auth.check_write(request)


read = APIRouter(prefix="/api/v1", dependencies=[Depends(may_read)])
write = APIRouter(prefix="/api/v1", dependencies=[Depends(may_write)])


# --- request bodies ----------------------------------------------------------------------------------------

def _json_number(value: Any) -> Any:
    """Watts in a JSON body are a JSON number: not text ("1500"), not a boolean (true = 1 W)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a JSON number of watts")
    return value


JsonWatts = Annotated[int, BeforeValidator(_json_number)]
JsonNumber = Annotated[float, Strict()]  # a JSON number: not text, not a boolean (false is not 0)


class ModeBody(BaseModel):
    """``auto``, ``manual`` or ``standby`` (``1`` / ``0`` as in SmartSofar v1)."""

    mode: str = Field(examples=["auto"])


class PowerBody(BaseModel):
    """Manual mode's total battery power: > 0 charge, < 0 discharge, 0 standby."""

    power_w: JsonWatts = Field(examples=[1500])


class TargetBody(BaseModel):
    """Auto mode's grid target: > 0 import."""

    target_w: JsonWatts = Field(examples=[20])


class PermissionsBody(BaseModel):
    """Let auto mode charge and/or discharge."""

    allow_charge: StrictBool | None = None
    allow_discharge: StrictBool | None = None


class BatteryModeBody(BaseModel):
    """evcc-style external battery control: normal, hold or charge (or evcc's 1 / 2 / 3), or export, for
    ``lease_s`` seconds (default 60): renew it before then, or auto mode goes back to normal. ``charge_w`` is the
    power of a charge or an export (empty: the most allowed), ``soc_pct`` the SoC a charge stops at or an export
    goes down to."""

    mode: str | int = Field(examples=["hold"])
    lease_s: JsonNumber = Field(60.0, examples=[60])
    charge_w: JsonWatts | None = Field(None, examples=[3000], description="charge or export power, W")
    soc_pct: JsonNumber | None = Field(None, examples=[80], description="charge: up to; export: down to")
    who: str = Field("api", max_length=40)


class ScheduleBody(BaseModel):
    """Every schedule entry, replacing the ones there are (an empty list removes them all)."""

    entries: list[dict[str, Any]] = Field(max_length=50, examples=[[{"hours": "01:00-05:00", "days": "mon-fri",
                                                                    "mode": "charge", "soc_pct": 80}]])


class NewUnitBody(BaseModel):
    """A unit to add: its Modbus slave id and a name."""

    id: int = Field(ge=1, le=247, examples=[3])
    name: str = Field("", max_length=40, examples=["attic"])


class NewBusBody(NewUnitBody):
    """A bus to add, with its first unit."""

    url: str = Field(max_length=300, examples=["tcp://192.0.2.11:8899"])


class SettingsBody(BaseModel):
    """Settings to change, by dotted key (``control.deadband_w``); null removes an optional one."""

    values: dict[str, Any] = Field(examples=[{"control.deadband_w": 5}])


# --- reading -----------------------------------------------------------------------------------------------

@read.get("/state", summary="The whole site: mode, grid, batteries, every unit, the meter")
async def get_state(ctx: Ctx) -> SitePayload:
    return SitePayload.of(ctx.engine.latest())


@read.get("/units", summary="Every unit")
async def get_units(ctx: Ctx) -> list[UnitPayload]:
    return [UnitPayload.of(u) for u in ctx.engine.latest().units]


@read.get("/units/{unit_id}", summary="One unit by slave id")
async def get_unit(unit_id: int, ctx: Ctx) -> UnitPayload:
    unit = ctx.engine.latest().unit(unit_id)
    if unit is None:
        raise HTTPException(404, f"no unit {unit_id}")
    return UnitPayload.of(unit)


@read.get("/meter", summary="The grid meter: its state and, when fresh, its values")
async def get_meter(ctx: Ctx) -> MeterPayload:
    meter = ctx.engine.latest().meter
    if meter is None:
        raise HTTPException(404, "no meter is configured")
    return MeterPayload.of(meter)


@read.get("/mode", summary="The operating state")
async def get_mode(ctx: Ctx) -> ModePayload:
    return ModePayload.of(ctx.engine.commands.state)


@read.get("/settings", summary="Every setting with its help text, limits and current value")
async def get_settings(ctx: Ctx) -> dict[str, Any]:
    config = ctx.settings.effective if ctx.settings else ctx.engine.config
    return {"path": str(ctx.settings.path) if ctx.settings else None, "writable": ctx.settings is not None,
            "groups": catalogue(config)}


@read.get("/history", summary="Power and SoC over a time range, as columns")
async def get_history(ctx: Ctx, range_: Annotated[str | None, Query(alias="range")] = None,
                      start: float | None = None, end: float | None = None,
                      resolution: Annotated[int | None, Query(ge=10, le=86400)] = None) -> HistoryPayload:
    if ctx.history is None:
        raise HTTPException(404, "history is not kept by this service")
    now = time.time()
    if range_ is not None:
        if range_ not in RANGES:
            raise InvalidInputError(f"range must be one of {', '.join(RANGES)}, got {range_!r}")
        start, end = now - RANGES[range_], now
    start = now - 86400 if start is None else start
    end = now if end is None else end
    if not (math.isfinite(start) and math.isfinite(end)):
        raise InvalidInputError("start and end must be times (Unix seconds), not infinities or NaN")
    if not start < end:
        raise InvalidInputError("start must be before end")
    return HistoryPayload.model_validate(await asyncio.to_thread(ctx.history.series, start, end, resolution))


MAX_DAYS = 3660  # ten years of days, at most, in one answer


@read.get("/history/days", summary="Energies per day")
async def get_days(ctx: Ctx, first: date | None = None, last: date | None = None) -> list[DayPayload]:
    if ctx.history is None:
        raise HTTPException(404, "history is not kept by this service")
    last = last or date.today()
    try:
        first = first or last - timedelta(days=6)
    except OverflowError:
        raise InvalidInputError(f"last {last} is too early a date") from None
    if first > last:
        raise InvalidInputError("first must not be after last")
    if (last - first).days > MAX_DAYS:
        raise InvalidInputError(f"at most {MAX_DAYS} days at a time")
    days = await asyncio.to_thread(ctx.history.days, first.isoformat(), last.isoformat())
    return [DayPayload.model_validate(day) for day in days]


@read.get("/logs", summary="Recent log lines")
async def get_logs(ctx: Ctx, level: str = "INFO",
                   limit: Annotated[int, Query(ge=1, le=2000)] = 500) -> list[dict[str, Any]]:
    if level.upper() not in LEVELS:
        raise InvalidInputError(f"level must be {', '.join(LEVELS[:-1])} or {LEVELS[-1]}, got {level!r}")
    return [r.to_json() for r in ctx.logs.recent(level, limit)]


@read.get("/diagnostics", summary="Versions, counters and the configuration with secrets removed")
async def get_diagnostics(ctx: Ctx) -> dict[str, Any]:
    engine = ctx.engine
    state = engine.latest()
    return {
        "version": __version__, "python": sys.version.split()[0], "platform": platform.platform(),
        "uptime_s": round(time.time() - ctx.started_at), **engine.diagnostics(),
        "safety": state.safety, "control_lag": state.control_lag,
        "units": [{"unit_id": u.unit_id, "name": u.name, "link": u.link, "counters": u.link_counters,
                   "available": u.available, "unavailable_reason": u.unavailable_reason} for u in state.units],
        "meter": MeterPayload.of(state.meter).model_dump(mode="json") if state.meter else None,
        "history_rows": {t: ctx.history.count(t) for t in ("site_10s", "site_5min", "daily")} if ctx.history else None,
        "status": {name: get() for name, get in ctx.extra_status.items()},
        "config": redact(engine.config.model_dump(mode="json")),
    }


# --- changing ----------------------------------------------------------------------------------------------

@write.put("/mode", summary="Switch mode: auto, manual or standby")
async def put_mode(body: ModeBody, ctx: Ctx) -> ModePayload:
    return ModePayload.of(ctx.engine.commands.set_mode(body.mode))


@write.put("/power", summary="Manual mode's total power (W > 0 charge, < 0 discharge, 0 standby)")
async def put_power(body: PowerBody, ctx: Ctx) -> ModePayload:
    return ModePayload.of(ctx.engine.commands.set_manual_power(body.power_w))


@write.put("/target", summary="Auto mode's grid target (W > 0 import)")
async def put_target(body: TargetBody, ctx: Ctx) -> ModePayload:
    return ModePayload.of(ctx.engine.commands.set_target(body.target_w))


@write.put("/permissions", summary="Allow auto mode to charge / discharge (charge-only, discharge-only)")
async def put_permissions(body: PermissionsBody, ctx: Ctx) -> ModePayload:
    return ModePayload.of(ctx.engine.commands.set_permissions(allow_charge=body.allow_charge,
                                                              allow_discharge=body.allow_discharge))


@read.get("/plan", summary="Prices, the day-ahead plan and its reasons, and the battery mode in force")
async def get_plan(ctx: Ctx) -> dict[str, Any]:
    return ctx.engine.planning.view()


@write.put("/battery_mode", summary="Another system's battery mode (normal, hold, charge), lapsing after lease_s")
async def put_battery_mode(body: BatteryModeBody, ctx: Ctx) -> dict[str, Any]:
    planning = ctx.engine.planning
    planning.request(BatteryMode.parse(body.mode), lease_s=body.lease_s, charge_w=body.charge_w,
                     soc_pct=body.soc_pct, who=body.who)
    view = planning.view()
    return {"external": view["external"], "battery_mode": view["battery_mode"]}


@read.get("/schedule", summary="The schedule's entries")
async def get_schedule(ctx: Ctx) -> list[dict[str, Any]]:
    return [entry.model_dump(mode="json") for entry in ctx.engine.config.schedule]


@write.put("/schedule", summary="Replace the schedule's entries: validated, saved to the file, in force at once")
async def put_schedule(body: ScheduleBody, ctx: Ctx) -> list[dict[str, Any]]:
    if ctx.settings is None:
        raise HTTPException(409, "this service has no configuration file to save to")
    result = ctx.settings.save_schedule(body.entries)
    ctx.engine.reconfigure(result.config, result.keys)
    return [entry.model_dump(mode="json") for entry in result.config.schedule]


@write.post("/plan", summary="Plan again now")
async def post_plan(ctx: Ctx) -> dict[str, Any]:
    await ctx.engine.planning.replan()
    return ctx.engine.planning.view()


@write.post("/standby", summary="Every unit to standby now")
async def post_standby(ctx: Ctx) -> ModePayload:
    return ModePayload.of(ctx.engine.commands.standby())


@write.post("/units/{unit_id}/read", summary="Read one unit now")
async def post_read_unit(unit_id: int, ctx: Ctx) -> UnitReadPayload:
    reading = await ctx.engine.read_unit(unit_id)
    return UnitReadPayload(unit_id=unit_id, reading=ReadingPayload.of(reading))


@write.post("/meter/read", summary="Read the meter now")
async def post_read_meter(ctx: Ctx) -> SamplePayload:
    model, sample = await ctx.engine.read_meter()
    return SamplePayload.of(model, sample)


def _settings_file(ctx: WebContext) -> SettingsFile:
    if ctx.settings is None:
        raise HTTPException(409, "this service has no configuration file to save to")
    return ctx.settings


def _saved(ctx: WebContext, result: SaveResult) -> dict[str, Any]:
    done = ctx.engine.reconfigure(result.config, result.keys)
    return {"saved": True, "path": str(result.path), "applied_live": list(done.applied),
            "restart_needed": list(done.needs_restart)}


@write.put("/settings", summary="Change settings: validated, saved to the file, applied live where possible")
async def put_settings(body: SettingsBody, ctx: Ctx) -> dict[str, Any]:
    return _saved(ctx, _settings_file(ctx).save(body.values))


@write.post("/settings/buses", summary="Add a bus with its first unit (used after a restart)")
async def post_bus(body: NewBusBody, ctx: Ctx) -> dict[str, Any]:
    return _saved(ctx, _settings_file(ctx).add_bus(body.url, body.id, body.name))


@write.delete("/settings/buses/{bus}", summary="Remove a bus (1-based) and its units (after a restart)")
async def delete_bus(bus: int, ctx: Ctx) -> dict[str, Any]:
    return _saved(ctx, _settings_file(ctx).remove_bus(bus - 1))


@write.post("/settings/buses/{bus}/units", summary="Add a unit to a bus (1-based; used after a restart)")
async def post_unit(bus: int, body: NewUnitBody, ctx: Ctx) -> dict[str, Any]:
    return _saved(ctx, _settings_file(ctx).add_unit(bus - 1, body.id, body.name))


@write.delete("/settings/buses/{bus}/units/{unit}", summary="Remove a unit (both 1-based; after a restart)")
async def delete_unit(bus: int, unit: int, ctx: Ctx) -> dict[str, Any]:
    return _saved(ctx, _settings_file(ctx).remove_unit(bus - 1, unit - 1))
