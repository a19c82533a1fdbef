// @ts-check
/** The settings page: every setting with its help and limits, saved as a whole; reads on demand; the password
 * and the API token. */

import { api, canWrite } from "./api.js";
import { act, dashboard } from "./dashboard.js";
import { $, $$, banner, el, watts } from "./dom.js";

/**
 * One setting, as ``GET /api/v1/settings`` describes it.
 * @typedef {object} SettingField
 * @property {string} key
 * @property {string} label
 * @property {"bool" | "int" | "number" | "text" | "choice" | "secret" | "list"} kind
 * @property {any} value
 * @property {string} help
 * @property {boolean} nullable
 * @property {number | null} min
 * @property {number | null} max
 * @property {string[]} choices
 * @property {boolean} live
 * @property {boolean} advanced
 *
 * One card of settings: a section, a bus or a unit.
 * @typedef {object} SettingsGroup
 * @property {string} name
 * @property {string} title
 * @property {"section" | "bus" | "unit"} kind
 * @property {number} [bus]
 * @property {number} [unit]
 * @property {SettingField[]} fields
 *
 * @typedef {object} SettingsPayload
 * @property {string | null} path
 * @property {boolean} writable
 * @property {SettingsGroup[]} groups
 */

/** What the user changed and has not saved yet, by key. @type {Map<string, unknown>} */
const changed = new Map();

/** @param {SettingField} field */
function fieldInput(field) {
  const id = `set-${field.key.replaceAll(".", "-")}`;
  /** @type {any} */
  let input;
  if (field.kind === "bool") {
    input = el("input", { type: "checkbox", id });
    input.checked = Boolean(field.value);
  } else if (field.kind === "choice") {
    const options = field.choices.map((c) => el("option", { value: c, text: c }));
    if (field.nullable) options.unshift(el("option", { value: "", text: "not set" }));
    input = el("select", { id }, ...options);
    input.value = field.value ?? "";
  } else if (field.kind === "secret") {
    input = el("input", { type: "password", id, autocomplete: "new-password",
      placeholder: field.value ? "set (type to replace)" : "not set" });
  } else if (field.kind === "list") {
    input = el("input", { type: "text", id, placeholder: "none (separate entries with commas)" });
    input.value = (field.value || []).join(", ");
  } else {
    const numeric = field.kind === "int" || field.kind === "number";
    input = el("input", { type: numeric ? "number" : "text", id });
    if (numeric) {
      input.step = field.kind === "int" ? "1" : "any";
      if (field.min !== null) input.min = field.min;
      if (field.max !== null) input.max = field.max;
      input.inputMode = field.kind === "int" ? "numeric" : "decimal";
    }
    input.value = field.value ?? "";
    if (field.nullable && field.value === null) input.placeholder = "not set";
  }
  input.dataset.key = field.key;
  const read = () => {
    if (field.kind === "bool") return input.checked;
    if (field.kind === "secret") return input.value;
    if (field.kind === "list") return input.value.split(",").map((/** @type {string} */ v) => v.trim()).filter(Boolean);
    if (input.value === "") return null;
    return (field.kind === "int" || field.kind === "number") ? Number(input.value) : input.value;
  };
  input.addEventListener(field.kind === "bool" ? "change" : "input", () => {
    changed.set(field.key, read());
    $("#settings-result").textContent = `${changed.size} change(s) not saved yet`;
  });
  return input;
}

/** @param {SettingField} field */
function fieldRow(field) {
  const input = fieldInput(field);
  const tag = el("span", { class: `badge tag ${field.live ? "ok" : "info"}`,
    text: field.live ? "applies at once" : "after a restart" });
  const label = el("label", { for: input.id }, field.label, tag);
  const help = el("p", { class: "help", id: `${input.id}-help`, text: field.help });
  input.setAttribute("aria-describedby", help.id);
  return el("div", { class: "field", "data-key": field.key }, label,
    el("div", {}, input, help, el("p", { class: "error", role: "alert" })));
}

/**
 * A small form that adds a unit (to a bus) or a bus (with its first unit).
 * @param {string} what "unit" or "bus"
 * @param {(body: Record<string, unknown>) => Promise<void>} submit
 */
function adder(what, submit) {
  const prefix = `add-${what}-${Math.random().toString(36).slice(2, 7)}`;
  const fields = [];
  if (what === "bus") {
    fields.push(el("label", { for: `${prefix}-url` }, "Bus address",
      el("input", { id: `${prefix}-url`, type: "text", placeholder: "tcp://HOST:PORT or serial:///dev/ttyUSB0" })));
  }
  fields.push(
    el("label", { for: `${prefix}-id` }, what === "bus" ? "First unit's slave id" : "Slave id",
      el("input", { id: `${prefix}-id`, type: "number", min: "1", max: "247", step: "1", inputmode: "numeric" })),
    el("label", { for: `${prefix}-name` }, "Name", el("input", { id: `${prefix}-name`, type: "text", maxlength: "40" })));
  const error = el("p", { class: "error", role: "alert" });
  const button = el("button", { type: "button", text: what === "bus" ? "Add this bus" : "Add this unit" });
  button.addEventListener("click", () => act(async () => {
    error.textContent = "";
    /** @type {Record<string, unknown>} */
    const body = { id: Number(/** @type {HTMLInputElement} */ ($(`#${prefix}-id`)).value),
      name: /** @type {HTMLInputElement} */ ($(`#${prefix}-name`)).value };
    if (what === "bus") body.url = /** @type {HTMLInputElement} */ ($(`#${prefix}-url`)).value;
    try { await submit(body); } catch (e) { error.textContent = /** @type {Error} */ (e).message; }
  }));
  return el("details", { class: `adder adder-${what}` },
    el("summary", { text: what === "bus" ? "Add a bus" : "Add a unit to this bus" }),
    el("div", { class: "adder-fields" }, ...fields, button, error));
}

/** @param {{ restart_needed: string[] }} result @param {string} done */
async function afterChange(result, done) {
  await loadSettings();
  $("#settings-result").textContent = `${done}${result.restart_needed.length ? " It is used after a restart." : ""}`;
}

/** @param {SettingsGroup} group */
function groupCard(group) {
  const card = el("section", { class: "card settings-group", "data-group": group.name,
    "aria-label": group.title }, el("h2", { text: group.title }));
  const plain = group.fields.filter((f) => !f.advanced);
  const folded = group.fields.filter((f) => f.advanced);
  card.append(...plain.map(fieldRow));
  if (folded.length) {
    card.append(el("details", { class: "advanced" }, el("summary", { text: `Advanced (${folded.length})` }),
      ...folded.map(fieldRow)));
  }
  const bus = (group.bus ?? 0) + 1;
  if (group.kind === "unit") {
    const remove = el("button", { type: "button", class: "ghost danger", text: `Remove ${group.title.split(" · ")[0]}` });
    remove.addEventListener("click", () => act(async () => {
      if (!window.confirm(`Remove ${group.title} from the configuration?`)) return;
      const result = await api("DELETE", `/api/v1/settings/buses/${bus}/units/${(group.unit ?? 0) + 1}`);
      await afterChange(result, `${group.title} removed.`);
    }));
    card.append(el("div", { class: "card-actions" }, remove));
  } else if (group.kind === "bus") {
    const remove = el("button", { type: "button", class: "ghost danger", text: "Remove this bus" });
    remove.addEventListener("click", () => act(async () => {
      if (!window.confirm(`Remove ${group.title} and its units from the configuration?`)) return;
      await afterChange(await api("DELETE", `/api/v1/settings/buses/${bus}`), `${group.title} removed.`);
    }));
    card.append(adder("unit", async (body) => {
      await afterChange(await api("POST", `/api/v1/settings/buses/${bus}/units`, body), "Unit added.");
    }), el("div", { class: "card-actions" }, remove));
  }
  return card;
}

/** @param {SettingsPayload} data */
function renderSettings(data) {
  $("#settings-path").textContent = data.path ? `Saved to ${data.path}` : "This service has no configuration file.";
  const container = $("#settings-groups");
  container.replaceChildren();
  const groups = data.groups.filter((g) => g.fields.length);
  groups.forEach((group, index) => {
    container.append(groupCard(group));
    const next = groups[index + 1];
    if (group.kind !== "section" && (!next || next.kind === "section")) {  // after the last bus's last unit
      container.append(el("section", { class: "card settings-group", "data-group": "new-bus" },
        adder("bus", async (body) => {
          await afterChange(await api("POST", "/api/v1/settings/buses", body), "Bus added.");
        })));
    }
  });
  $("#settings-save").disabled = !data.writable || !canWrite();
}

export async function loadSettings() {
  try {
    renderSettings(await api("GET", "/api/v1/settings"));
    changed.clear();
    $("#settings-result").textContent = "";
  } catch (error) { banner(/** @type {Error} */ (error).message); }
}

/** @param {Event} event */
async function saveSettings(event) {
  event.preventDefault();
  $$(".field.invalid").forEach((f) => { f.classList.remove("invalid"); f.querySelector(".error").textContent = ""; });
  if (!changed.size) { $("#settings-result").textContent = "nothing changed"; return; }
  try {
    const result = await api("PUT", "/api/v1/settings", { values: Object.fromEntries(changed) });
    changed.clear();
    const parts = [`Saved to ${result.path}.`];
    if (result.applied_live.length) parts.push(`In use now: ${result.applied_live.join(", ")}.`);
    if (result.restart_needed.length) parts.push(`After a restart: ${result.restart_needed.join(", ")}.`);
    $("#settings-result").textContent = parts.join(" ");
  } catch (error) {
    const message = /** @type {Error} */ (error).message;
    $("#settings-result").textContent = "Not saved: nothing was changed.";
    for (const part of message.split("; ")) {
      const key = part.split(":")[0].trim();
      const field = $(`.field[data-key="${CSS.escape(key)}"]`);
      if (field) {
        field.classList.add("invalid"); field.querySelector(".error").textContent = part;
        const folded = field.closest("details");
        if (folded) folded.open = true;  // an advanced setting in error is shown
      }
      else banner(message);
    }
    const first = $(".field.invalid input, .field.invalid select");
    if (first) first.focus();
  }
}

/** @param {() => Promise<void>} afterPassword what to do once a password is set (reload the session) */
export function wireSettings(afterPassword) {
  $("#settings-form").addEventListener("submit", saveSettings);
  $("#read-units").addEventListener("click", () => act(async () => {
    const units = dashboard.snapshot ? dashboard.snapshot.units : [];
    const results = [];
    for (const unit of units) {
      try { await api("POST", `/api/v1/units/${unit.unit_id}/read`); results.push(`${unit.name}: read`); }
      catch (error) { results.push(`${unit.name}: ${/** @type {Error} */ (error).message}`); }
    }
    $("#read-result").textContent = results.join(" · ");
  }));
  $("#read-meter").addEventListener("click", () => act(async () => {
    try {
      const sample = await api("POST", "/api/v1/meter/read");
      $("#read-result").textContent = `${sample.model}: ${watts(sample.power_w)} W`;
    } catch (error) { $("#read-result").textContent = /** @type {Error} */ (error).message; }
  }));
  $("#password-form").addEventListener("submit", (/** @type {Event} */ event) => {
    event.preventDefault();
    act(async () => {
      try {
        await api("PUT", "/api/v1/password", { new_password: $("#pw-new").value,
          current_password: $("#pw-current").value || null });
        $("#pw-result").textContent = "Password set. You will need it to change anything.";
        $("#pw-new").value = ""; $("#pw-current").value = "";
        await afterPassword();
      } catch (error) { $("#pw-result").textContent = /** @type {Error} */ (error).message; }
    });
  });
  $("#token-button").addEventListener("click", () => act(async () => {
    const result = await api("POST", "/api/v1/token");
    $("#token-output").textContent = `${result.token}  (copy it now: it is not shown again)`;
  }));
}
