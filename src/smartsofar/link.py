"""How well a device answers on its link: the vocabulary the bus reports and the engine and safety rules read.

Neutral ground, so the pure control code can name a unit's link state without loading the bus (pymodbus).
"""

from __future__ import annotations

from enum import StrEnum


class LinkHealth(StrEnum):
    """How well a unit answers on its bus."""

    UNKNOWN = "unknown"  # not asked yet
    OK = "ok"  # the last exchange was clean
    DEGRADED = "degraded"  # it needed retries, or recent exchanges failed
    OFFLINE = "offline"  # several exchanges in a row failed
