// @ts-check
/** The dashboard: the live stream, the grid and control cards, the units, the events and the live chart. */

import { api, canWrite } from "./api.js";
import { chartOptions, charts, powerSeries, uPlot } from "./charts.js";
import { $, $$, banner, clock, el, number, watts } from "./dom.js";
import { addLog } from "./logs.js";

/** @typedef {import("./types.js").SitePayload} SitePayload */
/** @typedef {import("./types.js").UnitPayload} UnitPayload */
/** @typedef {import("./types.js").ModePayload} ModePayload */

const LIVE_WINDOW_S = 15 * 60;

/**
 * What the dashboard remembers between snapshots.
 * @type {{ snapshot: SitePayload | null, live: Record<"t" | "grid" | "battery" | "setpoint" | "soc", (number | null)[]>,
 *          unitCards: Map<number, any>, sliderBusy: boolean, powerTyped: boolean,
 *          pending: Record<string, { value: unknown, until: number }> }}
 */
export const dashboard = {
  snapshot: null,
  live: { t: [], grid: [], battery: [], setpoint: [], soc: [] },
  unitCards: new Map(),
  sliderBusy: false,
  powerTyped: false,  // a power typed in the number field and not applied yet
  pending: {},  // key -> what the user just chose, shown until a snapshot confirms it (or 5 s pass)
};

// --- live stream ---------------------------------------------------------------------------------------------

/** @type {EventSource | null} */
let source = null;

/** Follow the live stream (again, after a login). */
export function connect() {
  if (source) source.close();
  source = new EventSource("api/v1/events");
  const dot = $("#link");
  source.onopen = () => { dot.className = "dot live"; dot.title = "live"; };
  source.onerror = () => { dot.className = "dot down"; dot.title = "reconnecting"; };
  source.addEventListener("snapshot", (e) => onSnapshot(JSON.parse(e.data)));
  source.addEventListener("event", (e) => addEvent(JSON.parse(e.data)));
  source.addEventListener("log", (e) => addLog(JSON.parse(e.data)));
}

/** @param {SitePayload} snapshot */
export function onSnapshot(snapshot) {
  dashboard.snapshot = snapshot;
  for (const [key, choice] of Object.entries(dashboard.pending)) {
    if (snapshot.mode[/** @type {keyof ModePayload} */ (key)] === choice.value || Date.now() > choice.until) {
      delete dashboard.pending[key];
    }
  }
  renderModes(snapshot.modes);
  renderGrid(snapshot);
  renderControl(snapshot);
  renderUnits(snapshot);
  appendLive(snapshot);
}

// --- grid and control ----------------------------------------------------------------------------------------

/** @param {SitePayload} s */
function renderGrid(s) {
  const card = $(".grid-card");
  const grid = s.grid_w;
  $("#grid-w").textContent = watts(grid === null ? null : Math.abs(grid));
  card.classList.toggle("import", grid !== null && grid > 0.5);
  card.classList.toggle("export", grid !== null && grid < -0.5);
  $("#grid-dir").textContent = grid === null ? "meter silent: no live value" : grid > 0.5 ? "importing from the grid"
    : grid < -0.5 ? "exporting to the grid" : "balanced";
  $("#house-w").textContent = watts(s.base_w);
  $("#battery-w-grid").textContent = watts(s.battery_w);
  const meter = s.meter;
  $("#phases").replaceChildren(...((meter && meter.phases.length > 1) ? meter.phases.map((p, i) =>
    el("li", { text: `${"ABC"[i] || i + 1}: ${watts(p.power_w)} W · ${number(p.voltage_v)} V` })) : []));
  $("#meter-line").textContent = meter
    ? `${meter.model} · ${meter.state}${meter.age_s !== null ? ` · ${number(meter.age_s)} s ago` : ""}`
      + (meter.error ? ` · ${meter.error}` : "")
    : "no meter configured";
}

/**
 * The mode radios, one per mode the API offers (made once).
 * @param {string[]} modes
 */
function renderModes(modes) {
  const set = $("#mode-set");
  const shown = $$('input[name="mode"]', set).map((r) => r.value);
  if (shown.join() === modes.join()) return;
  for (const label of $$("label", set)) label.remove();
  for (const mode of modes) {
    const radio = el("input", { type: "radio", name: "mode", value: mode });
    radio.disabled = !canWrite();
    radio.addEventListener("change", () =>
      choose("mode", mode, () => api("PUT", "/api/v1/mode", { mode })));
    set.append(el("label", {}, radio, ` ${mode[0].toUpperCase()}${mode.slice(1)}`));
  }
}

/** @param {SitePayload} s */
function renderControl(s) {
  /** @type {Record<string, any>} */
  const mode = { ...s.mode };
  for (const [key, choice] of Object.entries(dashboard.pending)) mode[key] = choice.value;
  $$('input[name="mode"]').forEach((r) => { r.checked = r.value === mode.mode; });
  const auto = mode.mode === "auto";
  const manual = mode.mode === "manual";
  $("#auto-options").classList.toggle("disabled", !auto);
  $("#allow-charge").checked = mode.allow_charge;
  $("#allow-discharge").checked = mode.allow_discharge;
  if (document.activeElement !== $("#target")) $("#target").value = mode.target_w;
  const writable = canWrite();
  for (const id of ["#power-slider", "#power-number"]) {
    const input = $(id);
    input.min = s.manual_min_w; input.max = s.manual_max_w;
    input.disabled = !manual || !writable;
  }
  $("#power-apply").disabled = !manual || !writable;
  $("#standby-button").disabled = !writable || mode.mode === "standby";
  $("#manual-options").classList.toggle("disabled", !manual);
  const editing = [$("#power-slider"), $("#power-number")].includes(document.activeElement);
  if (!dashboard.sliderBusy && !editing && !power.sending && !(dashboard.powerTyped && manual)) {
    $("#power-slider").value = mode.manual_power_w;
    $("#power-number").value = mode.manual_power_w;
  }
  $("#setpoint-w").textContent = watts(s.setpoint_total_w);
  $("#battery-w").textContent = watts(s.battery_w);
  $("#soc-mean").textContent = number(s.soc_pct, 0);
  const safety = $("#safety");
  safety.textContent = s.message;
  safety.classList.toggle("bad", s.safety !== "ok");
}

/**
 * Run a change; its error goes to the banner.
 * @param {() => Promise<unknown>} call
 */
export async function act(call) {
  try { banner(""); await call(); } catch (error) { banner(/** @type {Error} */ (error).message); }
}

// The slider sends a value per step: keep one request in flight and always end on the newest value, so
// requests that overtake each other can never leave the units at an older one.
/** @type {{ wanted: number | null, sending: boolean }} */
const power = { wanted: null, sending: false };

/** @param {number} value W */
async function sendPower(value) {
  power.wanted = value;
  if (power.sending) return;
  power.sending = true;
  try {
    while (power.wanted !== null) {
      const next = power.wanted;
      power.wanted = null;
      await act(() => api("PUT", "/api/v1/power", { power_w: next }));
    }
  } finally { power.sending = false; }
}

/**
 * Show the user's choice at once, and again what the server has if it is refused.
 * @param {string} key
 * @param {unknown} value
 * @param {() => Promise<unknown>} call
 */
async function choose(key, value, call) {
  dashboard.pending[key] = { value, until: Date.now() + 5000 };
  try {
    banner("");
    await call();
  } catch (error) {
    delete dashboard.pending[key];
    banner(/** @type {Error} */ (error).message);
    if (dashboard.snapshot) renderControl(dashboard.snapshot);
  }
}

export function wireDashboard() {
  $("#allow-charge").addEventListener("change", (/** @type {any} */ e) => choose("allow_charge", e.target.checked,
    () => api("PUT", "/api/v1/permissions", { allow_charge: e.target.checked })));
  $("#allow-discharge").addEventListener("change", (/** @type {any} */ e) => choose("allow_discharge",
    e.target.checked, () => api("PUT", "/api/v1/permissions", { allow_discharge: e.target.checked })));
  $("#target").addEventListener("change", (/** @type {any} */ e) =>
    act(() => api("PUT", "/api/v1/target", { target_w: Number(e.target.value) })));
  const slider = $("#power-slider");
  slider.addEventListener("input", () => {
    dashboard.sliderBusy = true;
    dashboard.powerTyped = false;
    $("#power-number").value = slider.value;
  });
  slider.addEventListener("change", () => {
    dashboard.sliderBusy = false;
    sendPower(Number(slider.value));
  });
  // A typed value stays until it is applied: the live updates must not put the current setpoint back while
  // the focus moves from the field to the Apply button.
  $("#power-number").addEventListener("input", () => { dashboard.powerTyped = true; });
  const apply = () => {
    dashboard.powerTyped = false;
    return sendPower(Number($("#power-number").value));
  };
  $("#power-apply").addEventListener("click", apply);
  $("#power-number").addEventListener("keydown", (/** @type {KeyboardEvent} */ e) => { if (e.key === "Enter") apply(); });
  $("#standby-button").addEventListener("click", () => act(async () => {
    if (dashboard.snapshot && dashboard.snapshot.mode.mode === "manual") await sendPower(0);
    else await api("POST", "/api/v1/standby");
  }));
}

// --- units ---------------------------------------------------------------------------------------------------

/** @param {UnitPayload} unit */
function unitCard(unit) {
  let card = dashboard.unitCards.get(unit.unit_id);
  if (card) return card;
  card = el("article", { class: "card unit-card", "data-unit": String(unit.unit_id), "aria-label": unit.name });
  card.innerHTML = `
    <header><h3 class="name"></h3><span class="badge link"></span></header>
    <p class="state"></p>
    <div class="soc"><meter min="0" max="100" low="15" high="90" optimum="60"></meter><span class="soc-text"></span></div>
    <dl class="kv">
      <dt>Battery</dt><dd class="battery"></dd>
      <dt>Setpoint</dt><dd class="setpoint"></dd>
      <dt>Temperatures</dt><dd class="temps"></dd>
      <dt>Response</dt><dd class="response"></dd>
      <dt>Today</dt><dd class="today"></dd>
      <dt>Last command</dt><dd class="command"></dd>
      <dt>Identity</dt><dd class="identity"></dd>
    </dl>
    <ul class="faults"></ul>
    <p class="reason muted small"></p>
    <button type="button" class="read-now">Read now</button>`;
  card.querySelector("meter").setAttribute("aria-label", `${unit.name} state of charge`);
  card.querySelector(".read-now").addEventListener("click", () =>
    act(async () => { await api("POST", `/api/v1/units/${unit.unit_id}/read`); }));
  $("#units").append(card);
  dashboard.unitCards.set(unit.unit_id, card);
  return card;
}

/** @param {SitePayload} s */
function renderUnits(s) {
  for (const unit of s.units) {
    const card = unitCard(unit);
    const r = unit.reading;
    /** @param {string} selector */
    const q = (selector) => card.querySelector(selector);
    q(".name").textContent = `${unit.name} · id ${unit.unit_id}`;
    const link = q(".link");
    link.textContent = unit.available ? unit.link : (unit.link === "offline" ? "offline" : "unavailable");
    link.className = `badge link ${unit.available ? unit.link : "bad"}`;
    q(".state").textContent = r ? r.running_state_words : "not read yet";
    q("meter").value = r ? r.soc_pct : 0;
    q(".soc-text").textContent = r ? `${r.soc_pct} %` : "–";
    q(".battery").textContent = r
      ? `${watts(r.battery_w)} W · ${number(r.battery_v, 2)} V · ${number(r.battery_a, 2)} A · ${r.battery_temp_c} °C`
      : "–";
    q(".setpoint").textContent = unit.setpoint_w === null ? "unknown (will be sent)" : `${watts(unit.setpoint_w)} W`;
    q(".temps").textContent = r ? `inverter ${r.inverter_temp_c} °C · heat sink ${r.heatsink_temp_c} °C` : "–";
    const resp = unit.response;
    q(".response").textContent = !resp ? "–"
      : `${number(resp.dead_time_s, 1)} s dead time · ${resp.ramp_w_per_s} W/s · `
        + (resp.fixed ? "fixed" : resp.samples ? `learned from ${resp.samples} commands` : "not learned yet");
    q(".today").textContent = r ? `PV ${number(r.pv_today_wh / 1000, 2)} · in ${number(r.import_today_wh / 1000, 2)}`
      + ` · out ${number(r.export_today_wh / 1000, 2)} · load ${number(r.load_today_wh / 1000, 2)} kWh` : "–";
    q(".command").textContent = unit.last_command
      ? `${unit.last_command}: ${unit.status ? unit.status.message : "no answer"}` : "none yet";
    q(".identity").textContent = unit.info
      ? `${unit.info.serial} · software ${unit.info.software_version} · hardware ${unit.info.hardware_version}` : "–";
    const faults = r ? [...r.faults, ...r.battery_faults, ...r.alerts] : [];
    q(".faults").replaceChildren(...faults.map((f) => el("li", { text: f })));
    q(".reason").textContent = unit.unavailable_reason || "";
  }
}

// --- events and the live chart -------------------------------------------------------------------------------

/** @param {import("./types.js").EventPayload} event */
function addEvent(event) {
  const list = $("#events");
  list.prepend(el("li", {}, el("time", { text: clock(event.at) }), event.message));
  while (list.children.length > 60) list.lastChild.remove();
}

/** The live chart, filled with the last 15 minutes of history when there is some. */
export async function initLiveChart() {
  const live = dashboard.live;
  try {
    /** @type {import("./types.js").HistoryPayload} */
    const history = await api("GET", "/api/v1/history?range=15m");
    live.t = history.t.slice(); live.grid = history.grid_w.slice();
    live.battery = history.battery_w.slice(); live.setpoint = history.battery_w.map(() => null);
    live.soc = history.soc_pct.slice();
  } catch { /* no history kept here: the chart fills from the stream */ }
  const options = chartOptions("", 260, powerSeries());
  // Always the last 15 minutes in clock time, however few points there are yet (uPlot would zoom into seconds).
  options.scales.x = { time: true, range: (/** @type {any} */ _u, /** @type {number | null} */ _min,
    /** @type {number | null} */ max) => {
    const end = max || Date.now() / 1000;
    return [end - LIVE_WINDOW_S, end];
  } };
  charts.live = new uPlot(options, liveData(), $("#live-chart"));
}

function liveData() { const l = dashboard.live; return [l.t, l.grid, l.battery, l.setpoint, l.soc]; }

/** @param {SitePayload} s */
function appendLive(s) {
  const l = dashboard.live;
  const t = s.at;
  const last = l.t[l.t.length - 1];
  if (last !== undefined && last !== null && t <= last) return;
  l.t.push(t); l.grid.push(s.grid_w); l.battery.push(s.battery_w); l.setpoint.push(s.setpoint_total_w);
  l.soc.push(s.soc_pct);
  while (l.t.length && Number(l.t[0]) < t - LIVE_WINDOW_S) {
    for (const series of Object.values(l)) series.shift();
  }
  if (charts.live && !$("#page-dashboard").hidden) charts.live.setData(liveData());
}

/** Redraw the live chart (after the page became visible or was resized). */
export function refreshLiveChart() { if (charts.live) charts.live.setData(liveData()); }

