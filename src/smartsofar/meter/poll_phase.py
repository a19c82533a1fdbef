"""When to poll a meter that measures on its own clock: just after it updates, learned as it runs.

A meter polled once a second that updates once a second hands over a value that is as old as the time
between its update and the poll: anything from nothing to a whole second, fixed by chance at start-up. So
the poll instant is steered instead. A poll that brings exactly the values of the one before came too early
(the meter had not updated yet): the next poll follows ``LATER_S`` later, and the ones after it keep that
delay. A poll that brings new values lets
the instant creep ``EARLIER_S`` earlier, so it settles just after the update and follows the meter's clock as
it drifts, with one early poll now and then (about one in ``LATER_S / EARLIER_S``). Until the first early
poll the instant creeps ``SEEK_S`` at a time, so it finds the update within 20 polls wherever it started.
The average rate stays one poll per ``interval_s``.

Once the update has been found, a poll lands at most ``LATER_S`` after it (``lag_s``): the controller then
knows how old the meter's measurement is to a tenth of a second, not to a second. It counts as found only when
the early poll's quick follow-up brings new values (the update lies between the two); a follow-up that brings
the same values again says the first was no early poll (a value repeated by chance, as a steady house on a
coarse meter gives, or a frozen meter), and the update is forgotten; the next poll goes back to the early
one's instant a period on, where a chance repeat leaves the update just before it. So is it after a failed
poll (the meter may have restarted on another phase): the instant seeks again, and until it finds the update
``lag_s`` says nothing. A meter that moves its update earlier without a failed poll (it restarted between two
polls) brings new values at every poll, only older ones, and no early poll comes for as long as the creep
takes to reach the update again: up to 200 polls. So the update found is forgotten too when ``LOST_POLLS``
polls pass without an early one, three times as many as come between two while the instant follows the update.

The early poll's quick follow-up costs one request in about twenty. A meter whose values never repeat (it
measures at each request) makes the instant creep through the whole period, which costs nothing; a frozen
meter gets no quick follow-ups after the first, only polls a little further apart.
"""

from __future__ import annotations

from smartsofar.meter.base import MeterSample

LATER_S = 0.1  # after an early poll
EARLIER_S = 0.005  # after a good one
SEEK_S = 0.05  # after a good one, until the update has been found
LOST_POLLS = 3 * round(LATER_S / EARLIER_S)  # without an early poll: the update has moved, seek it again


class PollPhase:
    """The next poll instant for one meter polled every ``interval_s`` on average."""

    def __init__(self) -> None:
        self.early_polls = 0  # polls that brought the values of the one before (the first one: the update found)
        self.polls = 0
        self._previous: MeterSample | None = None
        self._was_early = False
        self._found = False  # an early poll confirmed since the last failure: the update is just before the poll
        self._follow_up = False  # this poll is the quick follow-up of an early one
        self._since_early = 0  # polls with new values since the last that brought the values before again

    def lag_s(self, round_trip_s: float) -> float | None:
        """At most how long before the reply of a poll that brought new values the meter measured, given the
        poll's round trip; None until the update has been found (or this poll, the early one's quick follow-up,
        finds it)."""
        return LATER_S + max(0.0, round_trip_s) if self._found or self._follow_up else None

    def after(self, sample: MeterSample | None, interval_s: float) -> float:
        """Seconds from this poll's start to the next, given what it brought (None: it failed)."""
        if sample is None:
            self._previous = None
            self._found = self._follow_up = False
            return interval_s
        self.polls += 1
        previous, self._previous = self._previous, sample
        if previous is None:
            return interval_s
        followed_up, self._follow_up = self._follow_up, False
        if sample.same_values(previous):
            self.early_polls += 1
            self._since_early = 0
            later = min(LATER_S, interval_s / 4)
            if followed_up:  # the quick follow-up brought the same values: that was no early poll (a value
                self._found = False  # repeated by chance, a frozen meter): where the update is, is not known;
                return interval_s - later  # back to the instant before, just after the update if it was chance
            quick, self._was_early = not self._was_early, True
            self._follow_up = quick
            return later if quick else interval_s + later  # once at once; a frozen meter is not hammered
        if followed_up:  # new values just after the early poll: the update lies between the two
            self._found = True
        self._since_early += 1
        if self._since_early > LOST_POLLS:  # the update has moved earlier: the polls land late after it
            self._found = False
        self._was_early = False
        creep = EARLIER_S if self._found else SEEK_S
        return interval_s - min(creep, interval_s / 20)
