"""The one entry point for every change people make: the web page, the HTTP API, SmartSofar v1's
``/update``, MQTT set-topics and the CLI all call ``SiteCommands``, so validation cannot drift between them.

Each change is validated (``InvalidInputError`` naming the field, and nothing changes), then persisted
atomically, then handed to the site, which acts on it at once (``wake``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from smartsofar.errors import InvalidInputError, StorageError
from smartsofar.modes import Mode, ModeState, parse_switch, parse_watts
from smartsofar.storage.state_store import StateStore

log = logging.getLogger(__name__)


class ModeHolder(Protocol):
    """Who acts on the operating state (``engine.site.Site``)."""

    @property
    def mode(self) -> ModeState: ...

    def set_mode_state(self, state: ModeState) -> None:
        """Adopt a validated new state."""


class SiteCommands:
    """Validated, persisted changes to the operating state."""

    def __init__(self, holder: ModeHolder, store: StateStore | None, manual_range_w: tuple[int, int]) -> None:
        self.holder = holder
        self.store = store
        self.wake = asyncio.Event()
        self.manual_low_w, self.manual_high_w = manual_range_w

    @property
    def state(self) -> ModeState:
        """The operating state now."""
        return self.holder.mode

    def set_mode(self, value: object) -> ModeState:
        """auto / manual / standby, or SmartSofar v1's 1 (auto) / 0 (manual)."""
        return self._apply(self.state.with_mode(Mode.parse(str(value))))

    def set_manual_power(self, value: object) -> ModeState:
        """Manual mode's total battery power, W (> 0 charge, < 0 discharge, 0 standby)."""
        watts = parse_watts(value, "power")
        return self._apply(self.state.with_manual_power(watts, self.manual_low_w, self.manual_high_w))

    def set_target(self, value: object) -> ModeState:
        """Auto mode's grid target, W (> 0 import)."""
        return self._apply(self.state.with_target(parse_watts(value, "target")))

    def set_permissions(self, *, allow_charge: object = None, allow_discharge: object = None) -> ModeState:
        """Let auto mode charge and/or discharge (charge-only / discharge-only)."""
        charge = None if allow_charge is None else parse_switch(allow_charge, "allow_charge")
        discharge = None if allow_discharge is None else parse_switch(allow_discharge, "allow_discharge")
        if charge is None and discharge is None:
            raise InvalidInputError("give allow_charge and/or allow_discharge")
        return self._apply(self.state.with_permissions(allow_charge=charge, allow_discharge=discharge))

    def standby(self) -> ModeState:
        """Every unit to standby now."""
        return self._apply(self.state.with_mode(Mode.STANDBY))

    def _apply(self, new: ModeState) -> ModeState:
        if new == self.state:
            return new
        if self.store is not None:
            try:
                self.store.save(new)
            except OSError as exc:
                raise StorageError(f"could not save the new state ({exc.strerror}); nothing was changed") from None
        log.info("operating state: %s", ", ".join(f"{k}={v}" for k, v in new.to_json().items()))
        self.holder.set_mode_state(new)
        self.wake.set()
        return new
