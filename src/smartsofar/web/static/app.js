/* SmartSofar's page: live dashboard over Server-Sent Events, history, logs and settings. No build step. */
"use strict";

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));
const LIVE_WINDOW_S = 15 * 60;
const LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];

const app = {
  session: null,
  snapshot: null,
  live: { t: [], grid: [], battery: [], setpoint: [], soc: [] },
  charts: {},
  unitCards: new Map(),
  logs: [],
  sliderBusy: false,
  powerTyped: false,  // a power typed in the number field and not applied yet
  pending: {},  // key -> {value, until}: what the user just chose, shown until a snapshot confirms it
  history: { range: "day", end: null },
  settings: { groups: [], changed: new Map() },
};

// --- helpers -------------------------------------------------------------------------------------------------

function css(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }
function watts(value) { return value === null || value === undefined ? "–" : Math.round(value).toLocaleString(); }
function number(value, digits = 1) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
}
function clock(unixSeconds) { return new Date(unixSeconds * 1000).toLocaleTimeString(); }
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && app.session && app.session.csrf_token) headers["X-CSRF-Token"] = app.session.csrf_token;
  const response = await fetch(path, { method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { detail: text }; }
  if (!response.ok) {
    const error = new Error((data && data.detail) || `${response.status} ${response.statusText}`);
    error.status = response.status;
    if (response.status === 401) showLogin();
    throw error;
  }
  return data;
}

function banner(message) {
  const node = $("#banner");
  node.textContent = message || "";
  node.hidden = !message;
}

// --- session and login ---------------------------------------------------------------------------------------

async function loadSession() {
  app.session = await api("GET", "/api/v1/session");
  const s = app.session;
  $("#login-button").hidden = !s.auth_required || s.logged_in;
  $("#demo-badge").hidden = !s.demo;
  $("#logout-button").hidden = !s.logged_in;
  document.body.classList.toggle("read-only", !s.can_write);
  $$("#page-dashboard input, #page-dashboard button, #page-settings button, #page-settings input, #page-settings select")
    .forEach((node) => { node.disabled = !s.can_write && node.dataset.alwaysOn === undefined; });
  if (!s.can_write && s.can_read) banner("Read-only: log in to change anything.");
  else if (!s.can_read) { banner("Log in to see this site."); showLogin(); }
  else banner("");
  return s;
}

function showLogin() {
  const dialog = $("#login-dialog");
  if (!dialog.open) { $("#login-error").textContent = ""; dialog.showModal(); $("#login-password").focus(); }
}

async function login(event) {
  event.preventDefault();
  try {
    await api("POST", "/api/v1/login", { password: $("#login-password").value });
    $("#login-dialog").close();
    $("#login-password").value = "";
    await loadSession();
    connect();
  } catch (error) {
    $("#login-error").textContent = error.message;
  }
}

// --- pages ---------------------------------------------------------------------------------------------------

function route() {
  const page = (location.hash || "#dashboard").slice(1);
  const known = ["dashboard", "history", "logs", "settings"].includes(page) ? page : "dashboard";
  for (const name of ["dashboard", "history", "logs", "settings"]) $(`#page-${name}`).hidden = name !== known;
  for (const a of $$("nav a")) {
    if (a.dataset.page === known) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (known === "history") loadHistory();
  if (known === "logs") loadLogs();
  if (known === "settings") loadSettings();
  if (known === "dashboard") resizeCharts();
}

// --- live stream ---------------------------------------------------------------------------------------------

let source = null;
function connect() {
  if (source) source.close();
  source = new EventSource("/api/v1/events");
  const dot = $("#link");
  source.onopen = () => { dot.className = "dot live"; dot.title = "live"; };
  source.onerror = () => { dot.className = "dot down"; dot.title = "reconnecting"; };
  source.addEventListener("snapshot", (e) => onSnapshot(JSON.parse(e.data)));
  source.addEventListener("event", (e) => addEvent(JSON.parse(e.data)));
  source.addEventListener("log", (e) => addLog(JSON.parse(e.data)));
}

function onSnapshot(snapshot) {
  app.snapshot = snapshot;
  for (const [key, choice] of Object.entries(app.pending)) {
    if (snapshot.mode[key] === choice.value || Date.now() > choice.until) delete app.pending[key];
  }
  renderGrid(snapshot);
  renderControl(snapshot);
  renderUnits(snapshot);
  appendLive(snapshot);
}

// --- dashboard: grid and control -----------------------------------------------------------------------------

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
  const phases = $("#phases");
  phases.replaceChildren(...((meter && meter.phases.length > 1) ? meter.phases.map((p, i) =>
    el("li", { text: `${"ABC"[i] || i + 1}: ${watts(p.power_w)} W · ${number(p.voltage_v)} V` })) : []));
  $("#meter-line").textContent = meter
    ? `${meter.model} · ${meter.state}${meter.age_s !== null ? ` · ${number(meter.age_s)} s ago` : ""}`
      + (meter.error ? ` · ${meter.error}` : "")
    : "no meter configured";
}

function renderControl(s) {
  const mode = { ...s.mode };
  for (const [key, choice] of Object.entries(app.pending)) mode[key] = choice.value;
  $$('input[name="mode"]').forEach((r) => { r.checked = r.value === mode.mode; });
  const auto = mode.mode === "auto";
  const manual = mode.mode === "manual";
  $("#auto-options").classList.toggle("disabled", !auto);
  $("#allow-charge").checked = mode.allow_charge;
  $("#allow-discharge").checked = mode.allow_discharge;
  if (document.activeElement !== $("#target")) $("#target").value = mode.target_w;
  const canWrite = app.session && app.session.can_write;
  for (const id of ["#power-slider", "#power-number"]) {
    const input = $(id);
    input.min = s.manual_min_w; input.max = s.manual_max_w;
    input.disabled = !manual || !canWrite;
  }
  $("#power-apply").disabled = !manual || !canWrite;
  $("#standby-button").disabled = !canWrite || mode.mode === "standby";
  $("#manual-options").classList.toggle("disabled", !manual);
  const editing = [$("#power-slider"), $("#power-number")].includes(document.activeElement);
  if (!app.sliderBusy && !editing && !power.sending && !(app.powerTyped && manual)) {
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

async function act(call) {
  try { banner(""); await call(); } catch (error) { banner(error.message); }
}

// The slider sends a value per step: keep one request in flight and always end on the newest value, so
// requests that overtake each other can never leave the units at an older one.
const power = { wanted: null, sending: false };
async function sendPower(watts) {
  power.wanted = watts;
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

async function choose(key, value, call) {
  app.pending[key] = { value, until: Date.now() + 5000 };
  try {
    banner("");
    await call();
  } catch (error) {
    delete app.pending[key];  // refused: show what the server has again
    banner(error.message);
    if (app.snapshot) renderControl(app.snapshot);
  }
}

function wireControls() {
  $$('input[name="mode"]').forEach((radio) => radio.addEventListener("change", () =>
    choose("mode", radio.value, () => api("PUT", "/api/v1/mode", { mode: radio.value }))));
  $("#allow-charge").addEventListener("change", (e) => choose("allow_charge", e.target.checked,
    () => api("PUT", "/api/v1/permissions", { allow_charge: e.target.checked })));
  $("#allow-discharge").addEventListener("change", (e) => choose("allow_discharge", e.target.checked,
    () => api("PUT", "/api/v1/permissions", { allow_discharge: e.target.checked })));
  $("#target").addEventListener("change", (e) =>
    act(() => api("PUT", "/api/v1/target", { target_w: Number(e.target.value) })));
  const slider = $("#power-slider");
  slider.addEventListener("input", () => {
    app.sliderBusy = true;
    app.powerTyped = false;
    $("#power-number").value = slider.value;
  });
  slider.addEventListener("change", () => {
    app.sliderBusy = false;
    sendPower(Number(slider.value));
  });
  // A typed value stays until it is applied: the live updates must not put the current setpoint back while
  // the focus moves from the field to the Apply button.
  $("#power-number").addEventListener("input", () => { app.powerTyped = true; });
  const apply = () => {
    app.powerTyped = false;
    return sendPower(Number($("#power-number").value));
  };
  $("#power-apply").addEventListener("click", apply);
  $("#power-number").addEventListener("keydown", (e) => { if (e.key === "Enter") apply(); });
  $("#standby-button").addEventListener("click", () => act(async () => {
    if (app.snapshot && app.snapshot.mode.mode === "manual") await sendPower(0);
    else await api("POST", "/api/v1/standby");
  }));
}

// --- dashboard: units ----------------------------------------------------------------------------------------

function unitCard(unit) {
  let card = app.unitCards.get(unit.unit_id);
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
  app.unitCards.set(unit.unit_id, card);
  return card;
}

function renderUnits(s) {
  for (const unit of s.units) {
    const card = unitCard(unit);
    const r = unit.reading;
    const q = (selector) => card.querySelector(selector);
    q(".name").textContent = `${unit.name} · id ${unit.unit_id}`;
    const link = q(".link");
    link.textContent = unit.available ? unit.link : (unit.link === "offline" ? "offline" : "unavailable");
    link.className = `badge link ${unit.available ? unit.link : "bad"}`;
    q(".state").textContent = r ? r.running_state_words : "not read yet";
    q("meter").value = r ? r.soc_pct : 0;
    q(".soc-text").textContent = r ? `${r.soc_pct} %` : "–";
    q(".battery").textContent = r
      ? `${watts(r.battery_w)} W · ${number(r.battery_v, 2)} V · ${number(r.battery_a, 2)} A · ${r.battery_temp_c} °C` : "–";
    q(".setpoint").textContent = unit.setpoint_w === null ? "unknown (will be sent)" : `${watts(unit.setpoint_w)} W`;
    q(".temps").textContent = r ? `inverter ${r.inverter_temp_c} °C · heat sink ${r.heatsink_temp_c} °C` : "–";
    const resp = unit.response;
    q(".response").textContent = !resp || resp.dead_time_s === undefined ? "–"
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

// --- dashboard: events and the live chart --------------------------------------------------------------------

function addEvent(event) {
  const list = $("#events");
  list.prepend(el("li", {}, el("time", { text: clock(event.at) }), event.message));
  while (list.children.length > 60) list.lastChild.remove();
}

function chartOptions(title, height, series, withSoc = true) {
  const width = Math.max(280, ($("#main").clientWidth || 800) - 40);
  const axes = [{ stroke: css("--muted"), grid: { stroke: css("--chart-grid") } },
    { stroke: css("--muted"), grid: { stroke: css("--chart-grid") }, label: "W", size: 60 }];
  if (withSoc) axes.push({ scale: "%", side: 1, stroke: css("--muted"), grid: { show: false }, label: "%" });
  return { title, width, height, series: [{}, ...series], axes,
    scales: { "%": { range: [0, 100] } }, legend: { live: true }, cursor: { drag: { x: true, y: false } } };
}

function powerSeries() {
  return [
    { label: "Grid W", stroke: css("--import"), width: 2, value: (u, v) => watts(v) },
    { label: "Batteries W", stroke: css("--accent"), width: 2, value: (u, v) => watts(v) },
    { label: "Setpoint W", stroke: css("--muted"), width: 1, dash: [4, 4], value: (u, v) => watts(v) },
    { label: "SoC %", scale: "%", stroke: css("--focus"), width: 1, value: (u, v) => number(v, 0) },
  ];
}

async function initLiveChart() {
  try {
    const history = await api("GET", "/api/v1/history?range=15m");
    if (history) {
      app.live.t = history.t.slice(); app.live.grid = history.grid_w.slice();
      app.live.battery = history.battery_w.slice(); app.live.setpoint = history.battery_w.map(() => null);
      app.live.soc = history.soc_pct.slice();
    }
  } catch { /* no history yet: the chart fills from the stream */ }
  app.charts.live = new uPlot(chartOptions("", 260, powerSeries()), liveData(), $("#live-chart"));
}

function liveData() { const l = app.live; return [l.t, l.grid, l.battery, l.setpoint, l.soc]; }

function appendLive(s) {
  const l = app.live;
  const t = s.at;
  if (l.t.length && t <= l.t[l.t.length - 1]) return;
  l.t.push(t); l.grid.push(s.grid_w); l.battery.push(s.battery_w); l.setpoint.push(s.setpoint_total_w);
  l.soc.push(s.soc_pct);
  while (l.t.length && l.t[0] < t - LIVE_WINDOW_S) { for (const key of Object.keys(l)) l[key].shift(); }
  if (app.charts.live && !$("#page-dashboard").hidden) app.charts.live.setData(liveData());
}

function resizeCharts() {
  const width = Math.max(280, ($("#main").clientWidth || 800) - 40);
  for (const chart of Object.values(app.charts)) if (chart) chart.setSize({ width, height: chart.height });
  if (app.charts.live) app.charts.live.setData(liveData());
}

// --- history -------------------------------------------------------------------------------------------------

function historyEnd() {
  const picked = $("#hist-date").value;
  const end = picked ? new Date(`${picked}T00:00:00`) : new Date();
  if (picked) end.setDate(end.getDate() + 1);
  return end;
}

async function loadHistory() {
  if (!$("#hist-date").value) $("#hist-date").value = new Date().toISOString().slice(0, 10);
  const end = historyEnd();
  const days = app.history.range === "week" ? 7 : 1;
  const start = new Date(end.getTime() - days * 86400000);
  try {
    const series = await api("GET", `/api/v1/history?start=${start.getTime() / 1000}&end=${end.getTime() / 1000}`);
    $("#hist-empty").hidden = series.t.length > 0;
    const data = [series.t, series.grid_w, series.battery_w, series.house_w, series.soc_pct];
    const options = chartOptions("", 340, [
      { label: "Grid W", stroke: css("--import"), width: 1.5, value: (u, v) => watts(v) },
      { label: "Batteries W", stroke: css("--accent"), width: 1.5, value: (u, v) => watts(v) },
      { label: "House (load − PV) W", stroke: css("--muted"), width: 1, value: (u, v) => watts(v) },
      { label: "SoC %", scale: "%", stroke: css("--focus"), width: 1, value: (u, v) => number(v, 0) }]);
    if (app.charts.history) app.charts.history.destroy();
    app.charts.history = new uPlot(options, data, $("#hist-chart"));
    const first = new Date(end.getTime() - 7 * 86400000).toISOString().slice(0, 10);
    const last = new Date(end.getTime() - 86400000).toISOString().slice(0, 10);
    renderDays(await api("GET", `/api/v1/history/days?first=${first}&last=${last}`));
  } catch (error) { banner(error.message); }
}

function renderDays(days) {
  const kwh = (wh) => (wh / 1000).toFixed(2);
  $("#days-table tbody").replaceChildren(...days.map((d) => el("tr", {},
    el("td", { text: d.day }), el("td", { text: kwh(d.import_wh) }), el("td", { text: kwh(d.export_wh) }),
    el("td", { text: kwh(d.charged_wh) }), el("td", { text: kwh(d.discharged_wh) }),
    el("td", { text: d.self_sufficiency === null ? "–" : `${Math.round(d.self_sufficiency * 100)} %` }))));
  const t = days.map((d) => new Date(`${d.day}T12:00:00`).getTime() / 1000);
  const bars = uPlot.paths.bars({ size: [0.18, 40], align: 0 });
  const series = [["Imported kWh", "--import", -0.3], ["Exported kWh", "--export", -0.1],
    ["Charged kWh", "--accent", 0.1], ["Discharged kWh", "--focus", 0.3]].map(([label, color, shift]) => ({
    label, fill: css(color), stroke: css(color), paths: bars, points: { show: false },
    value: (u, v) => (v === null ? "–" : v.toFixed(2)), _shift: shift }));
  const data = [t, days.map((d) => d.import_wh / 1000), days.map((d) => d.export_wh / 1000),
    days.map((d) => d.charged_wh / 1000), days.map((d) => d.discharged_wh / 1000)];
  const options = chartOptions("", 220, series, false);
  options.axes[1].label = "kWh";
  options.scales.x = { time: true, range: (u, min, max) => [min - 43200, max + 43200] };
  if (app.charts.days) app.charts.days.destroy();
  app.charts.days = new uPlot(options, data, $("#days-chart"));
}

function wireHistory() {
  $$("[data-range]").forEach((button) => button.addEventListener("click", () => {
    app.history.range = button.dataset.range;
    $$("[data-range]").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
    loadHistory();
  }));
  const shift = (days) => {
    const date = historyEnd();
    date.setDate(date.getDate() - 1 + days);
    $("#hist-date").value = date.toISOString().slice(0, 10);
    loadHistory();
  };
  $("#hist-prev").addEventListener("click", () => shift(app.history.range === "week" ? -7 : -1));
  $("#hist-next").addEventListener("click", () => shift(app.history.range === "week" ? 7 : 1));
  $("#hist-date").addEventListener("change", loadHistory);
}

// --- logs ----------------------------------------------------------------------------------------------------

function logLine(record) {
  const when = new Date(record.at * 1000).toLocaleString();
  return el("span", { class: record.level, text: `${when} ${record.level} ${record.logger}: ${record.message}\n` });
}

async function loadLogs() {
  try {
    app.logs = await api("GET", `/api/v1/logs?level=DEBUG&limit=2000`);
    renderLogs();
  } catch (error) { banner(error.message); }
}

function renderLogs() {
  const threshold = LEVELS.indexOf($("#log-level").value);
  const box = $("#log-lines");
  box.replaceChildren(...app.logs.filter((r) => LEVELS.indexOf(r.level) >= threshold).map(logLine));
  if (!$("#log-pause").checked) box.scrollTop = box.scrollHeight;
}

function addLog(record) {
  app.logs.push(record);
  if (app.logs.length > 2000) app.logs.shift();
  if ($("#page-logs").hidden || LEVELS.indexOf(record.level) < LEVELS.indexOf($("#log-level").value)) return;
  const box = $("#log-lines");
  box.append(logLine(record));
  if (!$("#log-pause").checked) box.scrollTop = box.scrollHeight;
}

function wireLogs() {
  $("#log-level").addEventListener("change", renderLogs);
  $("#log-download").addEventListener("click", () => {
    const text = $("#log-lines").textContent;
    const link = el("a", { href: URL.createObjectURL(new Blob([text], { type: "text/plain" })),
      download: `smartsofar-${new Date().toISOString().slice(0, 19).replaceAll(":", "-")}.log` });
    document.body.append(link);
    link.click();
    link.remove();
  });
}

// --- settings ------------------------------------------------------------------------------------------------

function fieldInput(field) {
  const id = `set-${field.key.replaceAll(".", "-")}`;
  let input;
  if (field.kind === "bool") {
    input = el("input", { type: "checkbox", id });
    input.checked = Boolean(field.value);
  } else if (field.kind === "choice") {
    input = el("select", { id }, ...field.choices.map((c) => el("option", { value: c, text: c })));
    input.value = field.value ?? "";
  } else if (field.kind === "secret") {
    input = el("input", { type: "password", id, autocomplete: "new-password",
      placeholder: field.value ? "set (type to replace)" : "not set" });
  } else {
    const numeric = field.kind === "int" || field.kind === "number";
    input = el("input", { type: numeric ? "number" : "text", id });
    if (numeric) {
      input.step = field.kind === "int" ? "1" : "any";
      if (field.min !== null) input.min = field.min;
      if (field.max !== null) input.max = field.max;
    }
    input.value = field.value ?? "";
    if (field.nullable && field.value === null) input.placeholder = "not set";
  }
  input.dataset.key = field.key;
  const read = () => {
    if (field.kind === "bool") return input.checked;
    if (field.kind === "secret") return input.value;
    if (input.value === "") return null;
    return (field.kind === "int" || field.kind === "number") ? Number(input.value) : input.value;
  };
  input.addEventListener(field.kind === "bool" ? "change" : "input", () => {
    app.settings.changed.set(field.key, read());
    $("#settings-result").textContent = `${app.settings.changed.size} change(s) not saved yet`;
  });
  return input;
}

function renderSettings(data) {
  $("#settings-path").textContent = data.path ? `Saved to ${data.path}` : "This service has no configuration file.";
  const container = $("#settings-groups");
  container.replaceChildren();
  for (const group of data.groups) {
    if (!group.fields.length) continue;
    const card = el("fieldset", { class: "card settings-group" }, el("legend", {}, el("h2", { text: group.title })));
    for (const field of group.fields) {
      const input = fieldInput(field);
      const tag = el("span", { class: `badge tag ${field.live ? "ok" : "info"}`,
        text: field.live ? "applies at once" : "after a restart" });
      const label = el("label", { for: input.id }, field.key.split(".").slice(1).join(" · ").replaceAll("_", " "), tag);
      const help = el("p", { class: "help", id: `${input.id}-help`, text: field.help });
      input.setAttribute("aria-describedby", help.id);
      card.append(el("div", { class: "field", "data-key": field.key }, label,
        el("div", {}, input, help, el("p", { class: "error", role: "alert" }))));
    }
    container.append(card);
  }
  $("#settings-save").disabled = !data.writable || !(app.session && app.session.can_write);
}

async function loadSettings() {
  try {
    renderSettings(await api("GET", "/api/v1/settings"));
    app.settings.changed.clear();
    $("#settings-result").textContent = "";
  } catch (error) { banner(error.message); }
}

async function saveSettings(event) {
  event.preventDefault();
  $$(".field.invalid").forEach((f) => { f.classList.remove("invalid"); f.querySelector(".error").textContent = ""; });
  if (!app.settings.changed.size) { $("#settings-result").textContent = "nothing changed"; return; }
  try {
    const result = await api("PUT", "/api/v1/settings", { values: Object.fromEntries(app.settings.changed) });
    app.settings.changed.clear();
    const parts = [`Saved to ${result.path}.`];
    if (result.applied_live.length) parts.push(`In use now: ${result.applied_live.join(", ")}.`);
    if (result.restart_needed.length) parts.push(`After a restart: ${result.restart_needed.join(", ")}.`);
    $("#settings-result").textContent = parts.join(" ");
  } catch (error) {
    $("#settings-result").textContent = "Not saved: nothing was changed.";
    for (const part of error.message.split("; ")) {
      const key = part.split(":")[0].trim();
      const field = $(`.field[data-key="${CSS.escape(key)}"]`);
      if (field) { field.classList.add("invalid"); field.querySelector(".error").textContent = part; }
      else banner(error.message);
    }
    const first = $(".field.invalid input, .field.invalid select");
    if (first) first.focus();
  }
}

function wireSettings() {
  $("#settings-form").addEventListener("submit", saveSettings);
  $("#read-units").addEventListener("click", () => act(async () => {
    const units = app.snapshot ? app.snapshot.units : [];
    const results = [];
    for (const unit of units) {
      try { await api("POST", `/api/v1/units/${unit.unit_id}/read`); results.push(`${unit.name}: read`); }
      catch (error) { results.push(`${unit.name}: ${error.message}`); }
    }
    $("#read-result").textContent = results.join(" · ");
  }));
  $("#read-meter").addEventListener("click", () => act(async () => {
    try {
      const sample = await api("POST", "/api/v1/meter/read");
      $("#read-result").textContent = `${sample.model}: ${watts(sample.power_w)} W`;
    } catch (error) { $("#read-result").textContent = error.message; }
  }));
  $("#password-form").addEventListener("submit", (event) => {
    event.preventDefault();
    act(async () => {
      try {
        await api("PUT", "/api/v1/password", { new_password: $("#pw-new").value,
          current_password: $("#pw-current").value || null });
        $("#pw-result").textContent = "Password set. You will need it to change anything.";
        $("#pw-new").value = ""; $("#pw-current").value = "";
        await loadSession();
      } catch (error) { $("#pw-result").textContent = error.message; }
    });
  });
  $("#token-button").addEventListener("click", () => act(async () => {
    const result = await api("POST", "/api/v1/token");
    $("#token-output").textContent = `${result.token}  (copy it now: it is not shown again)`;
  }));
}

// --- start ---------------------------------------------------------------------------------------------------

async function start() {
  wireControls();
  wireHistory();
  wireLogs();
  wireSettings();
  $("#login-form").addEventListener("submit", login);
  $("#login-cancel").addEventListener("click", () => $("#login-dialog").close());
  $("#login-button").addEventListener("click", showLogin);
  $("#logout-button").addEventListener("click", () => act(async () => {
    await api("POST", "/api/v1/logout"); await loadSession();
  }));
  window.addEventListener("hashchange", route);
  window.addEventListener("resize", () => { clearTimeout(app.resizeTimer); app.resizeTimer = setTimeout(resizeCharts, 150); });
  try {
    const session = await loadSession();
    if (session.can_read) {
      const state = await api("GET", "/api/v1/state");
      await initLiveChart();
      onSnapshot(state);
      connect();
    }
  } catch (error) { banner(error.message); }
  route();
}

document.addEventListener("DOMContentLoaded", start);
