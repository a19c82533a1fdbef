"""Household load and PV over time: minute days (measured, or built in: ``sim.demo_days``), or second series.

``DayProfile`` plays a ``minute,load_w,pv_w`` file of one day or several consecutive days (minute 0 ...
N·1440−1): the load steps once inside each minute, at a random second drawn with a fixed seed (so a
minute's mean is kept but the step does not always land on the minute); PV is interpolated linearly between
minutes. Its ``period_s`` is its length.

``SecondSeries`` plays ``second,load_w[,pv_w]`` and ``second,pv_w`` files (gzip accepted), one value per
second held for that second, from a chosen start second; its ``period_s`` is the series' length, so it
need not be a day.
"""

from __future__ import annotations

import csv
import gzip
import random
from dataclasses import dataclass
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
    """One or more measured days at 1 s resolution."""

    def __init__(self, load_w: list[float], pv_w: list[float], seed: int = 2007, name: str = "") -> None:
        if not load_w or len(load_w) % 1440 or len(pv_w) != len(load_w):
            raise InvalidInputError(f"a day profile needs 1440 minutes a day, got {len(load_w)}")
        self.name = name
        self._load = load_w
        self._pv = pv_w
        self.days = len(load_w) // 1440
        self.period_s = float(self.days * DAY_S)
        rng = random.Random(seed)
        self._step_second = [rng.randrange(60) for _ in range(len(load_w))]

    def minute_base_w(self, minute: int) -> float:
        """The house's own power (load - PV) in one minute of the file."""
        return self._load[minute] - self._pv[minute]

    def load_minute_w(self, minute: int) -> float:
        """The load in one minute of the file."""
        return self._load[minute]

    def pv_minute_w(self, minute: int) -> float:
        """The PV in one minute of the file."""
        return self._pv[minute]

    @classmethod
    def from_csv(cls, path: str | Path, seed: int = 2007) -> DayProfile:
        """Read a ``minute,load_w,pv_w`` file; InvalidInputError naming the line if it is malformed."""
        text = Path(path).read_text(encoding="utf-8")
        return cls._parse(text, str(path), seed)

    @classmethod
    def _parse(cls, text: str, name: str, seed: int) -> DayProfile:
        load: list[float] = []
        pv: list[float] = []
        reader = csv.DictReader(text.splitlines())
        if reader.fieldnames != ["minute", "load_w", "pv_w"]:
            raise InvalidInputError(f"{name}: header must be minute,load_w,pv_w")
        for line_no, row in enumerate(reader, start=2):
            try:
                minute = int(row["minute"])
                load_w, pv_w = float(row["load_w"]), float(row["pv_w"])
            except (ValueError, IndexError, TypeError):
                raise InvalidInputError(f"{name}: line {line_no} is not minute,load_w,pv_w") from None
            if minute != len(load):
                raise InvalidInputError(f"{name}: line {line_no}: expected minute {len(load)}, got {minute}")
            load.append(load_w)
            pv.append(pv_w)
        if not load or len(load) % 1440:
            raise InvalidInputError(f"{name}: expected whole days of 1440 minutes, got {len(load)}")
        return cls(load, pv, seed, name)

    def load_w(self, second_of_day: float) -> float:
        """Previous minute's load until this minute's step second, then this minute's."""
        s = second_of_day % self.period_s
        minute = int(s // 60)
        if s - minute * 60 < self._step_second[minute]:
            return self._load[minute - 1] if minute else self._load[0]
        return self._load[minute]

    def pv_w(self, second_of_day: float) -> float:
        """PV interpolated between minute values."""
        s = second_of_day % self.period_s
        minute = int(s // 60)
        frac = (s - minute * 60) / 60
        nxt = self._pv[(minute + 1) % len(self._pv)]
        return self._pv[minute] + (nxt - self._pv[minute]) * frac


def _read_series(path: str | Path, column: str) -> tuple[list[float], list[float] | None]:
    """The ``column`` of a ``second,...`` CSV (and its ``pv_w``, if it has one); InvalidInputError naming the line."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        text = (gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw).decode("utf-8")
    except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError) as exc:
        raise InvalidInputError(f"{path}: cannot read: {exc}") from None
    reader = csv.DictReader(text.splitlines())
    fields = reader.fieldnames or []
    if not fields or fields[0] != "second" or column not in fields:
        raise InvalidInputError(f"{path}: header must be second,{column}[,...]")
    values: list[float] = []
    pv: list[float] | None = [] if column != "pv_w" and "pv_w" in fields else None
    for line_no, row in enumerate(reader, start=2):
        try:
            second = int(row["second"])
            value = float(row[column])
            extra = float(row["pv_w"]) if pv is not None else 0.0
        except (ValueError, TypeError):
            raise InvalidInputError(f"{path}: line {line_no} is not second,{column}") from None
        if second != len(values):
            raise InvalidInputError(f"{path}: line {line_no}: expected second {len(values)}, got {second}")
        values.append(value)
        if pv is not None:
            pv.append(extra)
    if not values:
        raise InvalidInputError(f"{path}: no rows")
    return values, pv


class SecondSeries:
    """A second-resolution site: a load series, PV (its own file, the load file's ``pv_w``, or none), a base."""

    def __init__(self, load_w: list[float], pv_w: list[float] | None = None, *, base_load_w: float = 0.0,
                 name: str = "") -> None:
        self.name = name
        self._load = load_w
        self._pv = pv_w or [0.0]
        self.base_load_w = base_load_w
        self.period_s = float(len(load_w))
        self.held = True  # each value holds for its whole second (no interpolation)

    @classmethod
    def from_files(cls, load: str | Path, pv: str | Path | None = None, *, base_load_w: float = 0.0,
                   start_second: int = 0) -> SecondSeries:
        """Load (and PV) from files; the load from ``start_second``; PV from its own second 0."""
        loads, own_pv = _read_series(load, "load_w")
        if not 0 <= start_second < len(loads):
            raise InvalidInputError(f"start second {start_second} is outside {load} (0..{len(loads) - 1})")
        pv_values = _read_series(pv, "pv_w")[0] if pv is not None else (own_pv[start_second:] if own_pv else None)
        name = Path(load).name + (f" + {Path(pv).name}" if pv is not None else "")
        return cls(loads[start_second:], pv_values, base_load_w=base_load_w, name=name)

    def load_w(self, second_of_day: float) -> float:
        """The load of this second, plus the base load."""
        return self._load[min(int(second_of_day), len(self._load) - 1)] + self.base_load_w

    def pv_w(self, second_of_day: float) -> float:
        """PV of this second (the last value once the PV series has ended)."""
        return self._pv[min(int(second_of_day), len(self._pv) - 1)]
