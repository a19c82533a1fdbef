"""Household load and PV over a day, from the ``minute,load_w,pv_w`` profiles of real measured days.

The load steps once inside each minute, at a random second drawn with a fixed seed (so a minute's mean is
kept but the step does not always land on the minute); PV is interpolated linearly between minutes.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Protocol

from smartsofar.errors import InvalidInputError

DAY_S = 86400


class Household(Protocol):
    """Load and PV power at a second of the day."""

    def load_w(self, second_of_day: float) -> float:
        """House consumption, W."""

    def pv_w(self, second_of_day: float) -> float:
        """PV generation, W."""


@dataclass(frozen=True, slots=True)
class ConstantHousehold:
    """A fixed load and PV, for tests."""

    load: float = 400.0
    pv: float = 0.0

    def load_w(self, second_of_day: float) -> float:
        return self.load

    def pv_w(self, second_of_day: float) -> float:
        return self.pv


class DayProfile:
    """One measured day at 1 s resolution."""

    def __init__(self, load_w: list[float], pv_w: list[float], seed: int = 2007, name: str = "") -> None:
        if len(load_w) != 1440 or len(pv_w) != 1440:
            raise InvalidInputError(f"a day profile needs 1440 minutes, got {len(load_w)}")
        self.name = name
        self._load = load_w
        self._pv = pv_w
        rng = random.Random(seed)
        self._step_second = [rng.randrange(60) for _ in range(1440)]

    @classmethod
    def from_csv(cls, path: str | Path, seed: int = 2007) -> DayProfile:
        """Read a ``minute,load_w,pv_w`` file; InvalidInputError naming the line if it is malformed."""
        text = Path(path).read_text(encoding="utf-8")
        return cls._parse(text, str(path), seed)

    @classmethod
    def bundled(cls, name: str = "2007-06-10", seed: int = 2007) -> DayProfile:
        """A day shipped inside the package (see ``data/README``)."""
        text = resources.files("smartsofar").joinpath("data", f"{name}.csv").read_text(encoding="utf-8")
        return cls._parse(text, name, seed)

    @classmethod
    def _parse(cls, text: str, name: str, seed: int) -> DayProfile:
        load = [0.0] * 1440
        pv = [0.0] * 1440
        seen = 0
        reader = csv.DictReader(text.splitlines())
        if reader.fieldnames != ["minute", "load_w", "pv_w"]:
            raise InvalidInputError(f"{name}: header must be minute,load_w,pv_w")
        for line_no, row in enumerate(reader, start=2):
            try:
                minute = int(row["minute"])
                load[minute] = float(row["load_w"])
                pv[minute] = float(row["pv_w"])
            except (ValueError, IndexError, TypeError):
                raise InvalidInputError(f"{name}: line {line_no} is not minute,load_w,pv_w") from None
            seen += 1
        if seen != 1440:
            raise InvalidInputError(f"{name}: expected 1440 minutes, got {seen}")
        return cls(load, pv, seed, name)

    def load_w(self, second_of_day: float) -> float:
        """Previous minute's load until this minute's step second, then this minute's."""
        s = second_of_day % DAY_S
        minute = int(s // 60)
        if s - minute * 60 < self._step_second[minute]:
            return self._load[minute - 1] if minute else self._load[0]
        return self._load[minute]

    def pv_w(self, second_of_day: float) -> float:
        """PV interpolated between minute values."""
        s = second_of_day % DAY_S
        minute = int(s // 60)
        frac = (s - minute * 60) / 60
        nxt = self._pv[(minute + 1) % 1440]
        return self._pv[minute] + (nxt - self._pv[minute]) * frac
