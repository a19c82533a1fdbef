"""A simulated PV forecast service for the demo: evcc's ``/api/tariff/solar`` (``rates`` of ``start``, ``end``
and ``value`` in W), hour by hour over today and tomorrow in this machine's local time, from the demo
household's own PV day (the same day every day, as the demo replays it). The service's ``evcc`` PV forecast
source reads it over HTTP like any evcc.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from smartsofar.sim.household import Household

SAMPLES_PER_HOUR = 12  # the hour's mean from one PV value every 5 minutes


def solar_rates(household: Household, today: date) -> list[dict[str, object]]:
    """Today's and tomorrow's hourly rates, local time."""
    rates: list[dict[str, object]] = []
    for day in (today, today + timedelta(days=1)):
        midnight = datetime(day.year, day.month, day.day).astimezone()
        for hour in range(24):
            start = (midnight + timedelta(hours=hour)).astimezone()
            watts = sum(household.pv_w(hour * 3600 + (k + 0.5) * 3600 / SAMPLES_PER_HOUR)
                        for k in range(SAMPLES_PER_HOUR)) / SAMPLES_PER_HOUR
            rates.append({"start": start.isoformat(), "end": (start + timedelta(hours=1)).astimezone().isoformat(),
                          "value": round(max(0.0, watts), 1)})
    return rates


def create_solar_app(household: Household) -> Starlette:
    """The app: ``GET /api/tariff/solar``."""

    async def solar(request: Request) -> Response:
        return JSONResponse({"rates": solar_rates(household, date.today())})

    return Starlette(routes=[Route("/api/tariff/solar", solar)])
