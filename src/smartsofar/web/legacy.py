"""SmartSofar v1's HTTP endpoints, so scripts written for the ESP8266 firmware keep working.

``GET /data.json``: one flat object, every value a string, ``<Item>_<Parameter>_Value`` and ``..._EngUnit``
keys in v1's order: the meter, the setpoint, the auto flag, then ``Charger<N>_...`` for each unit in
configuration order (N is the position, not the slave id). A value that is not known now is ``""``, never a
stale number.

``GET /update?cmd=setmode&val=0|1`` and ``cmd=setpower&val=W`` (also v1's page's ``buttonMode`` and
``sliderPw``) with v1's meaning, through the same commands object as the API. One difference, on purpose:
v1 always answered 200 ``OK``; SmartSofar answers 200 ``OK`` on success and a 4xx with the message on error.
With a password set, ``/update`` takes the API token as a basic-auth password (``http://:TOKEN@HOST/update?...``,
which clients send as a header) or as a bearer token; never as ``?token=``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from smartsofar.errors import InvalidInputError
from smartsofar.modes import Mode
from smartsofar.payloads import ReadingPayload, SitePayload
from smartsofar.sofar.status import RunningState
from smartsofar.web.api import Ctx

router = APIRouter()

_STATE_WORDS = {RunningState.WAIT: "Standby", RunningState.CHECK: "Checking", RunningState.CHARGING: "Charging",
                RunningState.CHECK_DISCHARGE: "Check Dis.", RunningState.DISCHARGING: "Dischar.",
                RunningState.EPS: "EPS State", RunningState.FAULT: "FAULT", RunningState.PERMANENT_FAULT: "PERMFAULT"}

# (parameter, unit, value from a reading), in v1's order
_UNIT_ITEMS: tuple[tuple[str, str, Callable[[ReadingPayload], str]], ...] = (
    ("running_state", "", lambda r: _STATE_WORDS.get(RunningState(r.running_state_code), "Runstate?")),
    ("grid_voltage", "V", lambda r: f"{r.grid_a_v:.1f}"),
    ("grid_freq", "Hz", lambda r: f"{r.grid_hz:.2f}"),
    ("battery_voltage", "V", lambda r: f"{r.battery_v:.2f}"),
    ("battery_power", "W", lambda r: f"{r.battery_w:.0f}"),
    ("battery_soc", "%", lambda r: f"{r.soc_pct:.0f}"),
    ("battery_temp", "degC", lambda r: f"{r.battery_temp_c:.0f}"),
    ("battery_cycles", "", lambda r: f"{r.battery_cycles:.0f}"),
    ("today_generated", "Wh", lambda r: f"{r.pv_today_wh:.0f}"),
    ("today_exported", "Wh", lambda r: f"{r.export_today_wh:.0f}"),
    ("today_imported", "Wh", lambda r: f"{r.import_today_wh:.0f}"),
    ("today_consumed", "Wh", lambda r: f"{r.load_today_wh:.0f}"),
    ("inverter_temp", "degC", lambda r: f"{r.inverter_temp_c:.0f}"),
    ("inverter_HStemp", "degC", lambda r: f"{r.heatsink_temp_c:.0f}"),
)


def data_json(state: SitePayload) -> dict[str, str]:
    """v1's flat object, from the site's payload."""
    out: dict[str, str] = {}

    def item(stem: str, value: str, unit: str) -> None:
        out[f"{stem}_Value"] = value
        out[f"{stem}_EngUnit"] = unit

    item("EnergyMeter_Power", "" if state.grid_w is None else f"{state.grid_w:.0f}", "W")
    item("SetPoint_Power", str(state.setpoint_total_w), "W")
    item("SetPoint_ModeAuto", "1" if state.mode.mode is Mode.AUTO else "0", "")
    for unit in state.units:
        for parameter, eng_unit, value in _UNIT_ITEMS:
            item(f"Charger{unit.position}_{parameter}", value(unit.reading) if unit.reading else "", eng_unit)
    return out


@router.get("/data.json", summary="SmartSofar v1's data.json (every value a string)", tags=["v1"])
async def get_data_json(request: Request, ctx: Ctx) -> PlainTextResponse:
    ctx.auth.check_read(request)
    return PlainTextResponse(json.dumps(data_json(SitePayload.of(ctx.engine.latest()))))


@router.get("/update", summary="SmartSofar v1's commands: cmd=setmode&val=0|1, cmd=setpower&val=W", tags=["v1"])
async def get_update(request: Request, ctx: Ctx, cmd: str = "", val: str = "") -> PlainTextResponse:
    ctx.auth.check_write(request)
    commands = ctx.engine.commands
    if cmd in ("setmode", "buttonMode"):
        if val not in ("0", "1"):
            raise InvalidInputError("value must be 0 (manual) or 1 (auto)")
        commands.set_mode(val)
    elif cmd in ("setpower", "sliderPw"):
        if commands.state.mode is not Mode.MANUAL:
            raise InvalidInputError("cannot adjust power by HTTP command while mode is set to "
                                    f"{commands.state.mode}; switch to manual first (cmd=setmode&val=0)")
        commands.set_manual_power(val)
    else:
        raise InvalidInputError(f"unknown cmd {cmd!r}: use setmode or setpower")
    return PlainTextResponse("OK")
