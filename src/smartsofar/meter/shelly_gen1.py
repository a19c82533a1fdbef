"""Shelly Gen1 meters: the 3EM (SHEM-3) and the EM (SHEM), ``GET /status`` -> ``emeters[]``, HTTP basic auth.

The 3EM's three ``emeters`` are the phases (and ``total_power`` their sum); the EM's two are two channels,
of which the configured one measures the grid.

Any phase with ``is_valid: false`` makes the whole reading unusable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from smartsofar.errors import MeterReplyError
from smartsofar.meter.base import MeterOptions, MeterSample, PhaseSample, number, power
from smartsofar.meter.http import JsonHttp


def decode_status(body: dict[str, Any]) -> tuple[list[PhaseSample], float | None, float | None, float | None]:
    """Phases, total power, imported and exported Wh from a Gen1 ``/status`` body."""
    emeters = body.get("emeters")
    if not isinstance(emeters, list) or not emeters or not all(isinstance(e, dict) for e in emeters):
        raise MeterReplyError("the meter's reply has no 'emeters' list")
    phases: list[PhaseSample] = []
    imported: float | None = 0.0
    exported: float | None = 0.0
    for index, em in enumerate(emeters):
        if em.get("is_valid") is False:
            raise MeterReplyError(f"the meter marks phase {'abc'[index] if index < 3 else index} as not valid")
        phases.append(PhaseSample(power(em, "power"), number(em, "voltage", required=False),
                                  number(em, "current", required=False), number(em, "pf", required=False)))
        i, e = number(em, "total", required=False), number(em, "total_returned", required=False)
        imported = None if i is None or imported is None else imported + i
        exported = None if e is None or exported is None else exported + e
    return phases, number(body, "total_power", required=False), imported, exported


class Shelly3EMGen1:
    """The older Shelly 3EM."""

    model = "Shelly 3EM (Gen1)"

    def __init__(self, http: JsonHttp, options: MeterOptions | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.http = http
        self.options = options or MeterOptions()
        self.clock = clock

    async def read(self) -> MeterSample:
        """One sample from ``/status``."""
        body = await self.http.get_json("/status")
        taken_at = self.clock()
        phases, total, imported, exported = decode_status(body)
        return self.options.sample(phases, taken_at, total, None, imported, exported)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.http.aclose()


class ShellyEMGen1:
    """The older two-channel Shelly EM: one channel is the grid."""

    model = "Shelly EM (Gen1)"

    def __init__(self, http: JsonHttp, channel: int = 0, options: MeterOptions | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.http = http
        self.channel = channel
        self.options = options or MeterOptions()
        self.clock = clock

    async def read(self) -> MeterSample:
        """One sample of the grid channel."""
        body = await self.http.get_json("/status")
        taken_at = self.clock()
        emeters = body.get("emeters")
        if not isinstance(emeters, list) or len(emeters) <= self.channel:
            raise MeterReplyError(f"the meter's reply has no channel {self.channel} in 'emeters'")
        phases, _, imported, exported = decode_status({"emeters": [emeters[self.channel]]})
        return self.options.sample(phases, taken_at, None, None, imported, exported)

    async def aclose(self) -> None:
        """Close the HTTP client."""
        await self.http.aclose()
