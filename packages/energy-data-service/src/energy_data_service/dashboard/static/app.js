// The page's start: read the catalogue, detect what the API offers (as-of reads, versions),
// then draw coverage, the chart and operations. Everything the page has drawn is also kept in
// ``window.dashboard`` so tests and curious users can read the numbers behind the pixels.
//
// The URL holds the view (?area=DE_LU&data_type=actual_load&start=…&end=…&coverage_start=…),
// so a view can be bookmarked and shared.

import { apiKey, config, forgetKey, getJson, storedKey } from "./api.js";
import * as chart from "./chart.js";
import { loadCoverage } from "./coverage.js";
import { refreshOperations, setUpBackfillForm } from "./operations.js";
import * as time from "./time.js";

// ENTSO-E production types (psrType), offered when the API filters by them.
const PSR_TYPES = {
  B01: "Biomass", B02: "Lignite", B03: "Coal-derived gas", B04: "Fossil gas", B05: "Hard coal",
  B06: "Oil", B07: "Oil shale", B08: "Peat", B09: "Geothermal", B10: "Hydro pumped storage",
  B11: "Hydro run-of-river", B12: "Hydro water reservoir", B13: "Marine", B14: "Nuclear",
  B15: "Other renewable", B16: "Solar", B17: "Waste", B18: "Wind offshore", B19: "Wind onshore",
  B20: "Other", B25: "Energy storage",
};

const dashboard = {
  config,
  features: { asOf: false, versions: false, psrType: false },
  catalog: null,
  coverage: {},
  chart: {},
  operations: {},
  errors: [],
  ready: false,
  onPointClick: () => {},
  showSeries: () => {},
};
window.dashboard = dashboard;

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

function showError(error) {
  dashboard.errors.push(String(error.message || error));
  const box = $("error");
  box.hidden = false;
  box.textContent = String(error.message || error);
}

function fillSelect(select, options, selected) {
  select.replaceChildren(
    ...options.map(({ value, text }) => {
      const option = document.createElement("option");
      option.value = value;
      option.textContent = text;
      option.selected = value === selected;
      return option;
    }),
  );
}

async function detectFeatures() {
  try {
    const schema = await getJson("/openapi.json"); // behind the key too when API__KEYS is set
    const read = schema.paths?.["/api/v1/energy-data"]?.get;
    dashboard.features.asOf = Boolean(read?.parameters?.some((p) => p.name === "as_of"));
    dashboard.features.versions = Boolean(schema.paths?.["/api/v1/energy-data/versions"]);
    dashboard.features.psrType = Boolean(read?.parameters?.some((p) => p.name === "psr_type"));
  } catch {
    // no schema: the optional controls stay hidden
  }
  $("as-of-label").hidden = !dashboard.features.asOf;
  $("psr-label").hidden = !dashboard.features.psrType;
  $("psr-types").replaceChildren(
    ...Object.entries(PSR_TYPES).map(([code, name]) => Object.assign(document.createElement("option"), { value: code, label: name })),
  );
  $("chart-as-of").max = new Date().toISOString().slice(0, 16); // the API refuses the future
  if (params.get("as_of")) $("chart-as-of").value = params.get("as_of").slice(0, 16);
}

function newestSeries(catalog, area, dataType) {
  return catalog.series
    .filter((s) => (!area || s.area === area) && (!dataType || s.data_type === dataType))
    .sort((a, b) => Date.parse(b.last) - Date.parse(a.last))[0];
}

/** The chart's request from the form (area, type, UTC dates, options). */
function chartRequest() {
  const area = dashboard.catalog.areas.find((a) => a.area === $("chart-area").value);
  const asOf = dashboard.features.asOf && $("chart-as-of").value ? `${$("chart-as-of").value}:00Z` : null;
  return {
    area: area.area,
    areaName: area.area,
    timeZone: area.time_zone,
    dataType: $("chart-type").value,
    start: time.dayStart($("chart-start").value),
    end: time.dayStart($("chart-end").value),
    compare: $("chart-compare").checked,
    psrType: dashboard.features.psrType && $("chart-psr").value.trim() ? $("chart-psr").value.trim().toUpperCase() : null,
    resolution: params.get("resolution") || null,
    asOf,
  };
}

function syncUrl() {
  const next = new URLSearchParams(location.search);
  next.set("area", $("chart-area").value);
  next.set("data_type", $("chart-type").value);
  next.set("start", $("chart-start").value);
  next.set("end", $("chart-end").value);
  next.set("coverage_start", $("coverage-start").value);
  next.set("coverage_end", $("coverage-end").value);
  if ($("chart-as-of").value && dashboard.features.asOf) next.set("as_of", $("chart-as-of").value);
  else next.delete("as_of");
  history.replaceState(null, "", `?${next}`);
}

async function drawFromForm() {
  $("compare-label").hidden = $("chart-type").value !== "actual_load";
  const request = chartRequest();
  syncUrl();
  await chart.drawChart(request, dashboard.features);
}

function coverageRequest() {
  const catalog = dashboard.catalog;
  const types = catalog.data_types.filter((t) => t.configured || t.stored).map((t) => t.name);
  return {
    start: time.dayStart($("coverage-start").value),
    end: time.dayStart($("coverage-end").value),
    areas: catalog.areas.map((a) => a.area),
    dataTypes: types,
  };
}

function firstRun(catalog, health) {
  const off = health.scheduler?.collection === "off";
  $("service-status").textContent = off
    ? `collection off · ${health.database?.backend || "?"}`
    : `collecting · ${health.database?.backend || "?"}${health.scheduler?.leader ? " · leader" : ""}`;
  $("service-status").className = off ? "pill pill-off" : "pill pill-on";
  if (!catalog.collection.token_configured) {
    $("first-run").hidden = false;
    $("first-run-reason").textContent = health.scheduler?.reason || catalog.collection.reason || "";
  }
  $("nothing-stored").hidden = catalog.series.length > 0;
  if (!catalog.series.length) $("first-run").hidden = false;
}

function wireControls() {
  $("coverage-form").addEventListener("submit", (event) => {
    event.preventDefault();
    syncUrl();
    loadCoverage(coverageRequest()).catch(showError);
  });
  $("chart-form").addEventListener("submit", (event) => {
    event.preventDefault();
    drawFromForm().catch(showError);
  });
  $("chart-type").addEventListener("change", () => {
    $("compare-label").hidden = $("chart-type").value !== "actual_load";
  });
  $("pan-left").addEventListener("click", () => chart.pan(-0.25));
  $("pan-right").addEventListener("click", () => chart.pan(0.25));
  $("zoom-in").addEventListener("click", () => chart.zoom(0.5));
  $("zoom-out").addEventListener("click", () => chart.zoom(2));
  $("zoom-reset").addEventListener("click", chart.resetZoom);
  $("chart").addEventListener("keydown", chart.onKey);
  $("download-csv").addEventListener("click", () => chart.download("csv").catch(showError));
  $("download-parquet").addEventListener("click", () => chart.download("parquet").catch(showError));
  $("forget-key").hidden = !config.keys_required;
  $("forget-key").addEventListener("click", () => {
    forgetKey();
    location.reload();
  });
  let resizing = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(chart.resize, 150);
  });
  dashboard.showSeries = (area, dataType) => {
    $("chart-area").value = area;
    $("chart-type").value = dataType;
    const stored = newestSeries(dashboard.catalog, area, dataType);
    if (stored && !params.get("start")) {
      const end = time.addDays(time.isoDay(new Date(stored.last)), 1);
      $("chart-start").value = time.addDays(end, -7);
      $("chart-end").value = end;
    }
    drawFromForm().catch(showError);
    $("chart-section").scrollIntoView({ behavior: "instant" });
  };
  dashboard.onPointClick = (timestamp, line) => {
    if (dashboard.features.versions) chart.showVersions(timestamp, line).catch(showError);
  };
}

async function start() {
  wireControls();
  await apiKey(); // asks once when API__KEYS is set and no key is stored
  let first = Promise.resolve();
  const named = params.get("area") && params.get("data_type") && params.get("start") && params.get("end");
  if (named && !params.get("as_of")) {
    first = chart.prefetch({
      area: params.get("area"),
      dataType: params.get("data_type"),
      start: time.dayStart(params.get("start")),
      end: time.dayStart(params.get("end")),
      resolution: params.get("resolution") || null,
    });
  }
  await first; // the points first: the small reads after them do not slow them down
  const features = detectFeatures();
  const [catalog, health] = await Promise.all([getJson("/api/v1/catalog"), getJson("/api/v1/health")]);
  dashboard.catalog = catalog;
  firstRun(catalog, health);

  const today = time.isoDay(new Date());
  const area = params.get("area") || newestSeries(catalog)?.area || catalog.areas[0]?.area || "";
  const dataType = params.get("data_type") || newestSeries(catalog, area)?.data_type || "actual_load";
  const stored = newestSeries(catalog, area, dataType);
  const chartEnd = params.get("end") || (stored ? time.addDays(time.isoDay(new Date(stored.last)), 1) : time.addDays(today, 1));
  const chartStart = params.get("start") || time.addDays(chartEnd, -7);
  fillSelect($("chart-area"), catalog.areas.map((a) => ({ value: a.area, text: a.area })), area);
  fillSelect($("chart-type"), catalog.data_types.map((t) => ({ value: t.name, text: t.name.replaceAll("_", " ") })), dataType);
  $("chart-start").value = chartStart;
  $("chart-end").value = chartEnd;
  $("chart-compare").checked = params.get("compare") === "1";
  $("coverage-end").value = params.get("coverage_end") || time.addDays(today, 1);
  $("coverage-start").value = params.get("coverage_start") || time.addDays($("coverage-end").value, -7);
  $("forget-key").hidden = !config.keys_required || !storedKey();

  setUpBackfillForm(catalog, { area, dataType, start: time.addDays(today, -30), end: today });
  // The chart's points first: the rest shares the one server and would only delay them.
  if (params.get("as_of")) await features; // the as-of control must exist before the first draw
  const drawn = drawFromForm();
  const rest = drawn.catch(() => {}).then(() => Promise.allSettled([loadCoverage(coverageRequest()), refreshOperations()]));
  const results = [...(await Promise.allSettled([features, drawn])), ...(await rest)];
  for (const result of results) if (result.status === "rejected") showError(result.reason);
  dashboard.ready = true;
}

start().catch(showError);
