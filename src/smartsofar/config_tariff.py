"""The ``[tariff]``, ``[planner]``, ``[pv_forecast]`` and ``[[schedule]]`` sections: what energy costs, how the
day-ahead plan is made, where its PV forecast comes from, and the user's own timed battery modes.

A tariff is one of four kinds:

- ``none``: no prices; zero export only (the default).
- ``time_of_use``: a base ``price`` and ``zones`` of other prices on some hours and days, with presets for
  Heures Creuses, Octopus Go, Intelligent Octopus Go and Economy 7 (``preset`` fills ``offpeak_hours``).
- ``tempo``: day colours (``colours``: a ``date,colour`` file, or ``api-couleur-tempo``) and six prices.
- ``dynamic``: day-ahead prices from a ``source`` (``nordpool``, ``entsoe``, ``octopus``, ``tibber``, ``evcc``,
  ``url``, ``file``), times ``scale`` plus ``adder`` (VAT, grid fees, a supplier's margin).

The feed-in price is ``feed_in`` per exported kWh, with ``feed_in_zones`` for hours that pay otherwise, plus
``feed_in_scale`` times the day-ahead price for a dynamic export tariff.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from smartsofar.config_meters import Section
from smartsofar.control.intent import BatteryMode
from smartsofar.errors import InvalidInputError
from smartsofar.tariff.clock import parse_days, parse_windows, site_zone
from smartsofar.tariff.entsoe import zone_code
from smartsofar.tariff.prices import MAX_ABS_PRICE
from smartsofar.tariff.zones import PRESET_WINDOWS

TariffKind = Literal["none", "time_of_use", "tempo", "dynamic"]
PriceSourceName = Literal["nordpool", "entsoe", "octopus", "tibber", "evcc", "url", "file"]
PresetName = Literal["", "heures_creuses", "octopus_go", "intelligent_octopus_go", "economy_7"]


def _checked(check: object, value: str) -> str:
    try:
        check(value)  # type: ignore[operator]
    except InvalidInputError as exc:
        raise ValueError(str(exc)) from None
    return value


class TimedSection(Section):
    """Some hours on some days: ``hours`` (local windows) and ``days`` (the days they start on)."""

    hours: str = Field(description="Local time windows, e.g. 22:00-06:00 or 02:00-07:00,13:00-16:00")
    days: str = Field("all", description="Days the windows start on: all, mon-fri, sat,sun ...")

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        return _checked(parse_windows, value)

    @field_validator("days")
    @classmethod
    def _days(cls, value: str) -> str:
        return _checked(parse_days, value)


class ZoneConfig(TimedSection):
    """Some hours on some days at one price."""

    price: float = Field(description="Price per kWh in these hours", ge=-MAX_ABS_PRICE, le=MAX_ABS_PRICE)


class TempoPrices(Section):
    """The six Tempo prices per kWh (off-peak HC, peak HP, by day colour)."""

    blue_hc: float = Field(0.1325, ge=0, le=MAX_ABS_PRICE, description="Blue day, off-peak (22:00-06:00)")
    blue_hp: float = Field(0.1612, ge=0, le=MAX_ABS_PRICE, description="Blue day, peak (06:00-22:00)")
    white_hc: float = Field(0.1499, ge=0, le=MAX_ABS_PRICE, description="White day, off-peak")
    white_hp: float = Field(0.1871, ge=0, le=MAX_ABS_PRICE, description="White day, peak")
    red_hc: float = Field(0.1575, ge=0, le=MAX_ABS_PRICE, description="Red day, off-peak")
    red_hp: float = Field(0.7060, ge=0, le=MAX_ABS_PRICE, description="Red day, peak")

    def by_colour(self) -> dict[str, tuple[float, float]]:
        """colour -> (off-peak, peak)."""
        return {"BLUE": (self.blue_hc, self.blue_hp), "WHITE": (self.white_hc, self.white_hp),
                "RED": (self.red_hc, self.red_hp)}


class TariffConfig(Section):
    """What a kWh costs, when."""

    kind: TariffKind = Field("none", description="none, time_of_use, tempo or dynamic")
    timezone: str = Field("", description="The tariff's local time, e.g. Europe/Paris (empty: this machine's)")
    currency: str = Field("EUR", min_length=1, max_length=8, description="Shown beside prices")
    price: float = Field(0.0, description="time_of_use: the price outside every zone, per kWh",
                         ge=-MAX_ABS_PRICE, le=MAX_ABS_PRICE)
    preset: PresetName = Field("", description="time_of_use: heures_creuses, octopus_go, intelligent_octopus_go "
                               "or economy_7 (fills offpeak_hours)")
    offpeak_hours: str = Field("", description="time_of_use: the off-peak windows, e.g. 22:00-06:00 (Heures Creuses "
                               "hours are set per connection: see your bill)")
    offpeak_price: float | None = Field(None, description="time_of_use: the off-peak price per kWh",
                                        ge=-MAX_ABS_PRICE, le=MAX_ABS_PRICE)
    zones: list[ZoneConfig] = Field(default_factory=list, description="time_of_use: other prices on some hours")
    tempo: TempoPrices = Field(default_factory=TempoPrices)
    colours: str = Field("api-couleur-tempo", description="tempo: where the day colours come from: "
                         "api-couleur-tempo, a date,colour CSV file, or a URL")
    source: PriceSourceName = Field("nordpool", description="dynamic: nordpool, entsoe, octopus, tibber, evcc, url "
                                    "or file")
    area: str = Field("", max_length=16, description="nordpool, entsoe: the bidding zone (FR, DE-LU, NL, DK1, SE4, "
                      "...; entsoe also takes its EIC code)")
    home: str = Field("", max_length=64, description="tibber: the home's id (empty: the first home with a "
                      "subscription)")
    url: str = Field("", max_length=400, description="evcc: its address; url: a JSON or CSV price list; "
                     "octopus: an unusual API address")
    file: Path | None = Field(None, description="file: a start_utc,price CSV (as in data/prices)")
    product: str = Field("", max_length=60, description="octopus: the product code, e.g. AGILE-24-10-01")
    region: str = Field("", max_length=1, description="octopus: the region letter (A..P)")
    token: SecretStr | None = Field(None, description="entsoe: your Transparency Platform security token; tibber: "
                                    "your access token; url: sent as a bearer token")
    scale: float = Field(1.0, ge=0, le=10, description="dynamic: the day-ahead price is multiplied by this (VAT)")
    adder: float = Field(0.0, description="dynamic: then this is added per kWh (grid fees, taxes, margin)",
                         ge=-MAX_ABS_PRICE, le=MAX_ABS_PRICE)
    publish_hour: float = Field(13.0, ge=0, lt=24, description="Local hour at which tomorrow's prices come out "
                                "(13 for EPEX day-ahead, 16 for Agile, 11 for Tempo colours)")
    feed_in: float = Field(0.0, description="Paid per exported kWh", ge=-MAX_ABS_PRICE, le=MAX_ABS_PRICE)
    feed_in_zones: list[ZoneConfig] = Field(default_factory=list, description="Hours that pay another feed-in price")
    feed_in_scale: float = Field(0.0, ge=0, le=10, description="dynamic: feed-in also pays this times the "
                                 "day-ahead price")
    refresh_min: float = Field(30, ge=5, le=1440, description="How often prices are fetched, minutes")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return _checked(site_zone, value)

    @field_validator("offpeak_hours")
    @classmethod
    def _offpeak(cls, value: str) -> str:
        return _checked(parse_windows, value) if value else value

    @model_validator(mode="after")
    def _complete(self) -> TariffConfig:
        if self.kind == "time_of_use" and self.offpeak_price is None and not self.zones:
            raise ValueError("a time_of_use tariff needs offpeak_price (with preset or offpeak_hours) or zones")
        if self.kind == "time_of_use" and self.offpeak_price is not None and not self.offpeak_window:
            raise ValueError("offpeak_price needs offpeak_hours or a preset")
        if self.kind == "dynamic":
            needs = {"nordpool": self.area, "evcc": self.url, "url": self.url, "file": self.file,
                     "octopus": self.product and self.region, "entsoe": self.area and self.token,
                     "tibber": self.token}
            if not needs[self.source]:
                what = {"nordpool": "area", "evcc": "url", "url": "url", "file": "file",
                        "octopus": "product and region", "entsoe": "area and token", "tibber": "token"}[self.source]
                raise ValueError(f"a dynamic tariff from {self.source} needs {what}")
            if self.source == "entsoe":
                zone_code(self.area)  # a zone it does not know is refused here, not at the first fetch
        return self

    @property
    def offpeak_window(self) -> str:
        """The off-peak windows: given, else the preset's."""
        return self.offpeak_hours or PRESET_WINDOWS.get(self.preset, "")


class PlannerConfig(Section):
    """The day-ahead plan."""

    enabled: bool = Field(True, description="Plan when to charge from the grid and when to hold (needs a tariff)")
    grid_charge: bool = Field(True, description="The plan may charge the batteries from the grid")
    grid_charge_w: int | None = Field(None, ge=0, le=100_000, description="Largest grid-charge power, W "
                                      "(empty: the units' charge power, within the grid import limit)")
    grid_export: bool = Field(False, description="The plan may discharge the batteries into the grid where prices "
                              "pay for it: a feed-in price, or a negative import price ahead to make room for. "
                              "Only if your connection and contract allow exporting from a battery")
    grid_export_w: int | None = Field(None, ge=0, le=100_000, description="Largest power to export from the "
                                      "batteries, W (empty: the units' discharge power, within the grid export "
                                      "limit)")
    horizon_h: float = Field(36, ge=6, le=48, description="How far ahead to plan, h")
    history_days: int = Field(7, ge=1, le=28, description="Days of history the forecast learns from")
    slot_min: int = Field(15, ge=5, le=60, description="The plan's step, minutes")
    round_trip_efficiency: float = Field(0.9, gt=0.3, le=1.0, description="AC to AC, charge then discharge")
    replan_soc_pct: float = Field(10, ge=1, le=50, description="Re-plan when the SoC is this far from the plan")


PvForecastSourceName = Literal["none", "forecast_solar", "evcc"]


class PvForecastConfig(Section):
    """Where the planner's PV forecast comes from (none: PV is forecast from the past days, like the load)."""

    source: PvForecastSourceName = Field("none", description="none, forecast_solar (Forecast.Solar, for one "
                                         "or two planes of panels) or evcc (its solar forecast, whichever "
                                         "service it uses)")
    latitude: float | None = Field(None, ge=-90, le=90, description="forecast_solar: the panels' latitude")
    longitude: float | None = Field(None, ge=-180, le=180, description="forecast_solar: the panels' longitude")
    declination: float = Field(30, ge=0, le=90, description="forecast_solar: the panels' tilt, degrees "
                               "(0 flat, 90 upright)")
    azimuth: float = Field(0, ge=-180, le=180, description="forecast_solar: where they face, degrees (-90 east, "
                           "0 south, 90 west, 180 north)")
    kwp: float | None = Field(None, gt=0, le=1000, description="forecast_solar: the panels' peak power, kWp")
    second_declination: float = Field(30, ge=0, le=90, description="forecast_solar: a second plane's tilt, degrees "
                                      "(an east-west roof, say)")
    second_azimuth: float = Field(0, ge=-180, le=180, description="forecast_solar: where the second plane faces, "
                                  "degrees (-90 east, 0 south, 90 west)")
    second_kwp: float | None = Field(None, gt=0, le=1000, description="forecast_solar: the second plane's peak power, "
                                     "kWp (empty: one plane); each plane is one call to Forecast.Solar")
    token: SecretStr | None = Field(None, description="forecast_solar: your API key (empty: the free public "
                                    "service, 12 calls an hour)")
    url: str = Field("", max_length=400, description="evcc: its address; forecast_solar: another API address "
                     "(empty: https://api.forecast.solar)")
    refresh_min: float = Field(60, ge=15, le=1440, description="How often the forecast is fetched, minutes")

    @model_validator(mode="after")
    def _complete(self) -> PvForecastConfig:
        if self.source == "forecast_solar" and (self.latitude is None or self.longitude is None or self.kwp is None):
            raise ValueError("a forecast_solar PV forecast needs latitude, longitude and kwp")
        if self.source == "evcc" and not self.url:
            raise ValueError("an evcc PV forecast needs evcc's url")
        return self


class ScheduleEntry(TimedSection):
    """A battery mode at set hours, e.g. charge to 80 % between 01:00 and 05:00 on weekdays, or export down to
    30 % between 16:00 and 19:00 where the feed-in price peaks."""

    mode: BatteryMode = Field(description="charge (from the grid), hold (no discharging), export (into the grid) "
                              "or normal")
    soc_pct: float = Field(100, ge=0, le=100, description="charge: up to this SoC, then hold; export: down to this "
                           "SoC, then zero export")
    power_w: int | None = Field(None, ge=0, le=100_000, description="charge or export: at this power, W (empty: the "
                                "most allowed)")
    name: str = Field("", max_length=40, description="A name for people")

    @model_validator(mode="after")
    def _export_floor(self) -> ScheduleEntry:
        if self.mode is BatteryMode.EXPORT and self.soc_pct >= 100:
            raise ValueError("an export entry needs soc_pct below 100: the SoC to export down to")
        return self

    def label(self) -> str:
        """'charge to 80 % 01:00-05:00 mon-fri'."""
        what = (f"charge to {self.soc_pct:.0f} %" if self.mode is BatteryMode.CHARGE else
                f"export down to {self.soc_pct:.0f} %" if self.mode is BatteryMode.EXPORT else str(self.mode))
        return self.name or f"{what} {self.hours} {self.days}"
