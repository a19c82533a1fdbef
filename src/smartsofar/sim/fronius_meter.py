"""A simulated Fronius inverter's Solar API with a Smart Meter 63A-3 at the feed-in point (device 0).

Only ``GetMeterRealtimeData.cgi`` with ``Scope=Device``: the plant's grid per phase, the counters in Wh, and
``Head.Status`` as the real API sends it (code 0, or 255 for a device number that is not there).
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from smartsofar.sim.meter_server import SimMeter


def _head(request: Request, code: int, reason: str = "") -> dict[str, Any]:
    return {"RequestArguments": dict(request.query_params), "Status": {"Code": code, "Reason": reason,
                                                                        "UserMessage": ""},
            "Timestamp": "2026-11-30T14:35:12+01:00"}


def create_fronius_app(meter: SimMeter) -> Starlette:
    """The Solar API of one simulated inverter."""

    def data() -> dict[str, Any]:
        phases = meter.phases()
        state = meter.state
        body: dict[str, Any] = {
            "Details": {"Manufacturer": "Fronius", "Model": "Smart Meter 63A-3", "Serial": "21020912"},
            "Enable": 1, "Visible": 1, "Meter_Location_Current": 0, "TimeStamp": 1796132112,
            "PowerReal_P_Sum": round(sum(p.power for p in phases), 2), "Frequency_Phase_Average": 50.0,
            "EnergyReal_WAC_Sum_Consumed": round(sum(state.import_wh)),
            "EnergyReal_WAC_Sum_Produced": round(sum(state.export_wh))}
        for line, p in enumerate(phases, start=1):
            body.update({f"PowerReal_P_Phase_{line}": p.power, f"Voltage_AC_Phase_{line}": p.voltage,
                         f"Current_AC_Phase_{line}": p.current, f"PowerFactor_Phase_{line}": p.pf})
        return body

    async def realtime(request: Request) -> Response:
        meter.requests += 1
        if meter.faults.http_500:
            return JSONResponse({"code": 500}, 500)
        if request.query_params.get("Scope") != "Device" or request.query_params.get("DeviceId", "0") != "0":
            return JSONResponse({"Body": {"Data": {}}, "Head": _head(request, 255, "Device not found")})
        return JSONResponse({"Body": {"Data": data()}, "Head": _head(request, 0)})

    return Starlette(routes=[Route("/solar_api/v1/GetMeterRealtimeData.cgi", realtime)])
