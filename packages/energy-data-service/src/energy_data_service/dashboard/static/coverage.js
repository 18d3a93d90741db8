// The coverage heat map: areas × data types, % of the window stored, a cell per button so the
// keyboard reaches every one; a selected cell lists its gaps, its last successful collection
// and the staleness verdict of monitoring.

import { getJson, query } from "./api.js";
import * as time from "./time.js";

function state() {
  return window.dashboard.coverage;
}

/** Green for complete, through amber, to red for empty; text stays dark on every shade. */
function shade(percent) {
  if (percent >= 99.95) return "#bbf7d0";
  if (percent >= 95) return "#d9f99d";
  if (percent >= 75) return "#fef08a";
  if (percent >= 25) return "#fed7aa";
  if (percent > 0) return "#fecaca";
  return "#f3f4f6";
}

export async function loadCoverage({ start, end, areas, dataTypes }) {
  const [coverage, health, staleness] = await Promise.all([
    getJson(`/api/v1/coverage?${query({ area_code: areas, data_type: dataTypes, start_time: start, end_time: end })}`),
    getJson("/api/v1/health"),
    getJson("/api/v1/monitoring/staleness").catch(() => []),
  ]);
  const lastSuccess = new Map(health.series?.map((s) => [`${s.area}/${s.data_type}`, s.last_success_at]) || []);
  const verdicts = new Map(staleness.map((s) => [`${s.area}/${s.data_type}`, s]));
  const cells = coverage.series.map((s) => ({
    area: s.area,
    areaCode: s.area_code,
    dataType: s.data_type,
    percent: s.percent_complete,
    gaps: s.gaps.map((g) => ({ start: g.start, end: g.end })),
    lastSuccessAt: lastSuccess.get(`${s.area}/${s.data_type}`) || null,
    staleness: verdicts.get(`${s.area}/${s.data_type}`) || null,
  }));
  Object.assign(state(), { start: coverage.start_time, end: coverage.end_time, cells, loadedAt: performance.now() });
  render(cells, areas, dataTypes);
  return cells;
}

function render(cells, areas, dataTypes) {
  const byKey = new Map(cells.map((c) => [`${c.area}/${c.dataType}`, c]));
  const table = document.createElement("table");
  table.className = "heat";
  const caption = table.createCaption();
  caption.textContent = "Stored share of the window per area and data type";
  caption.className = "visually-hidden";
  const head = table.createTHead().insertRow();
  head.append(Object.assign(document.createElement("th"), { textContent: "area" }));
  for (const type of dataTypes) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = type.replaceAll("_", " ");
    head.append(th);
  }
  const body = table.createTBody();
  const areaNames = [...new Set(cells.map((c) => c.area))];
  for (const area of areaNames) {
    const row = body.insertRow();
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = area;
    row.append(th);
    for (const type of dataTypes) {
      const cell = byKey.get(`${area}/${type}`);
      const td = row.insertCell();
      if (!cell) continue;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "cell";
      button.dataset.area = area;
      button.dataset.dataType = type;
      button.style.backgroundColor = shade(cell.percent);
      const stale = cell.staleness?.stale ? " ⚠" : "";
      button.textContent = `${formatPercent(cell.percent)}${stale}`;
      button.setAttribute(
        "aria-label",
        `${area} ${type}: ${formatPercent(cell.percent)} stored, ${cell.gaps.length} gaps${stale ? ", stale" : ""}`,
      );
      button.addEventListener("click", () => showDetail(cell));
      td.append(button);
    }
  }
  document.getElementById("heatmap").replaceChildren(table);
}

function formatPercent(percent) {
  return percent >= 99.95 || percent === 0 ? `${Math.round(percent)}%` : `${percent.toFixed(1)}%`;
}

export function showDetail(cell) {
  state().selected = { area: cell.area, dataType: cell.dataType };
  const panel = document.getElementById("coverage-detail");
  panel.replaceChildren();
  const title = document.createElement("h3");
  title.textContent = `${cell.area} · ${cell.dataType}: ${formatPercent(cell.percent)} stored`;
  const facts = document.createElement("p");
  const last = cell.lastSuccessAt ? `${time.utc(cell.lastSuccessAt)} (${time.relative(cell.lastSuccessAt)})` : "never";
  let verdict = "not watched (not in COLLECTION__AREAS × COLLECTION__DATA_TYPES)";
  if (cell.staleness) {
    const s = cell.staleness;
    verdict = s.stale
      ? `stale: data should reach ${time.utc(s.expected_end)}, stored until ${s.last_end ? time.utc(s.last_end) : "nothing"}`
      : `fresh (expected until ${time.utc(s.expected_end)})`;
  }
  facts.textContent = `Last successful collection: ${last}. Staleness: ${verdict}.`;
  const show = document.createElement("button");
  show.type = "button";
  show.textContent = "Show in chart";
  show.addEventListener("click", () => window.dashboard.showSeries(cell.area, cell.dataType));
  panel.append(title, facts, show);
  const list = document.createElement("ul");
  list.className = "gaps";
  for (const gap of cell.gaps.slice(0, 200)) {
    const seconds = (Date.parse(gap.end) - Date.parse(gap.start)) / 1000;
    const item = document.createElement("li");
    item.textContent = `${time.utc(gap.start)} → ${time.utc(gap.end)} (${time.span(seconds)})`;
    list.append(item);
  }
  const heading = document.createElement("h4");
  heading.textContent = cell.gaps.length
    ? `${cell.gaps.length} gap${cell.gaps.length === 1 ? "" : "s"}${cell.gaps.length > 200 ? " (first 200)" : ""}`
    : "No gaps in this window.";
  panel.append(heading, list);
}
