// @ts-check
/** The history page: power and SoC over a day or a week, and the energies per day. */

import { api } from "./api.js";
import { chartOptions, charts, historySeries, uPlot } from "./charts.js";
import { $, $$, banner, css, el } from "./dom.js";

/** @typedef {import("./types.js").DayPayload} DayPayload */

const view = { range: "day" };

function historyEnd() {
  const picked = $("#hist-date").value;
  const end = picked ? new Date(`${picked}T00:00:00`) : new Date();
  if (picked) end.setDate(end.getDate() + 1);
  return end;
}

export async function loadHistory() {
  if (!$("#hist-date").value) $("#hist-date").value = new Date().toISOString().slice(0, 10);
  const end = historyEnd();
  const days = view.range === "week" ? 7 : 1;
  const start = new Date(end.getTime() - days * 86400000);
  try {
    /** @type {import("./types.js").HistoryPayload} */
    const series = await api("GET", `/api/v1/history?start=${start.getTime() / 1000}&end=${end.getTime() / 1000}`);
    $("#hist-empty").hidden = series.t.length > 0;
    const phased = series.grid_a_w.some((v) => v !== null);
    const data = [series.t, series.grid_w, series.battery_w, series.house_w, series.soc_pct,
      ...(phased ? [series.grid_a_w, series.grid_b_w, series.grid_c_w] : [])];
    const options = chartOptions("", 340, historySeries(phased));
    // The range asked for, even when it holds no data yet (uPlot's empty axis would start in 1970).
    options.scales.x = { time: true, range: () => [start.getTime() / 1000, end.getTime() / 1000] };
    if (charts.history) charts.history.destroy();
    charts.history = new uPlot(options, data, $("#hist-chart"));
    const first = new Date(end.getTime() - 7 * 86400000).toISOString().slice(0, 10);
    const last = new Date(end.getTime() - 86400000).toISOString().slice(0, 10);
    renderDays(await api("GET", `/api/v1/history/days?first=${first}&last=${last}`), first, last);
  } catch (error) { banner(/** @type {Error} */ (error).message); }
}

/**
 * @param {DayPayload[]} days
 * @param {string} first the first day asked for (YYYY-MM-DD)
 * @param {string} last the last
 */
function renderDays(days, first, last) {
  /** @param {number} wh */
  const kwh = (wh) => (wh / 1000).toFixed(2);
  $("#days-table tbody").replaceChildren(...days.map((d) => el("tr", {},
    el("td", { text: d.day }), el("td", { text: kwh(d.import_wh) }), el("td", { text: kwh(d.export_wh) }),
    el("td", { text: kwh(d.charged_wh) }), el("td", { text: kwh(d.discharged_wh) }),
    el("td", { text: d.self_sufficiency === null ? "–" : `${Math.round(d.self_sufficiency * 100)} %` }))));
  const t = days.map((d) => new Date(`${d.day}T12:00:00`).getTime() / 1000);
  const bars = uPlot.paths.bars({ size: [0.18, 40], align: 0 });
  /** @type {[string, string][]} */
  const kinds = [["Imported kWh", "--import"], ["Exported kWh", "--export"], ["Charged kWh", "--accent"],
    ["Discharged kWh", "--focus"]];
  const series = kinds.map(([label, color]) => ({
    label, fill: css(color), stroke: css(color), paths: bars, points: { show: false },
    value: (/** @type {any} */ _u, /** @type {number | null} */ v) => (v === null ? "–" : v.toFixed(2)) }));
  const data = [t, days.map((d) => d.import_wh / 1000), days.map((d) => d.export_wh / 1000),
    days.map((d) => d.charged_wh / 1000), days.map((d) => d.discharged_wh / 1000)];
  const options = chartOptions("", 220, series, false);
  options.axes[1].label = "kWh";
  const noon = (/** @type {string} */ day) => new Date(`${day}T12:00:00`).getTime() / 1000;
  options.scales.x = { time: true, range: () => [noon(first) - 43200, noon(last) + 43200] };
  if (charts.days) charts.days.destroy();
  charts.days = new uPlot(options, data, $("#days-chart"));
}

export function wireHistory() {
  $$("[data-range]").forEach((button) => button.addEventListener("click", () => {
    view.range = button.dataset.range;
    $$("[data-range]").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
    loadHistory();
  }));
  /** @param {number} days */
  const shift = (days) => {
    const date = historyEnd();
    date.setDate(date.getDate() - 1 + days);
    $("#hist-date").value = date.toISOString().slice(0, 10);
    loadHistory();
  };
  $("#hist-prev").addEventListener("click", () => shift(view.range === "week" ? -7 : -1));
  $("#hist-next").addEventListener("click", () => shift(view.range === "week" ? 7 : 1));
  $("#hist-date").addEventListener("change", loadHistory);
}
