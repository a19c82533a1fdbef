"""Price curves: what a kWh costs over time, slot by slot, in epoch seconds (UTC).

A ``PriceCurve`` is a sorted run of non-overlapping ``PriceSlot``s. It knows how far ahead it is known
(``known_until``), answers "what does a kWh cost at t", merges newer prices over older ones, and keeps itself
to the last ``keep_s`` seconds so a long-running service does not grow. It is the one shape every tariff and
price source hands to the planner, the page and MQTT.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from smartsofar.errors import InvalidInputError

MAX_ABS_PRICE = 100.0  # per kWh: day-ahead prices are capped at 4 €/kWh; a bigger number is a unit mistake


@dataclass(frozen=True, slots=True)
class PriceSlot:
    """One interval's price per kWh, [start, end) in epoch seconds."""

    start: float
    end: float
    price: float

    def to_json(self) -> dict[str, float]:
        """JSON-ready form."""
        return {"start": self.start, "end": self.end, "price": self.price}


def checked_slot(start: float, end: float, price: float, where: str) -> PriceSlot:
    """A slot from a source; InvalidInputError naming ``where`` when it is not a plausible one."""
    if not (math.isfinite(start) and math.isfinite(end) and end > start):
        raise InvalidInputError(f"{where}: an interval must end after it starts")
    if not math.isfinite(price) or abs(price) > MAX_ABS_PRICE:
        raise InvalidInputError(f"{where}: price {price!r} per kWh is not plausible (at most ±{MAX_ABS_PRICE:g})")
    return PriceSlot(float(start), float(end), float(price))


class PriceCurve:
    """Prices slot by slot; gaps are unknown."""

    __slots__ = ("_starts", "slots")

    def __init__(self, slots: Iterable[PriceSlot] = ()) -> None:
        ordered = sorted(slots, key=lambda s: s.start)
        for before, after in itertools.pairwise(ordered):
            if after.start < before.end - 1e-6:
                raise InvalidInputError("price intervals overlap")
        self.slots: tuple[PriceSlot, ...] = tuple(ordered)
        self._starts = [s.start for s in self.slots]

    def __len__(self) -> int:
        return len(self.slots)

    def __bool__(self) -> bool:
        return bool(self.slots)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PriceCurve) and self.slots == other.slots

    def __hash__(self) -> int:
        return hash(self.slots)

    def __repr__(self) -> str:
        return f"PriceCurve({len(self.slots)} slots to {self.known_until})"

    def at(self, t: float) -> float | None:
        """The price at ``t``, or None when it is not known."""
        i = bisect.bisect_right(self._starts, t) - 1
        if i >= 0 and t < self.slots[i].end:
            return self.slots[i].price
        return None

    @property
    def known_until(self) -> float | None:
        """The end of the last known slot."""
        return self.slots[-1].end if self.slots else None

    def between(self, start: float, end: float) -> list[PriceSlot]:
        """The slots that overlap [start, end), cut to it."""
        out = []
        i = max(0, bisect.bisect_right(self._starts, start) - 1)
        for slot in self.slots[i:]:
            if slot.start >= end:
                break
            if slot.end <= start:
                continue
            out.append(PriceSlot(max(slot.start, start), min(slot.end, end), slot.price))
        return out

    def known_through(self, start: float, end: float) -> float:
        """How far from ``start`` (at most ``end``) the prices run without a gap."""
        reached = start
        for slot in self.between(start, end):
            if slot.start > reached + 1e-6:
                break
            reached = slot.end
        return reached

    def merged(self, newer: PriceCurve) -> PriceCurve:
        """These prices with ``newer`` laid over them: where both have a price, the newer wins."""
        if not newer:
            return self
        kept: list[PriceSlot] = []
        for slot in self.slots:
            pieces = [slot]
            for new in newer.between(slot.start, slot.end):
                cut: list[PriceSlot] = []
                for piece in pieces:
                    if new.end <= piece.start or new.start >= piece.end:
                        cut.append(piece)
                        continue
                    if piece.start < new.start:
                        cut.append(PriceSlot(piece.start, new.start, piece.price))
                    if new.end < piece.end:
                        cut.append(PriceSlot(new.end, piece.end, piece.price))
                pieces = cut
            kept.extend(pieces)
        return PriceCurve([*kept, *newer.slots])

    def after(self, t: float) -> PriceCurve:
        """Only the slots that end after ``t``."""
        i = max(0, bisect.bisect_right(self._starts, t) - 1)
        return PriceCurve(s for s in self.slots[i:] if s.end > t)

    def mapped(self, scale: float = 1.0, adder: float = 0.0) -> PriceCurve:
        """Every price times ``scale`` plus ``adder`` (VAT, fees, a supplier's margin)."""
        return PriceCurve(PriceSlot(s.start, s.end, s.price * scale + adder) for s in self.slots)

    def to_json(self) -> list[dict[str, float]]:
        """JSON-ready form (also the persisted form)."""
        return [s.to_json() for s in self.slots]

    @classmethod
    def from_json(cls, rows: Sequence[Any], where: str = "prices") -> PriceCurve:
        """Read ``to_json``'s form; InvalidInputError when it is not one."""
        slots = []
        for i, row in enumerate(rows):
            try:
                slots.append(checked_slot(float(row["start"]), float(row["end"]), float(row["price"]), where))
            except (KeyError, TypeError, ValueError):
                raise InvalidInputError(f"{where}: row {i} is not a price slot") from None
        return cls(slots)


def mean_price(slots: Sequence[PriceSlot]) -> float | None:
    """The time-weighted mean price of some slots."""
    total = sum(s.end - s.start for s in slots)
    return sum(s.price * (s.end - s.start) for s in slots) / total if total else None
