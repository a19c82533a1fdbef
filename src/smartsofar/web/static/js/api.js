// @ts-check
/** Talking to SmartSofar's API, and the browser's session (who may read and change what). */

/** @typedef {import("./types.js").Session} Session */

/** @type {{ session: Session | null, onUnauthorized: () => void }} */
export const access = { session: null, onUnauthorized: () => {} };

/**
 * One request; the parsed JSON answer, or an Error carrying the server's message and status. ``path`` is
 * taken relative to the page ("/api/v1/state" becomes "api/v1/state"), so the page also works below a prefix,
 * as Home Assistant's ingress serves it.
 * @param {"GET" | "PUT" | "POST" | "DELETE"} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<any>}
 */
export async function api(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const session = access.session;
  if (method !== "GET" && session && session.csrf_token) headers["X-CSRF-Token"] = session.csrf_token;
  const response = await fetch(path.replace(/^\//, ""), { method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { detail: text }; }
  if (!response.ok) {
    const error = /** @type {Error & { status?: number }} */ (
      new Error((data && data.detail) || `${response.status} ${response.statusText}`));
    error.status = response.status;
    if (response.status === 401) access.onUnauthorized();
    throw error;
  }
  return data;
}

/** Whether this browser may change things now. */
export function canWrite() { return Boolean(access.session && access.session.can_write); }
