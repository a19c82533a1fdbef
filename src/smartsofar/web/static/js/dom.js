// @ts-check
/** Small DOM and formatting helpers shared by every page. */

/**
 * @param {string} selector
 * @param {ParentNode} [root]
 * @returns {any} the element (the page's own markup: always there)
 */
export const $ = (selector, root = document) => root.querySelector(selector);

/**
 * @param {string} selector
 * @param {ParentNode} [root]
 * @returns {any[]}
 */
export const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

/** @param {string} name a CSS custom property */
export function css(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }

/** @param {number | null | undefined} value */
export function watts(value) {
  return value === null || value === undefined ? "–" : Math.round(value).toLocaleString();
}

/**
 * @param {number | null | undefined} value
 * @param {number} [digits]
 */
export function number(value, digits = 1) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
}

/** @param {number} unixSeconds */
export function clock(unixSeconds) { return new Date(unixSeconds * 1000).toLocaleTimeString(); }

/**
 * @param {string} tag
 * @param {Record<string, string>} [attributes] class, text, or any attribute
 * @param {...(Node | string)} children
 * @returns {any}
 */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

/**
 * The banner at the top: a message, or none.
 * @param {string} [message]
 */
export function banner(message) {
  const node = $("#banner");
  node.textContent = message || "";
  node.hidden = !message;
}
