"""How long the control loop takes to act on a meter sample: from its arrival to the decision.

Each meter sample is counted once, at the first cycle that decides on it. The last ``KEEP`` lags are kept;
``summary`` gives their median, 99th percentile and maximum, shown in diagnostics and ``/metrics``. A lag that
grows means the cycle waits on something else sharing the process (web, MQTT, history).
"""

from __future__ import annotations

from collections import deque

KEEP = 600  # ten minutes at 1 Hz


class LagMeter:
    """The recent lags between a sample's arrival and the decision on it, in seconds."""

    def __init__(self) -> None:
        self._lags: deque[float] = deque(maxlen=KEEP)
        self._last_sample_at: float | None = None

    def record(self, sample_taken_at: float, decided_at: float) -> None:
        """A cycle decided at ``decided_at`` on the sample that arrived at ``sample_taken_at``."""
        if sample_taken_at == self._last_sample_at:
            return  # already counted at its first cycle
        self._last_sample_at = sample_taken_at
        self._lags.append(max(0.0, decided_at - sample_taken_at))

    def clear(self) -> None:
        """Forget what was recorded (after the start-up, whose first decision is measured on its own)."""
        self._lags.clear()

    def summary(self) -> dict[str, float | int]:
        """Median, 99th percentile and maximum in seconds, and how many samples they rest on."""
        lags = sorted(self._lags)
        if not lags:
            return {"samples": 0}
        p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))]
        return {"p50_s": round(lags[len(lags) // 2], 4), "p99_s": round(p99, 4), "max_s": round(lags[-1], 4),
                "samples": len(lags)}
