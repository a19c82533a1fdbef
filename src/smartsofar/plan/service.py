"""The service's planning: the tariff, its price feed, the steering, and the task that re-plans.

``Planning`` is built with the engine (``app.build_engine``) so the steering is in place from the first
cycle: another system's battery mode and the ``[[schedule]]`` entries work with any tariff. With a tariff
and ``[planner] enabled``, ``run`` re-plans every hour on the hour, whenever new prices arrive, and when the
site's SoC has left the plan by ``replan_soc_pct``, and when a new PV forecast arrives (``[pv_forecast]``,
``plan.pv_feed``); the forecast learns from the history database's house and PV power over the last
``history_days`` (with no PV CT, the PV from the forecasts kept for those days, once they cover them all).
``view`` is what the page and the API show: prices, the PV forecast, the plan, its reasons, the battery mode
in force.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from smartsofar.config import Config
from smartsofar.control.intent import NORMAL, BatteryMode
from smartsofar.engine.site import Site
from smartsofar.engine.steering import ExternalMode, Steering
from smartsofar.modes import Mode
from smartsofar.plan.explain import explain
from smartsofar.plan.forecast import HouseHistory, learning_history
from smartsofar.plan.making import bank_from, make_plan, most_power
from smartsofar.plan.planner import Plan
from smartsofar.plan.pv_feed import PvFeed
from smartsofar.plan.pv_forecast import day_energy_kwh
from smartsofar.storage.history import History
from smartsofar.tariff.clock import local_at, local_date
from smartsofar.tariff.feed import PriceFeed
from smartsofar.tariff.site_tariff import SiteTariff

log = logging.getLogger(__name__)
REPLAN_S = 3600.0
CHECK_S = 300.0
RETRY_S = 15.0
VIEW_BEFORE_S = 6 * 3600.0
VIEW_AFTER_S = 48 * 3600.0


class Planning:
    """Prices, plan and steering of one site."""

    def __init__(self, config: Config, site: Site, data_dir: Path | None, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.site = site
        self.clock = clock
        self.tariff = SiteTariff(config.tariff)
        self.feed = PriceFeed(self.tariff, data_dir / "prices.json" if data_dir else None, clock=clock) \
            if self.tariff.needs_source else None
        self.pv_feed = PvFeed(config.pv_forecast, self.tariff.zone, data_dir / "pv_forecast.json" if data_dir else
                              None, clock=clock) if config.pv_forecast.source != "none" else None
        self.steering = Steering(config.schedule, self.tariff.zone, grid_charge_w=self.grid_charge_w,
                                 export_w=self.export_w, currency=config.tariff.currency, clock=clock)
        site.steer = self.steering
        self.history: History | None = None
        self.last_error: str | None = None
        # where the last plan's history took the PV from: "measured" (a PV CT), "forecasts" (the forecasts kept
        # for the past days), or None (the PV forecast is not used: the house's load is not known apart from it)
        self.pv_history: str | None = None

    def reconfigure(self, config: Config) -> None:
        """New planner settings and schedule entries, from now on (a new tariff needs a restart)."""
        self.config = config.model_copy(update={"tariff": self.config.tariff})
        self.steering.schedule = list(config.schedule)

    @property
    def enabled(self) -> bool:
        """True when there is a tariff to plan with and the planner is on."""
        return self.tariff.kind != "none" and self.config.planner.enabled

    @property
    def plan(self) -> Plan | None:
        return self.steering.plan

    def grid_charge_w(self) -> float:
        """The most the grid may charge at: the units' charge power, the planner's cap, the import limit."""
        return most_power(float(sum(rt.config.max_charge_w for rt in self.site.units)),
                          self.config.planner.grid_charge_w, self.site.control.grid_import_limit_w)

    def export_w(self) -> float:
        """The most the batteries may export at: the units' discharge power, the planner's cap, the export limit."""
        return most_power(float(sum(rt.config.max_discharge_w for rt in self.site.units)),
                          self.config.planner.grid_export_w, self.site.control.grid_export_limit_w)

    def request(self, mode: BatteryMode, *, lease_s: float, charge_w: float | None = None,
                soc_pct: float | None = None, who: str = "external") -> ExternalMode | None:
        """Another system's battery mode (InvalidInputError on bad values, which change nothing)."""
        granted = self.steering.request(mode, lease_s=lease_s, charge_w=charge_w, soc_pct=soc_pct, who=who)
        log.info("battery mode %s asked by %s%s", mode, who, f" for {lease_s:.0f} s" if granted else "")
        return granted

    async def replan(self) -> Plan | None:
        """Make a new plan now (None when there is nothing to plan with)."""
        if not self.enabled:
            return None
        now = self.clock()
        soc = self.site.site_soc_pct()
        units = [rt.config for rt in self.site.units]
        if soc is None or not units:
            self.last_error = "no unit has reported its SoC yet"
            return None
        planner = self.config.planner
        rows: list[tuple[float, float, float | None]] = []
        if self.history is not None:
            rows = await asyncio.to_thread(self.history.house_means, now - (planner.history_days + 1) * 86400, now)
        bank = bank_from(float(sum(u.capacity_wh for u in units)), soc,
                         max(max(u.reserve_soc_pct, u.min_soc_pct) for u in units), min(u.max_soc_pct for u in units),
                         float(sum(u.max_charge_w for u in units)), float(sum(u.max_discharge_w for u in units)),
                         self.grid_charge_w() if self.site.mode.allow_charge else 0.0, planner,
                         allow_discharge=self.site.mode.allow_discharge, grid_export_w=self.export_w())
        pv = self.pv_feed.curve if self.pv_feed is not None else None

        def learn_and_plan() -> tuple[Plan, str | None]:
            past, pv_history = learning_history(HouseHistory(rows), pv, now - planner.history_days * 86400, now)
            return make_plan(self.tariff, past, bank, now, planner, pv=pv), pv_history

        made, self.pv_history = await asyncio.to_thread(learn_and_plan)
        self.steering.plan = made if made.slots else None
        self.last_error = made.notes[0] if made.notes else None
        if made.slots:
            log.info("new plan to %s: expected cost %.2f %s (zero export alone %.2f); now: %s",
                     time.strftime("%a %H:%M", time.localtime(made.until)), made.expected_cost,
                     self.config.tariff.currency, made.zero_export_cost, explain(made, 0, self.tariff.zone,
                                                                              self.config.tariff.currency))
        return made

    async def run(self, history: History | None) -> None:
        """Fetch prices and the PV forecast, and re-plan, until cancelled."""
        self.history = history
        feeds: list[asyncio.Task[None]] = []
        if self.feed is not None:
            feeds.append(asyncio.create_task(self.feed.run(), name="prices"))
        pv_feed = self.pv_feed if self.tariff.kind != "none" else None  # with no tariff nothing plans with it
        if pv_feed is not None:
            feeds.append(asyncio.create_task(pv_feed.run(), name="pv forecast"))
        changes = [feed.changed for feed in (self.feed, pv_feed) if feed is not None]
        try:
            next_plan = 0.0
            while True:
                now = self.clock()
                departed = self.plan is not None and \
                    self.plan.departed(now, self.site.site_soc_pct(), self.config.planner.replan_soc_pct)
                if self.enabled and (now >= next_plan or departed):
                    made = await self.replan()
                    next_plan = (math.floor(self.clock() / REPLAN_S) + 1) * REPLAN_S if made and made.slots \
                        else self.clock() + RETRY_S  # no SoC or no prices yet: soon again
                wait = min(CHECK_S, max(1.0, next_plan - self.clock())) if self.enabled else CHECK_S
                if await _any_set(changes, wait):
                    next_plan = 0.0  # new prices or a new PV forecast: plan again now
        finally:
            for task in feeds:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def summary(self) -> dict[str, Any]:
        """The few figures MQTT publishes: the price now, the plan's next change, the SoC it plans."""
        now = self.clock()
        price = self.tariff.import_prices(now, now + 1).at(now)
        plan = self.plan
        slot = plan.slot_at(now) if plan else None
        next_text, next_at = None, None
        if plan is not None and slot is not None:
            index = plan.slots.index(slot)
            later = next((i for i in range(index + 1, len(plan.slots))
                          if plan.slots[i].action is not slot.action), None)
            if later is not None:
                next_text = explain(plan, later, self.tariff.zone, self.config.tariff.currency)
                next_at = plan.slots[later].start
        return {"price_now": None if price is None else round(price, 5), "currency": self.config.tariff.currency,
                "plan_action": str(slot.action) if slot else None,
                "planned_soc_pct": round(slot.soc_end_pct, 1) if slot else None,
                "next_action": next_text, "next_action_at": next_at}

    def view(self) -> dict[str, Any]:
        """Prices, the plan, its reasons and the battery mode in force, for the page and the API."""
        now = self.clock()
        start, end = now - VIEW_BEFORE_S, now + VIEW_AFTER_S
        imports = self.tariff.import_prices(start, end)
        exports = self.tariff.export_prices(start, end)
        prices = [{"start": s.start, "end": s.end, "import": round(s.price, 5),
                   "export": round(exports.at(s.start) or 0.0, 5)} for s in imports.slots]
        plan = self.plan
        slots, reasons = [], []
        if plan is not None:
            for i, slot in enumerate(plan.slots):
                slots.append({"start": slot.start, "end": slot.end, "action": str(slot.action),
                              "grid_charge_w": round(slot.grid_charge_w), "export_w": round(slot.export_w),
                              "soc_end_pct": round(slot.soc_end_pct, 1),
                              "import_price": round(slot.import_price, 5), "estimated": slot.estimated})
                if i == 0 or slot.action is not plan.slots[i - 1].action:
                    reasons.append(explain(plan, i, self.tariff.zone, self.config.tariff.currency))
        external = self.steering.external_at(now)
        soc = self.site.site_soc_pct()
        intent = self.steering(now, soc).at_soc(soc) if self.site.mode.mode is Mode.AUTO else NORMAL
        return {
            "tariff": self.tariff.kind, "currency": self.config.tariff.currency, "planner": self.enabled,
            "price_now": imports.at(now), "feed_in_now": exports.at(now) if imports.at(now) is not None else None,
            "prices": prices, "feed": self.feed.status() if self.feed else None,
            "pv_forecast": self._pv_view(now),
            "plan": None if plan is None else {
                "made_at": plan.made_at, "until": plan.until, "expected_cost": plan.expected_cost,
                "zero_export_cost": plan.zero_export_cost, "slots": slots, "reasons": reasons,
                "hedge": plan.hedge},
            "battery_mode": intent.to_json(),
            "external": None if external is None else {"mode": str(external.mode), "expires_at": external.expires_at,
                                                        "who": external.who},
            "schedule": [entry.label() for entry in self.config.schedule],
            "error": self.last_error,
        }

    def _pv_view(self, now: float) -> dict[str, Any] | None:
        """The PV forecast's source and state, and its energy today and tomorrow (local days), kWh."""
        if self.pv_feed is None:
            return None
        today = local_date(now, self.tariff.zone)
        edges = [local_at(today + timedelta(days=k), 0, self.tariff.zone) for k in range(3)]
        curve = self.pv_feed.curve
        return {**self.pv_feed.status(), "today_kwh": round(day_energy_kwh(curve, edges[0], edges[1]), 2),
                "tomorrow_kwh": round(day_energy_kwh(curve, edges[1], edges[2]), 2),
                "used": bool(curve) and self.pv_history is not None, "pv_history": self.pv_history,
                "history_days": self.config.planner.history_days}


async def _any_set(events: list[asyncio.Event], wait: float) -> bool:
    """Wait up to ``wait`` s for any of ``events``; True (and each cleared) when one was set."""
    if not events:
        await asyncio.sleep(wait)
        return False
    waiters = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waiters, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    fired = any(event.is_set() for event in events)
    for event in events:
        event.clear()
    return fired
