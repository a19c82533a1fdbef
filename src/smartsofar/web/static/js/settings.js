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
 * @property {"bool" | "int" | "number" | "text" | "choice" | "secret"} kind
 * @property {any} value
 * @property {string} help
 * @property {boolean} nullable
 * @property {number | null} min
 * @property {number | null} max
 * @property {string[]} choices
 * @property {boolean} live
 *
 * @typedef {object} SettingsPayload
 * @property {string | null} path
 * @property {boolean} writable
 * @property {{ name: string, title: string, fields: SettingField[] }[]} groups
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
    changed.set(field.key, read());
    $("#settings-result").textContent = `${changed.size} change(s) not saved yet`;
  });
  return input;
}

/** @param {SettingsPayload} data */
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
      if (field) { field.classList.add("invalid"); field.querySelector(".error").textContent = part; }
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
