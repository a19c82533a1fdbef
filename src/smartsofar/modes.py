"""The operating state people change: the mode, manual mode's power, auto mode's target and permissions.

``ModeState`` is immutable; every change makes a new one through ``ModeState.with_*``, which validates and
raises ``InvalidInputError`` naming the field, so a bad value changes nothing. It is persisted (see
``storage.state_store``) so the last mode survives a restart.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any

from smartsofar.errors import InvalidInputError

MAX_TARGET_W = 20_000


class Mode(StrEnum):
    """What the site does."""

    AUTO = "auto"  # hold grid power at the target
    MANUAL = "manual"  # a fixed total battery power
    STANDBY = "standby"  # every unit in standby

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Every mode's name, in the order the page and Home Assistant offer them."""
        return tuple(m.value for m in cls)

    @classmethod
    def parse(cls, text: str) -> Mode:
        """'auto' / 'manual' / 'standby' (any case), or SmartSofar v1's 1 (auto) / 0 (manual)."""
        value = str(text).strip().lower()
        legacy = {"1": "auto", "0": "manual"}
        try:
            return cls(legacy.get(value, value))
        except ValueError:
            raise InvalidInputError(f"mode must be {', '.join(cls.names()[:-1])} or {cls.names()[-1]} (or 1 / 0), "
                                    f"got {text!r}") from None


WATTS_TEXT = re.compile(r"-?[0-9]{1,9}(\.0+)?")  # ASCII only: "1500", "-800", "1500.0"


def parse_watts(value: object, field: str) -> int:
    """A whole number of watts from a user; InvalidInputError naming ``field`` else.

    A JSON number that is whole (1500, 1500.0), or text that is exactly an optional minus and ASCII digits,
    with ``.0`` allowed after them (as Home Assistant's number entities send): the forms SmartSofar v1's
    ``/update`` and MQTT took from its page and from Home Assistant. Nothing else: no spaces or newlines,
    no plus sign, no ``1_500``, no ``1e3``, no digits of other scripts, no booleans.
    """
    if isinstance(value, bool):
        raise InvalidInputError(f"{field} must be a number of watts, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise InvalidInputError(f"{field} must be a whole number of watts, got {value!r}")
    if isinstance(value, str) and WATTS_TEXT.fullmatch(value):
        return int(value.split(".")[0])
    shown = value if not isinstance(value, str) else value[:40]
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+\.[0-9]+", value):
        raise InvalidInputError(f"{field} must be a whole number of watts, got {shown!r}")
    raise InvalidInputError(f"{field} must be a whole number of watts (ASCII digits, an optional minus), "
                            f"got {shown!r}")


def parse_switch(value: object, field: str) -> bool:
    """On/off from a user: true/false, on/off, 1/0, yes/no (any case); InvalidInputError else."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "on", "yes"):
        return True
    if text in ("0", "false", "off", "no"):
        return False
    raise InvalidInputError(f"{field} must be on or off (true/false, 1/0), got {value!r}")


@dataclass(frozen=True, slots=True)
class ModeState:
    """The operating state. Power in W: battery > 0 charge; grid target > 0 import."""

    mode: Mode = Mode.AUTO
    manual_power_w: int = 0
    target_w: int = 0
    allow_charge: bool = True
    allow_discharge: bool = True

    def with_mode(self, mode: Mode) -> ModeState:
        """Switch mode. Entering auto resets the manual power to 0, as SmartSofar v1 did."""
        return replace(self, mode=mode, manual_power_w=0 if mode is Mode.AUTO else self.manual_power_w)

    def with_manual_power(self, power_w: int, low_w: int, high_w: int) -> ModeState:
        """Set manual mode's total; only in manual mode and within [low_w, high_w]."""
        if self.mode is not Mode.MANUAL:
            raise InvalidInputError(f"cannot set a manual power while the mode is {self.mode}; "
                                    "switch to manual first")
        if not low_w <= power_w <= high_w:
            raise InvalidInputError(f"power must be between {low_w} and {high_w} W, got {power_w}")
        return replace(self, manual_power_w=power_w)

    def with_target(self, target_w: int) -> ModeState:
        """Set auto mode's grid target."""
        if not -MAX_TARGET_W <= target_w <= MAX_TARGET_W:
            raise InvalidInputError(f"target must be between {-MAX_TARGET_W} and {MAX_TARGET_W} W, got {target_w}")
        return replace(self, target_w=target_w)

    def with_permissions(self, *, allow_charge: bool | None = None, allow_discharge: bool | None = None) -> ModeState:
        """Allow or forbid auto mode to charge / discharge (charge-only, discharge-only)."""
        return replace(self, allow_charge=self.allow_charge if allow_charge is None else allow_charge,
                       allow_discharge=self.allow_discharge if allow_discharge is None else allow_discharge)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form (the persisted form too)."""
        out = asdict(self)
        out["mode"] = str(self.mode)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModeState:
        """Read the persisted form; InvalidInputError if it is not one."""
        try:
            state = cls(Mode.parse(data["mode"]), parse_watts(data["manual_power_w"], "manual_power_w"),
                        parse_watts(data["target_w"], "target_w"), bool(data["allow_charge"]),
                        bool(data["allow_discharge"]))
        except (KeyError, TypeError) as exc:
            raise InvalidInputError(f"not a saved mode state ({exc})") from None
        return state.with_target(state.target_w)
