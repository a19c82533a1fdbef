// @ts-check
/** uPlot charts (the library is a plain script loaded before the modules: window.uPlot). */

import { $, css, number, watts } from "./dom.js";

/** @type {any} */
export const uPlot = /** @type {any} */ (globalThis).uPlot;

/**
 * Every chart on the page by name, to resize them together.
 * @type {Record<string, any>}
 */
export const charts = {};

export function chartWidth() { return Math.max(280, ($("#main").clientWidth || 800) - 40); }

/**
 * @param {string} title
 * @param {number} height
 * @param {object[]} series
 * @param {boolean} [withSoc] a right-hand % axis for state of charge
 * @returns {any}
 */
export function chartOptions(title, height, series, withSoc = true) {
  /** @type {object[]} */
  const axes = [{ stroke: css("--muted"), grid: { stroke: css("--chart-grid") } },
    { stroke: css("--muted"), grid: { stroke: css("--chart-grid") }, label: "W", size: 60 }];
  if (withSoc) axes.push({ scale: "%", side: 1, stroke: css("--muted"), grid: { show: false }, label: "%" });
  return { title, width: chartWidth(), height, series: [{}, ...series], axes,
    scales: { "%": { range: [0, 100] } }, legend: { live: true }, cursor: { drag: { x: true, y: false } } };
}

/**
 * @param {any} _u
 * @param {number | null} v
 */
const asWatts = (_u, v) => watts(v);
/**
 * @param {any} _u
 * @param {number | null} v
 */
const asPercent = (_u, v) => number(v, 0);

/** The dashboard's series: grid, batteries, setpoint, SoC. */
export function powerSeries() {
  return [
    { label: "Grid W", stroke: css("--import"), width: 2, value: asWatts },
    { label: "Batteries W", stroke: css("--accent"), width: 2, value: asWatts },
    { label: "Setpoint W", stroke: css("--muted"), width: 1, dash: [4, 4], value: asWatts },
    { label: "SoC %", scale: "%", stroke: css("--focus"), width: 1, value: asPercent },
  ];
}

/** The history's series: grid, batteries, house, SoC. */
/** @param {boolean} [phases] also the grid per phase (thin, dashed) */
export function historySeries(phases = false) {
  /** @type {{label: string, stroke: string, width: number, value: Function, scale?: string, dash?: number[]}[]} */
  const series = [
    { label: "Grid W", stroke: css("--import"), width: 1.5, value: asWatts },
    { label: "Batteries W", stroke: css("--accent"), width: 1.5, value: asWatts },
    { label: "House (load − PV) W", stroke: css("--muted"), width: 1, value: asWatts },
    { label: "SoC %", scale: "%", stroke: css("--focus"), width: 1, value: asPercent },
  ];
  if (phases) {
    /** @type {[string, number[]][]} */
    const dashes = [["A", [2, 2]], ["B", [6, 3]], ["C", [10, 3, 2, 3]]];
    for (const [letter, dash] of dashes) {
      series.push({ label: `Grid ${letter} W`, stroke: css("--import"), width: 0.75, dash, value: asWatts });
    }
  }
  return series;
}

export function resizeCharts() {
  const width = chartWidth();
  for (const chart of Object.values(charts)) if (chart) chart.setSize({ width, height: chart.height });
}
