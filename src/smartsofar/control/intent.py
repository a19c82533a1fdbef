"""What auto mode is asked to do with the batteries besides zero export: hold their energy, charge from the
grid, or export from them, and who asked (the plan, a schedule entry, or another system such as evcc).

Zero export stays the inner loop; an intent only bounds it. ``hold`` forbids discharging (the surplus still
charges); ``charge`` also forbids discharging and puts a floor under the battery total, the grid-charge power,
which the grid import limit still caps, until the site's SoC reaches ``until_soc_pct`` (then it holds).
``export`` puts a ceiling on the battery total instead: it discharges at least the export power (more if the
house draws more), the rest going into the grid, which the grid export limit still caps, until the site's SoC
falls to ``until_soc_pct`` (then zero export again). evcc's own modes are the first three.
The user's own permissions, the reserve and the SoC limits apply as always. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from smartsofar.errors import InvalidInputError

EXTERNAL_LEASE_S = 60.0  # another system's battery mode lapses after this unless renewed (as evcc's does)


class BatteryMode(StrEnum):
    """evcc's battery modes: what an intent does."""

    NORMAL = "normal"  # zero export
    HOLD = "hold"  # no discharging
    CHARGE = "charge"  # charge from the grid
    EXPORT = "export"  # discharge into the grid

    @classmethod
    def parse(cls, text: object) -> BatteryMode:
        """'normal' / 'hold' / 'charge' / 'export' (any case), or evcc's numbers 1 / 2 / 3; InvalidInputError
        else."""
        if isinstance(text, bool):
            raise InvalidInputError(f"battery mode must be normal, hold, charge or export, got {text!r}")
        value = str(text).strip().lower()
        value = {"1": "normal", "2": "hold", "3": "charge"}.get(value, value)
        try:
            return cls(value)
        except ValueError:
            raise InvalidInputError(
                f"battery mode must be normal, hold, charge or export, got {str(text)[:40]!r}") from None


@dataclass(frozen=True, slots=True)
class BatteryIntent:
    """One intent: what, how hard, until which SoC, who asked, why, and until when it stands."""

    mode: BatteryMode = BatteryMode.NORMAL
    charge_w: float = 0.0  # charge: the battery total is at least this (W)
    until_soc_pct: float | None = None  # charge: then hold; export: down to this, then zero export
    source: str = ""  # "plan", "schedule", "external", or "" for none
    reason: str = ""  # for people
    ends_at: float | None = None  # wall-clock end (None: open)
    export_w: float = 0.0  # export: the batteries discharge at least this (W)

    @property
    def blocks_discharge(self) -> bool:
        """True when the batteries may not discharge."""
        return self.mode in (BatteryMode.HOLD, BatteryMode.CHARGE)

    def at_soc(self, soc_pct: float | None) -> BatteryIntent:
        """This intent given the site's SoC now: a charge whose target is reached holds instead; an export whose
        floor is reached, or whose SoC is not known, is zero export again."""
        if self.mode is BatteryMode.CHARGE and self.until_soc_pct is not None and soc_pct is not None \
                and soc_pct >= self.until_soc_pct:
            return replace(self, mode=BatteryMode.HOLD, charge_w=0.0,
                           reason=f"{self.reason}; {self.until_soc_pct:.0f} % reached, holding")
        if self.mode is BatteryMode.EXPORT and (soc_pct is None or (
                self.until_soc_pct is not None and soc_pct <= self.until_soc_pct)):
            why = "the SoC is not known" if soc_pct is None else f"down to {self.until_soc_pct:.0f} %"
            return replace(self, mode=BatteryMode.NORMAL, export_w=0.0, reason=f"{self.reason}; {why}, zero export")
        return self

    def to_json(self) -> dict[str, object]:
        """JSON-ready form."""
        return {"mode": str(self.mode), "charge_w": round(self.charge_w), "until_soc_pct": self.until_soc_pct,
                "source": self.source, "reason": self.reason, "ends_at": self.ends_at, "export_w": round(self.export_w)}


NORMAL = BatteryIntent()


def charge_floor(intent: BatteryIntent, clamp: tuple[float, float]) -> tuple[float, float]:
    """The battery total's range under ``intent``: no discharge when it blocks it, at least its charge power, at
    most minus its export power (never beyond what ``clamp``, the units and the grid limits, allows)."""
    low, high = clamp
    if intent.blocks_discharge:
        low = max(low, 0.0)
    if intent.mode is BatteryMode.CHARGE and intent.charge_w > 0:
        low = max(low, min(high, intent.charge_w))
    if intent.mode is BatteryMode.EXPORT and intent.export_w > 0:
        high = min(high, max(low, -intent.export_w))
    return low, max(low, high)
