"""The operating state (mode, manual power, target, permissions) kept across restarts in ``state.json``.

Written atomically on every change. A file that cannot be read is set aside as ``state.json.bad`` (never
overwritten in place, so nothing is lost) and the configured first-start state is used, with a warning.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from smartsofar.errors import InvalidInputError
from smartsofar.modes import ModeState
from smartsofar.storage.atomic import atomic_write, remove_orphans

log = logging.getLogger(__name__)
STATE_FILE = "state.json"


class StateStore:
    """Loads and saves one ``ModeState``."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / STATE_FILE
        remove_orphans(self.path)

    def load(self, first_start: ModeState) -> ModeState:
        """The saved state, or ``first_start`` when there is none (or it is unreadable)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return first_start
        try:
            return ModeState.from_json(json.loads(text))
        except (ValueError, InvalidInputError) as exc:
            bad = self.path.with_name(STATE_FILE + ".bad")
            self.path.replace(bad)
            log.warning("%s could not be read (%s); kept as %s, starting in %s mode", self.path, exc, bad,
                        first_start.mode)
            return first_start

    def save(self, state: ModeState) -> None:
        """Write the state atomically."""
        atomic_write(self.path, json.dumps(state.to_json(), indent=2) + "\n")
