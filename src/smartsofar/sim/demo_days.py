"""The built-in household days, ``summer`` and ``winter``: generated from a seed, so no measured data ships.

The simulators and the demo need a house to play without any file. Measured days stay where they are
(``../shared/data/days`` in a checkout, or any ``minute,load_w,pv_w`` file of the user's); what is built in is a
house made of the appliances a real one has, minute by minute, the same every time:

- a standby load, a fridge that cycles, a computer by day, lights and a TV in the evening, a kettle, a hob
  and an oven that switch on and off on their thermostats, a dishwasher, a washing machine (summer), and an
  electric water heater at night, as French houses on off-peak hours have;
- in winter, an electric heater that cycles in the morning and evening;
- PV from a 5 kWp array: a clear-sky bell between sunrise and sunset (French summer and winter times), with
  clouds passing in the afternoon in summer and a grey, slowly changing sky in winter.

Steps inside each minute and PV interpolation come from ``DayProfile``, as for a measured day.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from smartsofar.errors import InvalidInputError
from smartsofar.sim.household import DayProfile

MINUTES = 1440
SEED = 2007


@dataclass(frozen=True, slots=True)
class Season:
    """What changes with the season."""

    sunrise_h: float
    sunset_h: float
    pv_peak_w: float  # clear sky, at solar noon
    standby_w: float
    lights_from_h: float  # evening lights on from this hour to 23:00
    water_heater_min: int  # minutes at 2.4 kW from 22:30
    heating: bool
    washing: bool  # a washing machine in the morning
    dishwasher_h: float  # when the dishwasher starts


SEASONS: dict[str, Season] = {
    "summer": Season(sunrise_h=5.9, sunset_h=21.9, pv_peak_w=3000.0, standby_w=150.0, lights_from_h=21.0,
                     water_heater_min=90, heating=False, washing=True,
                     dishwasher_h=20.8),
    "winter": Season(sunrise_h=8.6, sunset_h=17.2, pv_peak_w=1500.0, standby_w=190.0, lights_from_h=16.8,
                     water_heater_min=110, heating=True, washing=False,
                     dishwasher_h=13.5),
}
DEMO_DAYS = tuple(SEASONS)


def demo_day(name: str, seed: int = SEED) -> DayProfile:
    """The built-in day ``name`` (``summer`` or ``winter``); InvalidInputError for any other name."""
    season = SEASONS.get(name)
    if season is None:
        raise InvalidInputError(f"no built-in day {name!r}: the built-in days are {', '.join(DEMO_DAYS)}; "
                                "or give a minute,load_w,pv_w CSV file")
    rng = random.Random(f"{name}/{seed}")
    load = _load(season, rng)
    pv = _pv(season, rng, cloudy=name == "summer")
    return DayProfile([round(w) for w in load], [round(w) for w in pv], seed, name)


# --- the house ---------------------------------------------------------------------------------------------

def _load(season: Season, rng: random.Random) -> list[float]:
    load = [season.standby_w + rng.uniform(-10, 10) for _ in range(MINUTES)]
    _cycle(load, rng, 0, MINUTES, 95.0, on_min=(12, 18), off_min=(28, 40))  # the fridge
    _on(load, _at(season.lights_from_h), _at(23.0), 180.0 if season.heating else 90.0)
    _on(load, _at(9.0), _at(17.5), 150.0)  # a computer, working from home
    _on(load, _at(20.0) + rng.randrange(20), _at(23.2), 120.0)  # the TV
    for hour in (7.1, 16.5, 21.8):  # the kettle
        start = _at(hour) + rng.randrange(-10, 10)
        _on(load, start, start + 3, 2000.0)
    _on(load, _at(7.3), _at(7.4), 900.0)  # a toaster
    lunch, dinner = _at(12.1) + rng.randrange(-10, 10), _at(19.2) + rng.randrange(-10, 10)
    _cycle(load, rng, lunch, lunch + 35, 1400.0, on_min=(2, 4), off_min=(1, 3))  # the hob
    _cycle(load, rng, dinner, dinner + 40, 1400.0, on_min=(2, 4), off_min=(1, 3))
    _on(load, dinner - 10, dinner + 2, 2200.0)  # the oven heats up, then holds its temperature
    _cycle(load, rng, dinner + 2, dinner + 45, 2200.0, on_min=(2, 3), off_min=(3, 5))
    if season.washing:
        start = _at(10.0) + rng.randrange(30)
        _on(load, start, start + 18, 2000.0)  # heating the water
        _cycle(load, rng, start + 18, start + 75, 350.0, on_min=(1, 2), off_min=(1, 2))  # washing
        _on(load, start + 75, start + 85, 550.0)  # spinning
    start = _at(season.dishwasher_h) + rng.randrange(20)
    _on(load, start, start + 20, 1800.0)
    _on(load, start + 20, start + 60, 90.0)
    _on(load, start + 60, start + 75, 1800.0)
    if season.heating:
        _cycle(load, rng, _at(6.3), _at(9.0), 1500.0, on_min=(6, 10), off_min=(6, 12))
        _cycle(load, rng, _at(17.0), _at(22.5), 1500.0, on_min=(6, 12), off_min=(5, 10))
    heater_start = _at(22.5)
    _on(load, heater_start, heater_start + season.water_heater_min, 2400.0, wrap=True)
    return load


def _at(hour: float) -> int:
    return int(hour * 60)


def _on(load: list[float], start: int, end: int, watts: float, *, wrap: bool = False) -> None:
    for minute in range(start, end):
        if wrap or 0 <= minute < MINUTES:
            load[minute % MINUTES] += watts


def _cycle(load: list[float], rng: random.Random, start: int, end: int, watts: float, *,
           on_min: tuple[int, int], off_min: tuple[int, int]) -> None:
    """An appliance on its thermostat: on and off for a few minutes at a time, from ``start`` to ``end``."""
    minute = start + rng.randrange(off_min[1])
    while minute < end:
        on = rng.randint(*on_min)
        _on(load, minute, min(minute + on, end), watts)
        minute += on + rng.randint(*off_min)


# --- the sky -----------------------------------------------------------------------------------------------

def _pv(season: Season, rng: random.Random, *, cloudy: bool) -> list[float]:
    rise, set_ = _at(season.sunrise_h), _at(season.sunset_h)
    pv = [0.0] * MINUTES
    sky = 1.0 if cloudy else 0.55
    drift = 0.0
    for minute in range(rise, set_):
        elevation = math.sin(math.pi * (minute - rise) / (set_ - rise))
        if not cloudy:  # a grey winter sky brightens and darkens slowly
            drift = max(-0.25, min(0.25, drift + rng.uniform(-0.03, 0.03)))
        pv[minute] = season.pv_peak_w * elevation ** 1.3 * (sky + drift)
    if cloudy:
        minute = _at(12.5)
        while minute < set_:  # clouds pass in the afternoon: a few minutes at a time, some thick, some thin
            length, depth = rng.randint(2, 9), rng.uniform(0.35, 0.8)
            for m in range(minute, min(minute + length, set_)):
                pv[m] *= 1 - depth
            minute += length + rng.randint(4, 25)
    return pv
