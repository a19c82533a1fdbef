"""Samples that come faster than once a second, averaged into one a second.

The control law reads each sample as the grid's mean over the second before it arrived (``control.law``).
A meter that reports more often (an SMA Energy Meter every 200 ms, a Shelly polled every 0.2 s) would break
that reading and make the law correct the same error several times. So samples arriving within
``window_s`` of the last one handed on are kept aside, and the one that closes the window is handed on as
the mean of them all: powers averaged, the rest (voltages, counters, frequency) the newest, timed by the
newest arrival. The first sample after a silence is handed on at once, and so is a sample that jumps more
than ``JUMP_W`` from the ones held (a kettle switched on): waiting for the window to close would spend the
fast meter's head start, and the samples before the jump are history.
"""

from __future__ import annotations

from statistics import fmean

from smartsofar.meter.base import MeterSample, PhaseSample

WINDOW_S = 1.0
CLOSE_AT = 0.9  # a sample this far into the window closes it (a push may come a little early)
JUMP_W = 250.0  # a sample this far from the held ones' mean is handed on at once, alone


def mean_sample(samples: list[MeterSample]) -> MeterSample:
    """One sample standing for several in a row."""
    newest = samples[-1]
    if len(samples) == 1:
        return newest
    phases = newest.phases
    if all(len(s.phases) == len(phases) for s in samples):
        phases = tuple(PhaseSample(fmean(s.phases[i].power_w for s in samples), p.voltage_v, p.current_a,
                                   p.power_factor) for i, p in enumerate(phases))
    return MeterSample(fmean(s.power_w for s in samples), fmean(s.total_power_w for s in samples), phases,
                       newest.taken_at, newest.frequency_hz, newest.import_wh, newest.export_wh, newest.lag_s)


class SecondWindow:
    """Holds back samples until a second has passed since the last one handed on."""

    def __init__(self, window_s: float = WINDOW_S) -> None:
        self.window_s = window_s
        self._held: list[MeterSample] = []
        self._last: MeterSample | None = None  # the last one handed on

    def add(self, sample: MeterSample) -> MeterSample | None:
        """The sample to hand on now, or None while the window is open."""
        last = self._last
        reference = fmean(s.power_w for s in self._held) if self._held else last.power_w if last else None
        if reference is not None and abs(sample.power_w - reference) > JUMP_W:
            self._held.clear()  # a jump: what came before it is history
            last = None
        self._held.append(sample)
        if last is not None and sample.taken_at - last.taken_at < CLOSE_AT * self.window_s:
            return None
        merged = mean_sample(self._held)
        self._held.clear()
        self._last = merged
        return merged

    def reset(self) -> None:
        """After a failure: the next sample starts afresh."""
        self._held.clear()
        self._last = None
