"""Learning how fast one unit follows its commands: dead time and ramp, per direction, from its own readings.

Nobody has published how fast an ME3000SP follows a 0x42 command, so each unit's response is measured.
Every accepted command that moves a *steady* unit by at least ``MIN_STEP_W`` opens an **episode**: the
power the unit reports (0x020D) is collected, read more often while the episode lasts, until it has
arrived, a new command interrupts it, or ``MAX_EPISODE_S`` pass. The episode is then fitted
(``fit_episode``) with the model the controller uses: nothing for the dead time, then a straight ramp.

- Two or more readings inside the transition give both: ``t - t_cmd = dead + fraction * step / ramp``,
  a straight-line fit.
- One or none inside give the dead time (the ramp from the current estimate), and a lower bound on the
  ramp (it was done between two readings).
- A unit that stops short (full, flat, capped) is fitted on the part it did; one that moves the wrong way or
  far past its target (a wrong episode, a reading gone astray) is set aside.

Readings of the unit itself are immune to load changes and to the other units moving. The estimate is a
robust fit over the last ``KEEP`` episodes per direction: a Theil-Sen line through the readings inside
their transitions (``t - t_cmd`` against the watts moved so far), pooled, so that a fast unit whose
transition holds one reading at most is still measured across commands read at different phases; with
too few such readings, the median of the episodes' own dead times. An outlier does not move it, and a unit
whose response changes (a firmware update) is re-learned within a few commands.

``bounds()`` turns the estimate into the ``ResponseBounds`` the controller plans with: the nominal response
and the fastest and slowest ones still plausible. Before anything is learned these span every plausible
ME3000SP (``PLAUSIBLE_DEAD_S``, ``PLAUSIBLE_RAMP_W_PER_S``); they narrow as episodes come in. The fast side
keeps ``REPORT_LAG_ALLOWANCE_S`` of slack, because a unit's report may trail its real power.

Pure: times and readings are passed in.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

Direction = Literal["up", "down"]
DIRECTIONS: tuple[Direction, Direction] = ("up", "down")
PLAUSIBLE_DEAD_S = (0.2, 5.0)
PLAUSIBLE_RAMP_W_PER_S = (100.0, 5000.0)
MIN_STEP_W = 150.0  # smaller steps say little next to 0x020D's 10 W resolution
MAX_EPISODE_S = 70.0  # the slowest plausible unit: 5 s + 6 kW at 100 W/s
KEEP = 9
REPORT_LAG_ALLOWANCE_S = 0.4
EARLY_READ_S = 0.3  # the first reading of an episode may come this much before the expected dead time ends
LEARNED_AFTER = 10  # episodes: after this many the unit is read less often while it settles


class Response(NamedTuple):
    """How a unit follows a command in one direction."""

    dead_time_s: float
    ramp_w_per_s: float


class DirectedResponse(NamedTuple):
    """Up (power increasing, towards charge) and down."""

    up: Response
    down: Response

    @classmethod
    def same(cls, response: Response) -> DirectedResponse:
        """The same response both ways."""
        return cls(response, response)

    def way(self, direction: Direction) -> Response:
        """The response in one direction."""
        return self.up if direction == "up" else self.down


class ResponseBounds(NamedTuple):
    """What the controller plans with: the nominal response and the fastest and slowest plausible ones."""

    nominal: DirectedResponse
    fast: DirectedResponse
    slow: DirectedResponse
    measured: bool = False  # narrowed by what the unit was seen to do (not configured, not widened after a surprise)


class Observation(NamedTuple):
    """What one episode showed (``None`` where it could not tell)."""

    dead_time_s: float | None
    ramp_w_per_s: float | None
    ramp_at_least_w_per_s: float | None = None
    inside: tuple[tuple[float, float], ...] = ()  # (W moved so far, s since the command) inside the transition


@dataclass(slots=True)
class Episode:
    """One command being followed."""

    direction: Direction
    t_cmd: float
    from_w: float
    to_w: float
    points: list[tuple[float, float]] = field(default_factory=list)  # (t, reported W)

    @property
    def step_w(self) -> float:
        """Signed size of the step."""
        return self.to_w - self.from_w


def fit_episode(episode: Episode, prior_ramp_w_per_s: float) -> Observation | None:
    """Dead time and ramp from one episode; None when it says nothing reliable."""
    step = episode.step_w
    points = [(t - episode.t_cmd, (w - episode.from_w) / step) for t, w in episode.points if t >= episode.t_cmd]
    if not points or any(f < -0.35 or f > 1.35 for _, f in points):
        return None  # moved the wrong way, or far past the target: not this command's doing
    tol = max(30.0, 0.06 * abs(step)) / abs(step)
    settled_short = len(points) >= 2 and abs(points[-1][1] - points[-2][1]) * abs(step) <= 20.0
    reached_fraction = points[-1][1]
    if settled_short and reached_fraction < 1 - tol:
        if reached_fraction * abs(step) < MIN_STEP_W:
            return None  # it hardly moved (full, flat, capped): nothing to learn
        points = [(y, f / reached_fraction) for y, f in points]  # fit the part it did
        step *= reached_fraction
    before = [y for y, f in points if f <= tol]
    inside = [(y, f) for y, f in points if tol < f < 1 - tol]
    reached = [y for y, f in points if f >= 1 - tol]
    low = max(before, default=0.0)
    high = min(reached) if reached else None
    size = abs(step)
    pooled = tuple((f * size, y) for y, f in inside)
    if len(inside) >= 2 and max(f for _, f in inside) - min(f for _, f in inside) >= 0.15:
        fs = [f for _, f in inside]
        ys = [y for y, _ in inside]
        slope, intercept = statistics.linear_regression(fs, ys)
        if slope <= 0:
            return None
        dead = max(0.0, intercept)
        if high is not None and dead > high:
            return None
        return Observation(dead, size / slope, None, pooled)
    if len(inside) == 1:
        y1, f1 = inside[0]
        longest = (y1 - low) / f1
        if high is not None:
            longest = min(longest, (high - y1) / (1 - f1))
        transition = min(max(0.0, longest), size / prior_ramp_w_per_s)
        at_least = size / longest if longest > 0 and high is not None else None
        return Observation(max(0.0, y1 - f1 * transition), None, at_least, pooled)
    if high is not None and high - low <= 1.5:
        window = max(high - low, 1e-3)
        transition = min(window, size / prior_ramp_w_per_s)
        return Observation(max(0.0, (low + high) / 2 - transition / 2), None, size / window)
    return None


@dataclass(slots=True)
class _History:
    dead: deque[float] = field(default_factory=lambda: deque(maxlen=KEEP))
    ramp: deque[float] = field(default_factory=lambda: deque(maxlen=KEEP))
    ramp_floor: deque[float] = field(default_factory=lambda: deque(maxlen=KEEP))
    inside: deque[tuple[tuple[float, float], ...]] = field(default_factory=lambda: deque(maxlen=KEEP))

    def pooled_fit(self, extra: tuple[tuple[float, float], ...] = ()) -> Response | None:
        """A Theil-Sen line through the pooled transition readings (and ``extra`` ones), when they span enough
        of a ramp."""
        points = [p for episode in self.inside for p in episode] + list(extra)
        if len(points) < 3 or max(x for x, _ in points) - min(x for x, _ in points) < 100.0:
            return None
        slopes = [(y1 - y0) / (x1 - x0) for i, (x0, y0) in enumerate(points) for x1, y1 in points[i + 1:]
                  if abs(x1 - x0) >= 20.0]
        if not slopes:
            return None
        slope = statistics.median(slopes)
        if slope <= 0:
            return None
        dead = statistics.median(y - slope * x for x, y in points)
        return Response(max(0.0, dead), 1.0 / slope)


class ResponseLearner:
    """One unit's response, learned from its episodes (or fixed, when the configuration says so)."""

    def __init__(self, configured: Response, *, fixed: bool = False) -> None:
        self.configured = configured
        self.fixed = fixed
        self.episode: Episode | None = None
        self.history: dict[Direction, _History] = {d: _History() for d in DIRECTIONS}
        self.version = 0  # bumped whenever the estimate changes
        self._bounds: tuple[int, ResponseBounds] | None = None
        self._summary: tuple[int, dict[str, Any]] | None = None

    # --- episodes -------------------------------------------------------------------------------------

    def on_command(self, now: float, from_w: float, to_w: float, steady: bool) -> None:
        """An accepted command; ``steady``: the unit was not moving (so ``from_w`` is known)."""
        self._close()
        if self.fixed or not steady or abs(to_w - from_w) < MIN_STEP_W:
            return
        self.episode = Episode("up" if to_w > from_w else "down", now, from_w, to_w)

    def on_power(self, now: float, power_w: float) -> None:
        """A reported battery power (W, charge positive)."""
        episode = self.episode
        if episode is None:
            return
        episode.points.append((now, power_w))
        tol = max(30.0, 0.06 * abs(episode.step_w))
        arrived = [p for p in episode.points[-2:] if abs(p[1] - episode.to_w) <= tol]
        elapsed = now - episode.t_cmd
        moved = abs(power_w - episode.from_w) > tol
        stopped = moved and len(episode.points) >= 3 and max(w for _, w in episode.points[-3:]) - min(
            w for _, w in episode.points[-3:]) <= 20.0 and elapsed > self.slow_settle_s(episode)
        if moved and elapsed > self.slow_settle_s(episode) + 0.5 and not arrived and len(episode.points) >= 2 and abs(
                episode.points[-1][1] - episode.points[-2][1]) > 20.0:
            # Still moving when even the slowest response believed plausible should have arrived: it has become
            # slower (a firmware update, say). Forget that direction, so the bounds widen until it is learned again.
            self.history[episode.direction] = _History()
            self.version += 1
        # A unit that has not moved at all by twice the slowest plausible dead time will not (full, capped).
        idle = not moved and elapsed > 2 * PLAUSIBLE_DEAD_S[1]
        if len(arrived) == 2 or stopped or idle or elapsed > MAX_EPISODE_S:
            self._close()

    def on_lost(self) -> None:
        """The unit went offline, refused, or reported something else entirely: drop the episode."""
        self.episode = None

    def first_reading_after_s(self, phase: float) -> float:
        """When to read first after the open episode's command, for a ``phase`` in [0, 1): somewhere inside
        the transition the estimate expects (varied from one command to the next, so that a transition
        shorter than the read interval is still caught inside, at different points, across commands)."""
        episode = self.episode
        if episode is None:
            return 0.0
        expected = self.bounds().nominal.way(episode.direction)
        transition = abs(episode.step_w) / expected.ramp_w_per_s
        return max(0.0, expected.dead_time_s - EARLY_READ_S) + phase * (transition + EARLY_READ_S)

    def wants_readings(self) -> bool:
        """True while an episode is open: read the unit's power more often."""
        return self.episode is not None

    @property
    def samples(self) -> int:
        """Episodes that taught something."""
        return sum(len(h.dead) for h in self.history.values())

    def slow_settle_s(self, episode: Episode) -> float:
        """How long the slowest plausible response takes for this episode's step."""
        slow = self.bounds().slow.way(episode.direction)
        return slow.dead_time_s + abs(episode.step_w) / slow.ramp_w_per_s

    def _close(self) -> None:
        episode, self.episode = self.episode, None
        if episode is None:
            return
        observation = fit_episode(episode, self.bounds().nominal.way(episode.direction).ramp_w_per_s)
        if observation is None:
            return
        history = self.history[episode.direction]
        if observation.dead_time_s is not None:
            history.dead.append(min(observation.dead_time_s, 10.0))
        if observation.ramp_w_per_s is not None:
            history.ramp.append(min(observation.ramp_w_per_s, 100_000.0))
        if observation.ramp_at_least_w_per_s is not None:
            history.ramp_floor.append(min(observation.ramp_at_least_w_per_s, 100_000.0))
        history.inside.append(observation.inside)
        self.version += 1

    # --- the estimate ---------------------------------------------------------------------------------

    def estimate(self, direction: Direction) -> tuple[Response, int]:
        """The nominal response one way, and how many episodes it rests on (pooled when one way has few)."""
        own = self.history[direction]
        pooled = [x for h in self.history.values() for x in h.dead]
        dead_values = list(own.dead) if len(own.dead) >= 3 else pooled
        ramp_values = list(own.ramp) if len(own.ramp) >= 3 else [x for h in self.history.values() for x in h.ramp]
        floors = list(own.ramp_floor) if len(own.ramp_floor) >= 3 else [
            x for h in self.history.values() for x in h.ramp_floor]
        dead = statistics.median(dead_values) if dead_values else self.configured.dead_time_s
        ramp = statistics.median(ramp_values) if ramp_values else max(self.configured.ramp_w_per_s,
                                                                       _robust_floor(floors))
        fitted = own.pooled_fit()
        if fitted is None:  # too few readings inside this direction's transitions: take the other's too
            other = self.history["down" if direction == "up" else "up"]
            fitted = own.pooled_fit(tuple(p for episode in other.inside for p in episode))
        if fitted is not None and PLAUSIBLE_RAMP_W_PER_S[0] / 4 <= fitted.ramp_w_per_s <= 100_000:
            dead, ramp = fitted.dead_time_s, max(fitted.ramp_w_per_s, _robust_floor(floors))
        return Response(dead, ramp), len(dead_values)

    def bounds(self) -> ResponseBounds:
        """Nominal, fastest and slowest plausible responses, both ways."""
        if self._bounds is None or self._bounds[0] != self.version:
            self._bounds = (self.version, self._compute_bounds())
        return self._bounds[1]

    def _compute_bounds(self) -> ResponseBounds:
        if self.fixed:
            nominal = DirectedResponse.same(self.configured)
            fast = DirectedResponse.same(Response(max(0.0, self.configured.dead_time_s - 0.5),
                                                  self.configured.ramp_w_per_s * 1.5))
            slow = DirectedResponse.same(Response(self.configured.dead_time_s + 0.5,
                                                  self.configured.ramp_w_per_s / 1.5))
            return ResponseBounds(nominal, fast, slow)
        parts = {d: self._bounds_one_way(d) for d in DIRECTIONS}
        nominal, fast, slow = (DirectedResponse(parts["up"][i], parts["down"][i]) for i in range(3))
        return ResponseBounds(nominal, fast, slow, measured=True)

    def _bounds_one_way(self, direction: Direction) -> tuple[Response, Response, Response]:
        nominal, count = self.estimate(direction)
        history = self.history[direction]
        ramps = list(history.ramp) if len(history.ramp) >= 3 else [x for h in self.history.values() for x in h.ramp]
        if not ramps and history.pooled_fit() is not None:
            ramps = [nominal.ramp_w_per_s]
        floors = list(history.ramp_floor) or [x for h in self.history.values() for x in h.ramp_floor]
        if count == 0:
            return nominal, *_plausible(nominal)
        deads = list(history.dead) if len(history.dead) >= 3 else [x for h in self.history.values() for x in h.dead]
        dead_margin = max(0.3, 1.0 / count, 2.0 * _spread(deads))
        fast_dead = max(0.0, nominal.dead_time_s - dead_margin - REPORT_LAG_ALLOWANCE_S)
        slow_dead = nominal.dead_time_s + dead_margin
        if ramps:
            ramp_margin = max(0.3, 1.0 / len(ramps), 2.0 * _spread(ramps) / nominal.ramp_w_per_s)
            fast_ramp = nominal.ramp_w_per_s * (1 + ramp_margin)
            slow_ramp = max(nominal.ramp_w_per_s / (1 + ramp_margin), min(_robust_floor(floors), nominal.ramp_w_per_s))
        else:  # only lower bounds so far: fast, but how fast is not known
            fast_ramp = max(PLAUSIBLE_RAMP_W_PER_S[1], nominal.ramp_w_per_s)
            slow_ramp = max(PLAUSIBLE_RAMP_W_PER_S[0], _robust_floor(floors) * 0.8)
        return nominal, Response(fast_dead, fast_ramp), Response(slow_dead, slow_ramp)

    def plausible_bounds(self) -> ResponseBounds:
        """The nominal estimate within every plausible ME3000SP's response: for a unit that surprised us."""
        bounds = self.bounds()
        up, down = _plausible(bounds.nominal.up), _plausible(bounds.nominal.down)
        return ResponseBounds(bounds.nominal, DirectedResponse(up[0], down[0]), DirectedResponse(up[1], down[1]))

    # --- persistence ----------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """What is kept across restarts."""
        return {d: {"dead_time_s": list(h.dead), "ramp_w_per_s": list(h.ramp), "ramp_at_least_w_per_s":
                    list(h.ramp_floor), "inside": [[list(p) for p in e] for e in h.inside]}
                for d, h in self.history.items()}

    def load_json(self, data: object) -> None:
        """Take back what ``to_json`` gave; ValueError if it is not that shape."""
        if not isinstance(data, dict):
            raise ValueError("response history must be an object")
        for direction in DIRECTIONS:
            part = data.get(direction, {})
            if not isinstance(part, dict):
                raise ValueError(f"response history {direction!r} must be an object")
            history = _History()
            for key, target in (("dead_time_s", history.dead), ("ramp_w_per_s", history.ramp),
                                ("ramp_at_least_w_per_s", history.ramp_floor)):
                values = part.get(key, [])
                if not isinstance(values, list) or not all(
                        isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 100_000 for v in values):
                    raise ValueError(f"response history {direction}.{key} must be a list of numbers")
                target.extend(float(v) for v in values)
            episodes = part.get("inside", [])
            if not isinstance(episodes, list):
                raise ValueError(f"response history {direction}.inside must be a list")
            for episode in episodes:
                if not isinstance(episode, list) or not all(
                        isinstance(p, list) and len(p) == 2 and all(
                            isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 100_000 for v in p)
                        for p in episode):
                    raise ValueError(f"response history {direction}.inside must hold [W, s] pairs")
                history.inside.append(tuple((float(p[0]), float(p[1])) for p in episode))
            self.history[direction] = history
        self.version += 1

    def summary(self) -> dict[str, Any]:
        """For people and the API: the nominal response, how many episodes it rests on, and per direction."""
        if self._summary is None or self._summary[0] != self.version:
            self._summary = (self.version, self._summarise())
        return dict(self._summary[1])

    def _summarise(self) -> dict[str, Any]:
        up, _ = self.estimate("up")
        down, _ = self.estimate("down")
        both = [up, down]
        return {
            "dead_time_s": round(max(r.dead_time_s for r in both), 2),
            "ramp_w_per_s": round(min(r.ramp_w_per_s for r in both)),
            "samples": self.samples,
            "learned": not self.fixed and self.samples > 0,
            "fixed": self.fixed,
            "up": {"dead_time_s": round(up.dead_time_s, 2), "ramp_w_per_s": round(up.ramp_w_per_s),
                   "samples": len(self.history["up"].dead)},
            "down": {"dead_time_s": round(down.dead_time_s, 2), "ramp_w_per_s": round(down.ramp_w_per_s),
                     "samples": len(self.history["down"].dead)},
        }


def _plausible(nominal: Response) -> tuple[Response, Response]:
    """The fastest and slowest responses plausible for an ME3000SP (and at least as wide as ``nominal``)."""
    fastest = Response(min(PLAUSIBLE_DEAD_S[0], nominal.dead_time_s),
                       max(PLAUSIBLE_RAMP_W_PER_S[1], nominal.ramp_w_per_s))
    slowest = Response(max(PLAUSIBLE_DEAD_S[1], nominal.dead_time_s),
                       min(PLAUSIBLE_RAMP_W_PER_S[0], nominal.ramp_w_per_s))
    return fastest, slowest


def _spread(values: list[float]) -> float:
    """A robust spread: the median absolute deviation (0 for fewer than 3 values)."""
    if len(values) < 3:
        return 0.0
    middle = statistics.median(values)
    return statistics.median(abs(v - middle) for v in values)


def _robust_floor(floors: list[float]) -> float:
    """A lower bound the truth meets: the second largest bound seen (one bound gone astray does not count)."""
    if not floors:
        return 0.0
    ordered = sorted(floors)
    return ordered[-2] if len(ordered) >= 3 else ordered[0]
