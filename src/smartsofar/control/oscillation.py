"""The last line of defence against oscillation: see corrections that keep reversing, and back off.

A correction *reverses* when it moves the battery total the other way from the previous one before that one
can have landed (within its settle time plus ``LANDING_SLACK_S``), while the units' own reports contradict
what the controller believes they do: the controller is fighting its own commands, not following the house.
A busy house moves the total both ways within seconds too, but then the units do what they are believed to
do, so those reversals do not count. ``REVERSALS`` such reversals of at least ``REVERSAL_MIN_W`` within
``WINDOW_S`` engage a back-off for ``BACKOFF_S`` (extended while it goes on): each command is left to land
as slowly as any ME3000SP could (``hold_until``), and only ``BACKOFF_GAIN`` of the error is corrected.

The response learner and the envelope should make this unnecessary; it exists for a plant outside every
bound (a response configured as fixed and wrong, a unit that changed faster than it is re-learned).

Pure: times are passed in.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

REVERSAL_MIN_W = 100.0
LANDING_SLACK_S = 2.0
WINDOW_S = 60.0
REVERSALS = 3
BACKOFF_S = 300.0
BACKOFF_GAIN = 0.5


@dataclass(slots=True)
class OscillationWatch:
    """Watches the commanded battery total for corrections that reverse each other."""

    reversals: deque[float] = field(default_factory=deque)
    last: tuple[float, float, float] | None = None  # (when, change W, settle s) of the last correction counted
    active_until: float = -math.inf
    engagements: int = 0

    def active(self, now: float) -> bool:
        """True while backing off."""
        return now < self.active_until

    def note(self, now: float, change_w: float, settle_s: float, model_doubted: bool) -> bool:
        """A correction of the total by ``change_w`` that takes about ``settle_s`` to land, made while a unit's
        report did (``model_doubted``) or did not contradict the plan; True when it makes the watch engage."""
        if abs(change_w) < REVERSAL_MIN_W:
            return False
        last = self.last
        if model_doubted and last is not None and (change_w > 0) != (last[1] > 0) and (
                now - last[0] <= last[2] + LANDING_SLACK_S):
            self.reversals.append(now)
        self.last = (now, change_w, settle_s)
        while self.reversals and self.reversals[0] < now - WINDOW_S:
            self.reversals.popleft()
        if len(self.reversals) < REVERSALS:
            return False
        engaging = not self.active(now)
        self.active_until = now + BACKOFF_S
        self.engagements += engaging
        return engaging
