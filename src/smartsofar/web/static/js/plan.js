// @ts-check
/** The plan page: the battery mode in force and why, prices with the planned SoC and grid charging, the
 * plan's reasons, a one-hour override, and the schedule editor. */

import { api } from "./api.js";
import { chartOptions, charts, chartWidth, uPlot } from "./charts.js";
import { $, $$, banner, clock, css, el, number } from "./dom.js";

/** @typedef {import("./types.js").PlanView} PlanView */
/** @typedef {import("./types.js").ScheduleEntry} ScheduleEntry */

const OVERRIDE_S = 3600;
const NARROW_PX = 560;
const MODES = ["normal", "hold", "charge", "export"];
let scheduleEdited = false; // unsaved edits in the schedule table: a reload of the page's data keeps them

/** @param {PlanView} view */
function renderNow(view) {
  const mode = view.battery_mode;
  $("#plan-mode").textContent = mode.mode === "charge" ? `charge from the grid (${mode.charge_w} W)`
    : mode.mode === "export" ? `export from the batteries (${mode.export_w} W)` : mode.mode;
  $("#plan-price").textContent = view.price_now === null ? "–" : `${number(view.price_now, 4)} ${view.currency}/kWh`;
  $("#plan-source").textContent = mode.source || (view.planner ? "nobody: zero export" : "nobody (no tariff)");
  const until = view.external ? ` until ${clock(view.external.expires_at)}` : "";
  $("#plan-reason").textContent = (mode.reason || "Zero export: the batteries cover the house and take its surplus.")
    + until;
}

/** @param {PlanView} view */
function renderChart(view) {
  const plan = view.plan;
  const empty = $("#plan-empty");
  empty.hidden = Boolean(plan) || view.prices.length > 0;
  empty.textContent = view.error || (view.tariff === "none"
    ? "No tariff is set: set one under Settings → Tariff and prices to plan with prices." : "No plan yet.");
  const times = new Set(view.prices.map((p) => p.start));
  for (const s of plan ? plan.slots : []) times.add(s.start);
  const t = [...times].sort((a, b) => a - b);
  if (!t.length) { if (charts.plan) { charts.plan.destroy(); charts.plan = null; } return; }
  /** @param {number} at */
  const priceAt = (at) => { const p = view.prices.find((x) => x.start <= at && at < x.end); return p ? p.import : null; };
  /** @param {number} at */
  const slotAt = (at) => (plan ? plan.slots.find((x) => x.start <= at && at < x.end) || null : null);
  const data = [t, t.map(priceAt), t.map((at) => { const s = slotAt(at); return s ? s.soc_end_pct : null; }),
    t.map((at) => { const s = slotAt(at); return s ? s.grid_charge_w - s.export_w : null; })];
  const series = [
    { label: `Price ${view.currency}/kWh`, scale: "price", stroke: css("--import"), width: 2,
      paths: uPlot.paths.stepped({ align: 1 }), value: (/** @type {any} */ _u, /** @type {number|null} */ v) => number(v, 4) },
    { label: "Planned SoC %", scale: "%", stroke: css("--focus"), width: 2,
      value: (/** @type {any} */ _u, /** @type {number|null} */ v) => number(v, 0) },
    { label: "Grid charge (+) / export (−) W", stroke: css("--accent"), fill: css("--accent"), width: 1,
      paths: uPlot.paths.bars({ size: [0.9, 30], align: 1 }), points: { show: false },
      value: (/** @type {any} */ _u, /** @type {number|null} */ v) => number(v, 0) },
  ];
  const options = chartOptions("", 320, series);
  options.axes.push({ scale: "price", side: 3, stroke: css("--muted"), grid: { show: false }, size: 60,
    label: `${view.currency}/kWh` });
  if (chartWidth() < NARROW_PX) {
    // a phone: three axes would leave the plot a sliver; the grid-charge watts stay in the legend
    options.axes[1].show = false;
    options.axes[2].size = 36;
  }
  if (charts.plan) charts.plan.destroy();
  charts.plan = new uPlot(options, data, $("#plan-chart"));
}

/** @param {PlanView} view */
function renderReasons(view) {
  const reasons = view.plan ? [...(view.plan.hedge ? [view.plan.hedge] : []), ...view.plan.reasons] : [];
  $("#plan-reasons").replaceChildren(...reasons.map((r) => el("li", { text: r })));
  const plan = view.plan;
  const feed = view.feed;
  const parts = [];
  if (plan) parts.push(`Planned at ${clock(plan.made_at)}: expected ${number(plan.expected_cost, 2)} ${view.currency}`
    + ` against ${number(plan.zero_export_cost, 2)} with zero export alone.`);
  if (feed) parts.push(feed.error ? `Prices: ${feed.error} (the last known prices are used).`
    : `Prices from ${feed.source}${feed.known_until ? `, known until ${new Date(feed.known_until * 1000).toLocaleString()}` : ""}.`);
  const pv = view.pv_forecast;
  if (pv) parts.push(pv.error ? `PV forecast: ${pv.error} (the last known forecast is used).`
    : `PV forecast from ${pv.source}: ${number(pv.today_kwh, 1)} kWh today, ${number(pv.tomorrow_kwh, 1)} kWh tomorrow`
      + (pv.pv_history === "forecasts" ? " (no unit measures PV: the forecasts kept for the past days stand for it)."
        : pv.used ? "." : ` (not used yet: no unit measures PV, so the house's own load is not known apart from it`
          + ` until the forecasts kept cover the last ${pv.history_days} days).`));
  $("#plan-feed").textContent = parts.join(" ");
}

/** @param {ScheduleEntry} [entry] */
function scheduleRow(entry) {
  const e = entry || { hours: "01:00-05:00", days: "all", mode: "charge", soc_pct: 100, power_w: null, name: "" };
  const select = el("select", { "aria-label": "Mode" }, ...MODES.map((m) => el("option", { value: m, text: m })));
  select.value = e.mode;
  const remove = el("button", { type: "button", class: "ghost", "aria-label": "Remove this entry", text: "✕" });
  const row = el("tr", {},
    el("td", {}, el("input", { "aria-label": "Hours", name: "hours", value: e.hours, size: "11" })),
    el("td", {}, el("input", { "aria-label": "Days", name: "days", value: e.days, size: "8" })),
    el("td", {}, select),
    el("td", {}, el("input", { "aria-label": "SoC % (charge up to, export down to)", name: "soc_pct", type: "number",
      min: "0", max: "100",
      value: String(e.soc_pct) })),
    el("td", {}, el("input", { "aria-label": "Power W", name: "power_w", type: "number", min: "0",
      value: e.power_w === null ? "" : String(e.power_w), placeholder: "most" })),
    el("td", {}, remove));
  remove.addEventListener("click", () => row.remove());
  return row;
}

/** @returns {ScheduleEntry[]} */
function scheduleEntries() {
  return $$("#schedule-table tbody tr").map((row) => {
    /** @param {string} name */
    const value = (name) => $(`[name=${name}]`, row).value;
    return { hours: value("hours"), days: value("days"), mode: $("select", row).value,
      soc_pct: Number(value("soc_pct") || 100), power_w: value("power_w") === "" ? null : Number(value("power_w")),
      name: "" };
  });
}

export async function loadPlan() {
  try {
    /** @type {PlanView} */
    const view = await api("GET", "/api/v1/plan");
    renderNow(view);
    renderChart(view);
    renderReasons(view);
    /** @type {ScheduleEntry[]} */
    const entries = await api("GET", "/api/v1/schedule");
    if (!scheduleEdited) $("#schedule-table tbody").replaceChildren(...entries.map(scheduleRow));
  } catch (error) { banner(/** @type {Error} */ (error).message); }
}

export function wirePlan() {
  $$("[data-battery-mode]").forEach((button) => button.addEventListener("click", async () => {
    try {
      await api("PUT", "/api/v1/battery_mode", { mode: button.dataset.batteryMode, lease_s: OVERRIDE_S, who: "the web page" });
      await loadPlan();
    } catch (error) { banner(/** @type {Error} */ (error).message); }
  }));
  $("#schedule-add").addEventListener("click", () => {
    scheduleEdited = true;
    $("#schedule-table tbody").append(scheduleRow());
  });
  for (const event of ["input", "change", "click"]) {
    $("#schedule-table").addEventListener(event, () => { scheduleEdited = true; });
  }
  $("#schedule-save").addEventListener("click", async () => {
    const result = $("#schedule-result");
    try {
      const saved = await api("PUT", "/api/v1/schedule", { entries: scheduleEntries() });
      scheduleEdited = false;
      result.textContent = `Saved: ${saved.length} ${saved.length === 1 ? "entry" : "entries"}, in force now.`;
    } catch (error) { result.textContent = /** @type {Error} */ (error).message; }
  });
}
