"""Each unit's learned response (dead time and ramp) kept across restarts in ``responses.json``.

Keyed by bus and slave id. Written atomically, at most every ``SAVE_EVERY_S`` while something new was
learned, and on stop. A file that cannot be read is set aside as ``responses.json.bad`` and the units
start from their configured first guess, with a warning.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

from smartsofar.engine.units import UnitRuntime
from smartsofar.storage.atomic import atomic_write, remove_orphans

log = logging.getLogger(__name__)
RESPONSES_FILE = "responses.json"
SAVE_EVERY_S = 300.0


def _key(rt: UnitRuntime) -> str:
    return f"{rt.bus_label}#{rt.unit_id}"


class ResponseStore:
    """Loads and saves the units' response learners."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / RESPONSES_FILE
        self._saved: dict[str, int] = {}
        remove_orphans(self.path)

    def load(self, units: Sequence[UnitRuntime]) -> None:
        """Give each unit what it had learned before (nothing when there is no file)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not an object")
            for rt in units:
                if _key(rt) in data and rt.restore_response(data[_key(rt)]):
                    log.info("%s: learned response %s", rt.config.label, rt.response.summary())
        except FileNotFoundError:
            return
        except ValueError as exc:
            bad = self.path.with_name(RESPONSES_FILE + ".bad")
            self.path.replace(bad)
            log.warning("%s could not be read (%s); kept as %s, the units learn again", self.path, exc, bad)
        self._saved = {_key(rt): rt.response.version for rt in units}

    def changed(self, units: Sequence[UnitRuntime]) -> bool:
        """True when some unit learned something since the last save."""
        return any(self._saved.get(_key(rt)) != rt.response.version for rt in units)

    def save(self, units: Sequence[UnitRuntime]) -> None:
        """Write every unit's learner atomically."""
        data = {_key(rt): rt.response.to_json() for rt in units if rt.config.learn_response}
        atomic_write(self.path, json.dumps(data, indent=1) + "\n")
        self._saved = {_key(rt): rt.response.version for rt in units}
