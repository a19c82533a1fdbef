// @ts-check
/** The logs page: the recent log lines, new ones as they come, filtered by level, downloadable. */

import { api } from "./api.js";
import { $, banner, el } from "./dom.js";

/** @typedef {import("./types.js").LogPayload} LogPayload */

const LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"];
const KEEP = 2000;
/** @type {LogPayload[]} */
let lines = [];

/** @param {LogPayload} record */
function logLine(record) {
  const when = new Date(record.at * 1000).toLocaleString();
  return el("span", { class: record.level, text: `${when} ${record.level} ${record.logger}: ${record.message}\n` });
}

export async function loadLogs() {
  try {
    lines = await api("GET", `/api/v1/logs?level=DEBUG&limit=${KEEP}`);
    renderLogs();
  } catch (error) { banner(/** @type {Error} */ (error).message); }
}

function renderLogs() {
  const threshold = LEVELS.indexOf($("#log-level").value);
  const box = $("#log-lines");
  box.replaceChildren(...lines.filter((r) => LEVELS.indexOf(r.level) >= threshold).map(logLine));
  if (!$("#log-pause").checked) box.scrollTop = box.scrollHeight;
}

/**
 * A new line from the live stream.
 * @param {LogPayload} record
 */
export function addLog(record) {
  lines.push(record);
  if (lines.length > KEEP) lines.shift();
  if ($("#page-logs").hidden || LEVELS.indexOf(record.level) < LEVELS.indexOf($("#log-level").value)) return;
  const box = $("#log-lines");
  box.append(logLine(record));
  if (!$("#log-pause").checked) box.scrollTop = box.scrollHeight;
}

export function wireLogs() {
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
