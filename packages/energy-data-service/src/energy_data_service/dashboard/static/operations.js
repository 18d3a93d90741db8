// Operations: open alerts (acknowledge), scheduled jobs, backfills with live progress and a form
// to start one, and the newest day's data-quality scores. Polled; faster while a backfill runs.

import { ApiError, getJson, postJson, query } from "./api.js";
import * as time from "./time.js";

const SLOW_POLL_MS = 15_000;
const FAST_POLL_MS = 1_000;
let timer = null;

function state() {
  return window.dashboard.operations;
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function table(columns, rows) {
  const t = el("table");
  const head = t.createTHead().insertRow();
  for (const c of columns) head.append(el("th", c));
  const body = t.createTBody();
  for (const cells of rows) {
    const tr = body.insertRow();
    for (const cell of cells) {
      const td = tr.insertCell();
      if (cell instanceof Node) td.append(cell);
      else td.textContent = cell ?? "";
    }
  }
  return t;
}

export async function refreshOperations() {
  clearTimeout(timer);
  const results = await Promise.allSettled([loadAlerts(), loadJobs(), loadBackfills(), loadQuality()]);
  const failed = results.find((r) => r.status === "rejected");
  state().loadedAt = performance.now();
  const running = (state().backfills || []).some((b) => b.status === "running");
  timer = setTimeout(() => refreshOperations().catch(() => {}), running ? FAST_POLL_MS : SLOW_POLL_MS);
  if (failed) throw failed.reason;
}

async function loadAlerts() {
  const alerts = await getJson("/api/v1/alerts?state=open");
  state().alerts = alerts;
  const target = document.getElementById("alerts");
  if (!alerts.length) {
    target.replaceChildren(el("p", "No open alerts.", "hint"));
    return;
  }
  const shown = alerts.slice(0, 10);
  const rows = shown.map((alert) => {
    const button = el("button", "Acknowledge");
    button.type = "button";
    button.setAttribute("aria-label", `Acknowledge alert ${alert.id}: ${alert.rule} ${alert.subject}`);
    button.addEventListener("click", async () => {
      button.disabled = true;
      await postJson(`/api/v1/alerts/${alert.id}/acknowledge`, { by: "dashboard" });
      await loadAlerts();
    });
    return [button, alert.rule, alert.subject, time.utc(alert.opened_at), alert.message];
  });
  const more = alerts.length > shown.length ? [el("p", `and ${alerts.length - shown.length} more (GET /api/v1/alerts?state=open)`, "hint")] : [];
  target.replaceChildren(table(["", "rule", "subject", "opened", "message"], rows), ...more);
}

async function loadJobs() {
  const jobs = await getJson("/api/v1/jobs");
  state().jobs = jobs;
  const rows = jobs.map((job) => {
    const last = job.last_execution;
    const outcome = last
      ? `${last.outcome}${last.points != null ? `, ${last.points} points` : ""}${last.error ? `: ${last.error}` : ""} (${time.relative(last.started_at)})`
      : "never ran";
    return [
      job.id,
      job.schedule,
      job.running ? "running now" : job.next_run_at ? `${time.utc(job.next_run_at)} (${time.relative(job.next_run_at)})` : "not scheduled here",
      outcome,
    ];
  });
  document.getElementById("jobs").replaceChildren(
    jobs.length ? table(["job", "schedule", "next run", "last outcome"], rows) : el("p", "No jobs.", "hint"),
  );
}

async function loadBackfills() {
  const listed = await getJson("/api/v1/backfill");
  const recent = listed.slice(0, 8);
  // Chunk counts of a finished backfill no longer change: read them once after it finished.
  const known = state().chunks || {};
  const detailed = await Promise.all(
    recent.map((b) =>
      b.status === "running" || known[b.id]?.status !== b.status ? getJson(`/api/v1/backfill/${b.id}`) : b,
    ),
  );
  for (const b of detailed) if (b.chunks) known[b.id] = { status: b.status, counts: b.chunks };
  state().chunks = known;
  state().backfills = detailed.map((b) => ({ ...b, chunks: known[b.id]?.counts || null }));
  const target = document.getElementById("backfills");
  if (!detailed.length) {
    target.replaceChildren(el("p", "No backfills yet.", "hint"));
    return;
  }
  const rows = state().backfills.map((b) => {
    const counts = b.chunks || {};
    const total = Object.values(counts).reduce((a, n) => a + n, 0);
    const done = counts.done || 0;
    const progress = el("progress");
    progress.max = total || 1;
    progress.value = done;
    progress.setAttribute("aria-label", `backfill ${b.id}: ${done} of ${total} chunks`);
    const cell = el("span", "", "progress");
    cell.dataset.backfillId = String(b.id);
    cell.append(progress, el("span", ` ${done}/${total}${counts.failed ? `, ${counts.failed} failed` : ""}`));
    return [
      String(b.id),
      `${b.areas.join(", ")} · ${b.data_types.join(", ")}`,
      `${b.start.slice(0, 10)} → ${b.end.slice(0, 10)}`,
      b.status + (b.error ? `: ${b.error}` : ""),
      cell,
    ];
  });
  target.replaceChildren(table(["id", "series", "range", "status", "chunks"], rows));
}

/** Scores of the coverage window's days (the newest day shown), at most the API's 366 days. */
async function loadQuality() {
  const windowEnd = document.getElementById("coverage-end").value;
  const end = windowEnd ? time.addDays(windowEnd, -1) : null;
  const windowStart = document.getElementById("coverage-start").value;
  let start = end && windowStart ? windowStart : null;
  if (start && start < time.addDays(end, -365)) start = time.addDays(end, -365);
  if (start && start > end) start = end;
  const scores = await getJson(`/api/v1/quality/scores?${query({ start_date: start, end_date: end })}`);
  const newest = scores.reduce((day, s) => (s.day > day ? s.day : day), "");
  const today = scores.filter((s) => s.day === newest);
  state().quality = { day: newest || null, scores: today };
  const target = document.getElementById("quality");
  if (!today.length) {
    target.replaceChildren(
      el("p", "No quality scores yet: the report runs daily at 03:15 UTC, or now with `uv run energy-data quality`.", "hint"),
    );
    return;
  }
  const names = new Map((window.dashboard.catalog?.areas || []).map((a) => [a.area_code, a.area]));
  // Scores are per series: what sets one apart from the others of its area and type.
  const apart = (s) =>
    [
      s.psr_type,
      s.out_area_code && `\u2190 ${names.get(s.out_area_code) || s.out_area_code}`,
      s.contract_type,
      s.flow_direction,
      s.price_category,
      s.registered_resource,
    ]
      .filter(Boolean)
      .join(" ");
  const rows = today.map((s) => [
    names.get(s.area_code) || s.area_code,
    s.data_type,
    apart(s),
    s.score.toFixed(1),
    `${s.present}/${s.expected}`,
    String(s.invalid),
    String(s.outliers),
  ]);
  target.replaceChildren(
    el("p", `Local day ${newest}`, "hint"),
    table(["area", "data type", "series", "score", "present", "invalid", "outliers"], rows),
  );
}

/** The backfill form: JSON POST, then the list shows it and polls its progress. */
export function setUpBackfillForm(catalog, defaults) {
  const form = document.getElementById("backfill-form");
  const message = document.getElementById("backfill-message");
  const select = document.getElementById("backfill-types");
  select.replaceChildren(
    ...catalog.data_types.map((t) => {
      const option = el("option", t.name);
      option.value = t.name;
      option.selected = t.name === defaults.dataType;
      return option;
    }),
  );
  document.getElementById("backfill-areas").value = defaults.area || "";
  document.getElementById("backfill-start").value = defaults.start;
  document.getElementById("backfill-end").value = defaults.end;
  const submit = document.getElementById("backfill-submit");
  if (!catalog.collection.token_configured) {
    for (const control of form.elements) control.disabled = true;
    message.textContent = "Backfills fetch from the platform: set ENTSOE__API_TOKEN to start one.";
    return;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      areas: document.getElementById("backfill-areas").value.split(",").map((a) => a.trim()).filter(Boolean),
      data_types: [...select.selectedOptions].map((o) => o.value),
      start: time.dayStart(document.getElementById("backfill-start").value),
      end: time.dayStart(document.getElementById("backfill-end").value),
    };
    submit.disabled = true;
    try {
      const started = await postJson("/api/v1/backfill", body);
      state().started = started;
      message.textContent = `Backfill ${started.id} started.`;
      await refreshOperations();
    } catch (error) {
      message.textContent = error instanceof ApiError ? `Refused: ${error.message}` : String(error);
    } finally {
      submit.disabled = false;
    }
  });
}
