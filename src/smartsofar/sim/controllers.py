"""Every controller the simulation can run, by name, and ``simulate`` that runs one through a scenario.

``smartsofar`` is the real engine (``sim.simulate.run_smartsofar``). ``seed-v1`` is SmartSofar v1's loop,
kept as a baseline (``sim.seed_v1``). The reference laws (an OpenDTU-style limiter, a meter-driven
predictor that knows the plant, and perfect sensing) are in ``sim.references``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from smartsofar.sim.references import REFERENCES
from smartsofar.sim.seed_v1 import run_seed_v1
from smartsofar.sim.simulate import Scenario, Simulation, run_smartsofar

RUNNERS: dict[str, Callable[[Simulation], Awaitable[None]]] = {
    "smartsofar": run_smartsofar, "seed-v1": run_seed_v1, **REFERENCES}
CONTROLLERS = tuple(RUNNERS)


async def simulate(scenario: Scenario, controller: str = "smartsofar") -> dict[str, Any]:
    """Run one controller through the scenario; the metrics."""
    if controller not in RUNNERS:
        raise ValueError(f"controller must be one of {', '.join(CONTROLLERS)}")
    sim = Simulation(scenario)
    started = time.perf_counter()
    await sim.sleep(1.0)  # the meter's first second
    await RUNNERS[controller](sim)
    wall = time.perf_counter() - started
    out: dict[str, Any] = {"controller": controller, "units": scenario.units, "soc_pct": scenario.soc_pct,
                           "simulated_h": round(sim.metrics.seconds / 3600, 2)}
    out.update(sim.metrics.result(sim.commands))
    out.update(sim.steps.result(sim.metrics.seconds / 60))
    if sim.learned:
        out["learned_response"] = {str(uid): summary for uid, summary in sim.learned.items()}
        out["oscillation_backoffs"] = sim.backoffs
    if sim.costs is not None:
        out.update(sim.costs.result(sim.stored_wh() - sim.stored_at_start_wh))
        if sim.planner is not None:
            out["plans_made"] = sim.planner.plans
    out["wall_s"] = round(wall, 2)
    return out
