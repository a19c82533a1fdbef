// @ts-check
/** SmartSofar's page: the session and login, the pages (dashboard, history, logs, settings), and the start.
 * Plain ES modules, no build step; the types are in types.js. */

import { access, api } from "./api.js";
import { resizeCharts } from "./charts.js";
import { act, connect, initLiveChart, onSnapshot, refreshLiveChart, wireDashboard } from "./dashboard.js";
import { $, $$, banner } from "./dom.js";
import { loadHistory, wireHistory } from "./history.js";
import { loadLogs, wireLogs } from "./logs.js";
import { loadPlan, wirePlan } from "./plan.js";
import { loadSettings, wireSettings } from "./settings.js";

const PAGES = ["dashboard", "plan", "history", "logs", "settings"];

/** @returns {Promise<import("./types.js").Session>} */
async function loadSession() {
  const s = access.session = await api("GET", "/api/v1/session");
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

/** @param {Event} event */
async function login(event) {
  event.preventDefault();
  try {
    await api("POST", "/api/v1/login", { password: $("#login-password").value });
    $("#login-dialog").close();
    $("#login-password").value = "";
    await loadSession();
    connect();
  } catch (error) {
    $("#login-error").textContent = /** @type {Error} */ (error).message;
  }
}

function route() {
  const page = (location.hash || "#dashboard").slice(1);
  const known = PAGES.includes(page) ? page : "dashboard";
  for (const name of PAGES) $(`#page-${name}`).hidden = name !== known;
  for (const a of $$("nav a")) {
    if (a.dataset.page === known) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (known === "history") loadHistory();
  if (known === "plan") loadPlan();
  if (known === "logs") loadLogs();
  if (known === "settings") loadSettings();
  if (known === "dashboard") { resizeCharts(); refreshLiveChart(); }
}

async function start() {
  access.onUnauthorized = showLogin;
  wireDashboard();
  wireHistory();
  wirePlan();
  wireLogs();
  wireSettings(async () => { await loadSession(); });
  $("#login-form").addEventListener("submit", login);
  $("#login-cancel").addEventListener("click", () => $("#login-dialog").close());
  $("#login-button").addEventListener("click", showLogin);
  $("#logout-button").addEventListener("click", () => act(async () => {
    await api("POST", "/api/v1/logout"); await loadSession();
  }));
  window.addEventListener("hashchange", route);
  /** @type {number | undefined} */
  let resizing;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => { resizeCharts(); refreshLiveChart(); }, 150);
  });
  try {
    const session = await loadSession();
    if (session.can_read) {
      const state = await api("GET", "/api/v1/state");
      await initLiveChart();
      onSnapshot(state);
      connect();
    }
  } catch (error) { banner(/** @type {Error} */ (error).message); }
  route();
}

start();
