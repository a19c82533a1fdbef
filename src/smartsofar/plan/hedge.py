"""How far to charge from the grid when the forecast is only an average of recent days.

The plan is made for the average of the last days (``plan.forecast``). Energy bought from the grid for
tomorrow is not worth the same in every outcome: if the house needs it, it saves the dearer hours' price; if
it does not (the sun fills the batteries anyway, or the house uses less), it was bought for nothing, or sold
back at the feed-in price. Under Heures Creuses the first is worth the few cents between peak and off-peak,
the second loses the whole off-peak price: charging for the average day buys too much. Under a Tempo red day
it is the other way round, and charging for the average day buys too little, which no cap can mend.

So ``hedge`` tries the plan's own policy (``plan.planner.Policy``) with grid charging stopped at lower
energies (``TOPS`` steps of the bank between the reserve and the maximum), on each recent day as it really was
(``forecast.scenarios``), and keeps the top that would have cost least over those days, weighted as the
forecast weights them. A top is kept only if it saves at least ``MIN_GAIN`` over those days: with no clear
reason, the plan stays as the average day wants it.

Pure: the plan and the days are passed in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from smartsofar.plan.forecast import SlotForecast
from smartsofar.plan.planner import Action, Bank, Plan, PlanInput, Policy, policy_cost, walk

TOPS = 8  # grid-charge tops tried: the reserve, then every eighth of the bank up to the maximum
MIN_GAIN = 0.005  # in the tariff's currency, per plan, weighted over the days


def hedge(bank: Bank, inputs: Sequence[PlanInput], policy: Policy, days: Sequence[tuple[float, list[SlotForecast]]],
          now: float) -> Plan:
    """The plan from ``policy``, with grid charging stopped where recent ``days`` say it pays."""
    plain = walk(bank, inputs, policy, now)
    if len(days) < 2 or not any(s.action is Action.CHARGE for s in plain.slots):
        return plain
    replayed = [(weight, [PlanInput(f, i.import_price, i.export_price, i.estimated) for f, i in zip(slots, inputs,
                                                                                               strict=True)])
                for weight, slots in days]
    total = sum(weight for weight, _ in replayed)

    def expected(top: float) -> float:
        return sum(weight * policy_cost(bank, slots, policy, top) for weight, slots in replayed) / total

    reached = max(s.energy_end_wh for s in plain.slots if s.action is Action.CHARGE)
    start = min(bank.ceiling_wh, max(bank.floor_wh, bank.energy_wh))
    tops = [bank.floor_wh + k * (bank.ceiling_wh - bank.floor_wh) / TOPS for k in range(TOPS)]
    tops = [top for top in tops if top < reached - 1.0]
    if not tops:
        return plain
    as_planned = expected(math.inf)
    costs = {top: expected(top) for top in tops}
    best = min(tops, key=lambda top: (costs[top], -top))
    if as_planned - costs[best] < MIN_GAIN:
        return plain
    paid = sum(1 for _, slots in replayed
               if policy_cost(bank, slots, policy, best) <= policy_cost(bank, slots, policy, math.inf) + 1e-9)
    average = f"the average day would charge to {bank.soc_pct(reached):.0f} %"
    what = (f"charging from the grid to {bank.soc_pct(best):.0f} % ({average})" if best > start + 1.0
            else f"no charging from the grid ({average})")
    reason = f"{what}: on {paid} of the last {len(replayed)} days, charging further would not have paid"
    return walk(bank, inputs, policy, now, best, reason)
