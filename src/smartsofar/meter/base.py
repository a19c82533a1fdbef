"""What every grid meter returns, and the options every meter client shares.

Grid power is **import positive** everywhere here. A meter installed reversed is corrected with
``invert``; ``phase`` picks what the controller follows: the sum of the phases (default) or one phase.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from smartsofar.errors import InvalidInputError, MeterReplyError

PhaseChoice = Literal["sum", "a", "b", "c"]
PHASE_CHOICES: tuple[PhaseChoice, ...] = ("sum", "a", "b", "c")
MeterModel = Literal["auto", "pro3em", "pro3em-monophase", "proem", "3em-gen1", "em-gen1"]
METER_MODELS: tuple[MeterModel, ...] = ("auto", "pro3em", "pro3em-monophase", "proem", "3em-gen1", "em-gen1")


@dataclass(frozen=True, slots=True)
class PhaseSample:
    """One phase (or one single-phase channel)."""

    power_w: float
    voltage_v: float | None = None
    current_a: float | None = None
    power_factor: float | None = None

    def to_json(self) -> dict[str, float | None]:
        """JSON-ready form."""
        return {"power_w": self.power_w, "voltage_v": self.voltage_v, "current_a": self.current_a,
                "power_factor": self.power_factor}


@dataclass(frozen=True, slots=True)
class MeterSample:
    """One reading of the grid connection.

    ``taken_at`` is the monotonic time the reply arrived; ``power_w`` is what the controller follows (sum or
    the chosen phase, after sign correction); ``total_power_w`` is always the sum of all phases. ``lag_s`` is
    at most how long before ``taken_at`` the meter measured, when that is known (a meter pushing as it
    measures, a poll steered to just after the meter's update); None: up to a whole poll interval.
    """

    power_w: float
    total_power_w: float
    phases: tuple[PhaseSample, ...]
    taken_at: float
    frequency_hz: float | None = None
    import_wh: float | None = None
    export_wh: float | None = None
    lag_s: float | None = None

    def age_s(self, now: float) -> float:
        """Seconds since the sample arrived."""
        return now - self.taken_at

    def same_values(self, other: MeterSample) -> bool:
        """True if every measured value is identical (a frozen meter repeats itself exactly)."""
        return self.total_power_w == other.total_power_w and self.phases == other.phases

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"power_w": self.power_w, "total_power_w": self.total_power_w,
                "phases": [p.to_json() for p in self.phases], "frequency_hz": self.frequency_hz,
                "import_wh": self.import_wh, "export_wh": self.export_wh}


class Meter(Protocol):
    """A grid meter client."""

    model: str

    async def read(self) -> MeterSample:
        """One fresh sample; MeterError subclasses on failure."""

    async def aclose(self) -> None:
        """Release connections."""


@dataclass(frozen=True, slots=True)
class MeterOptions:
    """Options shared by every meter client."""

    invert: bool = False
    phase: PhaseChoice = "sum"

    def __post_init__(self) -> None:
        if self.phase not in PHASE_CHOICES:
            raise InvalidInputError(f"phase must be one of {', '.join(PHASE_CHOICES)}, got {self.phase!r}")

    def sample(self, phases: Sequence[PhaseSample], taken_at: float, total_w: float | None = None,
               frequency_hz: float | None = None, import_wh: float | None = None,
               export_wh: float | None = None) -> MeterSample:
        """Build a sample from raw (meter-signed) phases, applying sign and phase selection."""
        sign = -1.0 if self.invert else 1.0
        fixed = tuple(PhaseSample(sign * p.power_w, p.voltage_v, p.current_a, p.power_factor) for p in phases)
        total = sign * (total_w if total_w is not None else sum(p.power_w for p in phases))
        if self.phase == "sum":
            chosen = total
        else:
            index = "abc".index(self.phase)
            if index >= len(fixed):
                raise MeterReplyError(f"phase {self.phase} asked for, but the meter has {len(fixed)} phase(s)")
            chosen = fixed[index].power_w
        if self.invert:
            import_wh, export_wh = export_wh, import_wh
        return MeterSample(chosen, total, fixed, taken_at, frequency_hz, import_wh, export_wh)


def number(body: dict[str, Any], key: str, *, required: bool = True) -> float | None:
    """A finite number from a reply body; MeterReplyError naming the field if it is missing or not a number."""
    value = body.get(key)
    if value is None:
        if required:
            raise MeterReplyError(f"the meter's reply has no {key!r}")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise MeterReplyError(f"the meter's {key!r} is not a finite number: {value!r}")
    return float(value)


def power(body: dict[str, Any], key: str) -> float:
    """A required finite number."""
    value = number(body, key)
    assert value is not None  # required=True never returns None
    return value


def as_number(value: Any, what: str) -> float:
    """A finite number from a JSON value (numbers, or text holding one); MeterReplyError otherwise."""
    if isinstance(value, bool):
        raise MeterReplyError(f"{what} is not a number: {value!r}")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise MeterReplyError(f"{what} is not a number: {value[:40]!r}") from None
    if not isinstance(value, int | float):
        raise MeterReplyError(f"{what} is not a number: {str(value)[:40]!r}")
    if not math.isfinite(value):
        raise MeterReplyError(f"{what} is not a finite number: {value!r}")
    return float(value)


def json_object(raw: str | bytes, sender: str) -> dict[str, Any]:
    """A JSON object from a message; MeterReplyError naming the ``sender`` if it is not one."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise MeterReplyError(f"{sender} sent something that is not JSON") from None
    if not isinstance(body, dict):
        raise MeterReplyError(f"{sender} sent something that is not a JSON object")
    return body
