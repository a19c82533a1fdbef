"""A Fronius Smart Meter through the inverter's Solar API (the ``fronius`` source), polled over HTTP.

``GET /solar_api/v1/GetMeterRealtimeData.cgi?Scope=Device&DeviceId=N`` answers ``Body.Data`` with
``PowerReal_P_Sum`` (W, positive = import at a feed-in meter), per-phase ``PowerReal_P_Phase_1..3``,
``Voltage_AC_Phase_1..3``, ``Current_AC_Phase_1..3``, ``Frequency_Phase_Average`` and the counters
``EnergyReal_WAC_Sum_Consumed`` / ``..._Produced`` (Wh); ``Head.Status.Code`` is 0 when all is well. A meter
installed in the consumption path (``Meter_Location_Current`` 1) measures the load, not the grid: refused.

pyfronius, Home Assistant's library, is built on aiohttp; for one GET we keep our one HTTP stack (httpx).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from smartsofar.config_meters import FroniusMeterConfig
from smartsofar.errors import MeterReplyError
from smartsofar.meter.base import Meter, MeterOptions, MeterSample, PhaseSample, number, power
from smartsofar.meter.http import JsonHttp
from smartsofar.meter.push import plausible_power
from smartsofar.meter.registry import register

REALTIME_PATH = "/solar_api/v1/GetMeterRealtimeData.cgi"
GRID_LOCATIONS = (0,)  # 0: feed-in point; 1: consumption path; 3, 256-511: generators and sub-loads


def decode_realtime(body: dict[str, Any], options: MeterOptions, taken_at: float) -> MeterSample:
    """One sample from a ``GetMeterRealtimeData`` reply; MeterReplyError when it is not a grid reading."""
    status = body.get("Head", {}).get("Status", {}) if isinstance(body.get("Head"), dict) else {}
    code = status.get("Code") if isinstance(status, dict) else None
    if code not in (0, None):
        raise MeterReplyError(f"the Solar API reports {code}: {status.get('Reason') or 'no reason given'}")
    data = body.get("Body", {}).get("Data") if isinstance(body.get("Body"), dict) else None
    if not isinstance(data, dict):
        raise MeterReplyError("the Solar API's reply has no Body.Data")
    location = data.get("Meter_Location_Current")
    if isinstance(location, int | float) and location not in GRID_LOCATIONS:
        raise MeterReplyError(f"the Fronius meter is installed at location {location:g}, not at the grid "
                              "connection (0); it cannot be used to follow the grid")
    phases = []
    for line in (1, 2, 3):
        if f"PowerReal_P_Phase_{line}" not in data:
            break
        phases.append(PhaseSample(plausible_power(power(data, f"PowerReal_P_Phase_{line}")),
                                  number(data, f"Voltage_AC_Phase_{line}", required=False),
                                  number(data, f"Current_AC_Phase_{line}", required=False),
                                  number(data, f"PowerFactor_Phase_{line}", required=False)))
    total = plausible_power(power(data, "PowerReal_P_Sum"))
    return options.sample(phases if len(phases) in (1, 3) else [], taken_at, total,
                          number(data, "Frequency_Phase_Average", required=False),
                          number(data, "EnergyReal_WAC_Sum_Consumed", required=False),
                          number(data, "EnergyReal_WAC_Sum_Produced", required=False))


class FroniusMeter:
    """Polls one Smart Meter on one Fronius inverter or Datamanager."""

    def __init__(self, config: FroniusMeterConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.model = config.label
        self.clock = clock
        self.options = MeterOptions(invert=config.invert, phase=config.phase)
        self.http = JsonHttp(config.http_url, timeout_s=config.timeout_s)

    async def read(self) -> MeterSample:
        """One sample."""
        body = await self.http.get_json(REALTIME_PATH, {"Scope": "Device", "DeviceId": self.config.device})
        sample = decode_realtime(body, self.options, self.clock())
        details = body["Body"]["Data"].get("Details")
        if isinstance(details, dict) and details.get("Model"):
            self.model = f"{details.get('Manufacturer') or 'Fronius'} {details['Model']}"
        return sample

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.http.aclose()


@register("fronius")
async def open_fronius(config: FroniusMeterConfig) -> Meter:
    """The configured Smart Meter's client."""
    return FroniusMeter(config)
