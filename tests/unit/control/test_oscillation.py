"""The oscillation watch: which corrections count as the controller fighting itself."""

from __future__ import annotations

import pytest

from smartsofar.control.oscillation import BACKOFF_S, REVERSALS, OscillationWatch

# (seconds, change W, settle s, a unit's report contradicted its plan)
Correction = tuple[float, float, float, bool]


def feed(watch: OscillationWatch, corrections: list[Correction]) -> list[bool]:
    return [watch.note(t, change, settle, doubted) for t, change, settle, doubted in corrections]


def alternating(start: float, every: float, doubted: bool, count: int = REVERSALS + 1) -> list[Correction]:
    return [(start + i * every, 800.0 if i % 2 == 0 else -800.0, 3.0, doubted) for i in range(count)]


@pytest.mark.parametrize(("corrections", "engages"), [
    (alternating(0, 4, doubted=True), True),
    (alternating(0, 4, doubted=False), False),  # a busy house: the units do what they are believed to do
    (alternating(0, 20, doubted=True), False),  # each correction landed before the next: the house moved
    ([(i * 4.0, 50.0 if i % 2 == 0 else -50.0, 3.0, True) for i in range(8)], False),  # trims are not swings
    ([(i * 4.0, 800.0, 3.0, True) for i in range(8)], False),  # the same way each time: a ramp, not a swing
    (alternating(0, 4, True, 2) + alternating(100, 4, True, 2), False),  # two far apart
], ids=["swinging against its own commands", "a busy house", "slow enough to land", "small trims",
        "one way", "reversals too far apart"])
def test_what_makes_the_watch_back_off(corrections: list[Correction], engages: bool) -> None:
    watch = OscillationWatch()
    assert any(feed(watch, corrections)) is engages
    assert watch.active(corrections[-1][0]) is engages


def test_the_back_off_lasts_and_is_extended_while_the_swinging_goes_on() -> None:
    watch = OscillationWatch()
    feed(watch, alternating(0, 4, doubted=True))
    assert watch.active(BACKOFF_S - 1) and not watch.active(12 + BACKOFF_S + 1)
    assert not feed(watch, alternating(40, 4, doubted=True))[-1]  # still backing off: not a new engagement
    assert watch.active(40 + 12 + BACKOFF_S - 1)
    assert watch.engagements == 1
