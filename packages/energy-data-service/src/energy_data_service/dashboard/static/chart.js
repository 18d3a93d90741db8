// The series chart: uPlot over every point asked for (no thinning), x axis in the area's local
// time, UTC beside it in the legend, zoom by drag / wheel / keys, pan by keys / shift-drag.

import { getBlob, getJson, query } from "./api.js";
import { holes, label, readSeries, withBreaks } from "./series.js";
import * as time from "./time.js";

const COLOURS = ["#1f5fbf", "#c2410c", "#15803d", "#7e22ce", "#b91c1c"];
const MAX_EXTRA_SERIES = 4;

const stepped = uPlot.paths.stepped({ align: 1 });
let plot = null;
let current = null; // the request the chart shows
let prefetched = null; // {key, read}: the first read, started before the catalogue arrived

function readKey({ area, dataType, start, end, resolution, asOf, psrType }) {
  return JSON.stringify([area, dataType, start, end, resolution || null, asOf || null, psrType || null]);
}

/** Start reading the series the URL names before the rest of the page loads; resolves (never
 * rejects) when the points are in, so the page can hold back its other reads until then. */
export function prefetch(request) {
  prefetched = { key: readKey(request), read: readSeries(request) };
  return prefetched.read.then(
    () => undefined,
    () => undefined, // a failure is reported by the drawChart that uses it
  );
}

function mainRead(request) {
  if (prefetched && prefetched.key === readKey(request)) {
    const { read } = prefetched;
    prefetched = null;
    return read;
  }
  return readSeries(request);
}

function state() {
  return window.dashboard.chart;
}

/** Read what ``request`` asks for and draw it; resolves once the chart is drawn. */
export async function drawChart(request, features) {
  const began = performance.now();
  current = request;
  const summary = document.getElementById("chart-summary");
  summary.textContent = "loading…";
  const main = await mainRead(request);
  state().dataAt = performance.now();
  const lines = [];
  if (main.info) lines.push(line(request.dataType, main));
  const extra = request.resolution ? [] : main.others.slice(0, MAX_EXTRA_SERIES);
  const reads = extra.map((info) =>
    readSeries({ ...request, resolution: info.resolution, sequence: info.classification_sequence }),
  );
  if (request.compare && request.dataType !== "day_ahead_forecast") {
    reads.push(
      readSeries({ ...request, dataType: "day_ahead_forecast", resolution: null, sequence: null, psrType: null }),
    );
  }
  const names = [...extra.map(() => request.dataType), "day_ahead_forecast"];
  (await Promise.all(reads)).forEach((read, i) => {
    if (read.info) lines.push(line(names[i], read));
  });
  if (request !== current) return; // a newer request replaced this one meanwhile
  render(request, lines);
  const points = lines.reduce((sum, l) => sum + l.timestamps.length, 0);
  summary.textContent = lines.length
    ? `${points.toLocaleString("en")} points, ${lines.length} series, times in ${request.timeZone} (UTC in the legend)`
    : `Nothing stored for ${request.dataType} in ${request.areaName} in this range.`;
  Object.assign(state(), { loadMs: performance.now() - began });
}

function line(dataType, read) {
  const gaps = holes(read.timestamps, read.info.resolution);
  return {
    dataType,
    label: label(dataType, read.info),
    resolution: read.info.resolution,
    sequence: read.info.classification_sequence,
    unit: read.info.unit,
    timestamps: read.timestamps,
    values: read.values,
    gaps,
  };
}

function aligned(lines) {
  const tables = lines.map((l) => withBreaks(l.timestamps, l.values, l.gaps));
  if (tables.length === 0) return [[]];
  if (tables.length === 1) return tables[0];
  return uPlot.join(tables); // nulls kept (breaks), alignment holes undefined (bridged)
}

/** Where one resolution hands over to another (the SDAC switch from PT60M to PT15M). */
function switches(lines) {
  const byResolution = new Map();
  for (const l of lines) {
    if (!l.timestamps.length || byResolution.has(l.resolution) || l.dataType !== lines[0].dataType) continue;
    byResolution.set(l.resolution, [l.timestamps[0], l.timestamps[l.timestamps.length - 1]]);
  }
  const spans = [...byResolution.entries()].sort((a, b) => a[1][0] - b[1][0]);
  const found = [];
  for (let i = 1; i < spans.length; i++) {
    found.push({ from: spans[i - 1][0], to: spans[i][0], at: spans[i][1][0] });
  }
  return found;
}

function render(request, lines) {
  const container = document.getElementById("chart");
  if (plot) plot.destroy();
  plot = null;
  const data = aligned(lines);
  const handovers = switches(lines);
  const note = document.getElementById("resolution-note");
  note.hidden = handovers.length === 0;
  note.textContent = handovers
    .map((s) => `Resolution switches from ${s.from} to ${s.to} at ${time.local(s.at, request.timeZone)} (${time.utc(s.at)}).`)
    .join(" ");
  Object.assign(state(), {
    area: request.areaName,
    dataType: request.dataType,
    start: request.start,
    end: request.end,
    timeZone: request.timeZone,
    lines: lines.map(({ dataType, label: name, resolution, sequence, unit, timestamps, values, gaps }) => ({
      dataType, label: name, resolution, sequence, unit, timestamps, values, gaps,
    })),
    switches: handovers,
    data,
    drawnAt: null,
  });
  if (!lines.length) return;
  const tz = request.timeZone;
  const unit = lines[0].unit;
  const options = {
    width: Math.max(container.clientWidth, 320),
    height: 340,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), tz),
    scales: { x: { time: true } },
    cursor: { drag: { x: true, y: false }, focus: { prox: 16 } },
    legend: { live: true },
    series: [
      { label: "Time", value: (u, v) => (v == null ? "–" : `${time.local(v, tz)} · ${time.utc(v)}`) },
      ...lines.map((l, i) => ({
        label: l.label,
        stroke: COLOURS[i % COLOURS.length],
        width: 1.25,
        spanGaps: false,
        points: { show: false },
        paths: l.dataType.endsWith("_prices") ? stepped : undefined, // a price holds for its interval
        value: (u, v) => (v == null ? "–" : `${v.toLocaleString("en", { maximumFractionDigits: 2 })} ${l.unit}`),
      })),
    ],
    axes: [
      { stroke: "#1f2937", grid: { stroke: "#e5e7eb" }, size: 44, values: (u, splits, ax, space, incr) => ticks(splits, incr, tz) },
      { stroke: "#1f2937", grid: { stroke: "#e5e7eb" }, size: 72, label: unit, labelSize: 18 },
    ],
    hooks: {
      draw: [
        (u) => {
          drawSwitches(u, handovers);
          const chart = state();
          if (chart.drawnAt === null) chart.drawnAt = performance.now();
          chart.drawCount = (chart.drawCount || 0) + 1;
          chart.view = { min: u.scales.x.min, max: u.scales.x.max };
        },
      ],
    },
  };
  plot = new uPlot(options, data, container);
  window.dashboard.plot = plot;
  installPanAndWheel(plot);
}

/** 24-hour local ticks: "13:00", the date under each local midnight, dates alone when days apart. */
function ticks(splits, increment, timeZone) {
  return splits.map((v) => {
    const [day, clock] = time.local(v, timeZone).split(" ");
    const date = `${day.slice(8, 10)}.${day.slice(5, 7)}.`;
    if (increment >= 86400) return increment >= 86400 * 28 ? day.slice(0, 7) : date;
    return clock === "00:00" ? `${clock}\n${date}` : clock;
  });
}

function drawSwitches(u, handovers) {
  const ctx = u.ctx;
  for (const s of handovers) {
    const x = Math.round(u.valToPos(s.at, "x", true));
    if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
    ctx.save();
    ctx.strokeStyle = "#7e22ce";
    ctx.setLineDash([6, 4]);
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(x, u.bbox.top);
    ctx.lineTo(x, u.bbox.top + u.bbox.height);
    ctx.stroke();
    ctx.fillStyle = "#7e22ce";
    ctx.font = `${12 * devicePixelRatio}px sans-serif`;
    ctx.fillText(`${s.from} → ${s.to}`, x + 4, u.bbox.top + 14 * devicePixelRatio);
    ctx.restore();
  }
}

function installPanAndWheel(u) {
  const over = u.over;
  over.addEventListener(
    "wheel",
    (event) => {
      event.preventDefault();
      const at = u.posToVal(event.offsetX, "x");
      zoom(event.deltaY < 0 ? 0.75 : 1 / 0.75, at);
    },
    { passive: false },
  );
  let pressed = null;
  over.addEventListener(
    "mousedown",
    (event) => {
      pressed = { x: event.clientX, y: event.clientY, min: u.scales.x.min, max: u.scales.x.max };
      if (!event.shiftKey) return;
      event.stopPropagation(); // shift-drag pans instead of selecting
      const perPixel = (pressed.max - pressed.min) / u.bbox.width * devicePixelRatio;
      const move = (e) => {
        const shift = (e.clientX - pressed.x) * perPixel;
        u.setScale("x", { min: pressed.min - shift, max: pressed.max - shift });
      };
      const up = () => {
        document.removeEventListener("mousemove", move);
        document.removeEventListener("mouseup", up);
      };
      document.addEventListener("mousemove", move);
      document.addEventListener("mouseup", up);
    },
    true,
  );
  over.addEventListener("click", (event) => {
    if (!pressed || Math.abs(event.clientX - pressed.x) > 3) return; // that was a drag
    const idx = u.cursor.idx;
    if (idx == null) return;
    // The point of the first line that has a value there (several lines may share the x).
    const at = u.data.slice(1).findIndex((ys) => ys[idx] != null);
    if (at >= 0) window.dashboard.onPointClick(u.data[0][idx], state().lines[at]);
  });
}

function bounds() {
  const { data } = state();
  return data && data[0].length ? [data[0][0], data[0][data[0].length - 1]] : null;
}

export function zoom(factor, at) {
  if (!plot) return;
  const { min, max } = plot.scales.x;
  const centre = at ?? (min + max) / 2;
  plot.setScale("x", { min: centre - (centre - min) * factor, max: centre + (max - centre) * factor });
}

export function pan(fraction) {
  if (!plot) return;
  const { min, max } = plot.scales.x;
  const shift = (max - min) * fraction;
  plot.setScale("x", { min: min + shift, max: max + shift });
}

export function resetZoom() {
  const all = bounds();
  if (plot && all) plot.setScale("x", { min: all[0], max: all[1] });
}

export function onKey(event) {
  const actions = {
    ArrowLeft: () => pan(-0.25),
    ArrowRight: () => pan(0.25),
    "+": () => zoom(0.5),
    "=": () => zoom(0.5),
    "-": () => zoom(2),
    Home: resetZoom,
    "0": resetZoom,
  };
  const action = actions[event.key];
  if (action) {
    event.preventDefault();
    action();
  }
}

export function resize() {
  const container = document.getElementById("chart");
  if (plot) plot.setSize({ width: Math.max(container.clientWidth, 320), height: 340 });
}

/** The range the chart shows now (zoomed or not), as ISO instants, for the export. */
export function shownRange() {
  const request = current;
  if (!request) return null;
  if (!plot) return { start: request.start, end: request.end };
  const all = bounds();
  const { min, max } = plot.scales.x;
  const zoomed = all && (min > all[0] || max < all[1]);
  if (!zoomed) return { start: request.start, end: request.end };
  return { start: new Date(min * 1000).toISOString(), end: new Date(max * 1000).toISOString() };
}

/** Save the shown range through the API's export (``format=csv|parquet``). */
export async function download(format) {
  const request = current;
  const range = shownRange();
  if (!request || !range) return;
  const path = `/api/v1/energy-data?${query({
    area_code: request.area,
    data_type: request.dataType,
    start_time: range.start,
    end_time: range.end,
    format,
    resolution: request.resolution,
    as_of: request.asOf,
    psr_type: request.psrType,
  })}`;
  const { blob, disposition } = await getBlob(path);
  const match = /filename="([^"]+)"/.exec(disposition || "");
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = match ? match[1] : `${request.areaName}_${request.dataType}.${format}`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  window.dashboard.lastDownload = { path, bytes: blob.size, name: link.download };
}

/** The stored versions of one point, when the API offers ``/energy-data/versions``. */
export async function showVersions(timestamp, line) {
  const request = current;
  const panel = document.getElementById("versions");
  if (!request) return;
  const iso = new Date(timestamp * 1000).toISOString();
  const body = await getJson(
    `/api/v1/energy-data/versions?${query({
      area_code: request.area,
      data_type: line ? line.dataType : request.dataType,
      timestamp: iso,
      resolution: line?.resolution,
      classification_sequence: line?.sequence,
      psr_type: request.psrType,
    })}`,
  );
  const rows = Array.isArray(body) ? body : body.versions || [];
  window.dashboard.versions = { timestamp: iso, rows };
  panel.hidden = false;
  panel.replaceChildren();
  const title = document.createElement("h3");
  const what = line ? `${line.label} at ` : "";
  title.textContent = `Versions of ${what}${time.local(timestamp, request.timeZone)} (${time.utc(timestamp)})`;
  panel.append(title);
  if (!rows.length) {
    panel.append(Object.assign(document.createElement("p"), { textContent: "No versions stored." }));
    return;
  }
  const columns = Object.keys(rows[0]);
  const table = document.createElement("table");
  const head = table.createTHead().insertRow();
  for (const name of columns) head.append(Object.assign(document.createElement("th"), { textContent: name }));
  const tbody = table.createTBody();
  for (const row of rows) {
    const tr = tbody.insertRow();
    for (const name of columns) {
      const value = row[name];
      tr.insertCell().textContent = value !== null && typeof value === "object" ? JSON.stringify(value) : String(value ?? "");
    }
  }
  panel.append(table);
}
