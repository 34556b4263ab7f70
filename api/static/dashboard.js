// @ts-check
// Draws GET /v1/stats (docs/api.md) as inline SVG and refreshes it every 5 s. Values from the
// data reach the page only as textContent or attribute values, never as markup. The API key is
// the web app's (one sign-in serves both pages): its module is imported from the app's files.

import { apiKey, authHeaders, setApiKey } from "/app/js/auth.js";

/** @import { Stats } from "/app/js/types.js" */

const REFRESH_MS = 5000;
const QUEUE_SAMPLES = 720; // an hour of refreshes
const SVG_NS = "http://www.w3.org/2000/svg";
const JOB_STATES = ["queued", "running", "succeeded", "failed", "cancelled"];
const PAD = { left: 48, right: 12, top: 10, bottom: 22 };

/**
 * A line chart's series
 * @typedef {{points: [number, number][], label: string, variant?: string, area?: boolean}} Series
 */
/** @typedef {(value: number) => string} Format */
/** @typedef {Record<string, string | number>} Attrs */

/** @type {{t: number, chunks: number, broker: number | null}[]} queue depths since the page opened */
const queueSamples = [];
/** @type {Stats | null} */
let latest = null;
let requested = 0;
let applied = 0;

/**
 * An element of dashboard.html
 * @param {string} id
 */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const windowSelect = /** @type {HTMLSelectElement} */ ($("window"));
const keyInput = /** @type {HTMLInputElement} */ ($("key"));
/** @param {string} id */
const chartById = (id) => /** @type {SVGSVGElement} */ (/** @type {unknown} */ ($(id)));

/**
 * @param {Element} parent
 * @param {string | null} namespace
 * @param {string} tag
 * @param {Attrs} [attrs]
 * @param {string} [text]
 * @returns {Element}
 */
function element(parent, namespace, tag, attrs = {}, text) {
  const node = namespace ? document.createElementNS(namespace, tag) : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  parent.appendChild(node);
  return node;
}
/** @type {(parent: Element, tag: string, attrs?: Attrs, text?: string) => Element} */
const svg = (parent, tag, attrs, text) => element(parent, SVG_NS, tag, attrs, text);
/** @type {(parent: Element, tag: string, attrs?: Attrs, text?: string) => Element} */
const html = (parent, tag, attrs, text) => element(parent, null, tag, attrs, text);

/**
 * @param {unknown} value
 * @returns {value is null | undefined}
 */
const missing = (value) => value === null || value === undefined;
/**
 * @param {number | null | undefined} value
 * @param {number} [digits] the most shown after the point
 */
function number(value, digits = 2) {
  if (missing(value)) return "—";
  return Number(value).toLocaleString(undefined, { maximumFractionDigits: digits });
}
/** @param {number | null | undefined} value */
function milliseconds(value) {
  if (missing(value)) return "—";
  return value >= 1000 ? `${number(value / 1000, 2)}\u00a0s` : `${number(value, 0)}\u00a0ms`;
}
/** @param {number} ms */
const clock = (ms) =>
  new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
/** @param {string} iso */
const dateTime = (iso) =>
  new Date(iso).toLocaleString([], {
    month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
  });

/**
 * 1, 2, 2.5 or 5 times a power of ten, at least `value`
 * @param {number} value
 */
function niceMax(value) {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return /** @type {number} */ ([1, 2, 2.5, 5, 10].map((m) => m * power).find((m) => m >= value * 0.999));
}

/**
 * Clears the chart and sizes its coordinate system to the pixels it has on screen
 * @param {SVGSVGElement} chart
 */
function frame(chart) {
  chart.replaceChildren();
  const box = chart.getBoundingClientRect();
  const width = Math.max(Math.round(box.width) || 600, 240);
  const height = Math.max(Math.round(box.height) || 200, 80);
  chart.setAttribute("viewBox", `0 0 ${width} ${height}`);
  return { width, height };
}

/** @param {SVGSVGElement} chart */
function showEmpty(chart, message = "no data yet") {
  const { width, height } = frame(chart);
  svg(chart, "text", {
    class: "empty", x: width / 2, y: height / 2, "text-anchor": "middle",
    "dominant-baseline": "middle",
  }, message);
}

/**
 * @param {SVGSVGElement} chart
 * @param {Series[]} series points: [time in ms, value]; variant: "" or "b" (the second colour)
 * @param {Format} format
 */
function lineChart(chart, series, format) {
  const points = series.flatMap((s) => s.points);
  if (!points.length) return showEmpty(chart);
  const { width, height } = frame(chart);
  const times = points.map(([t]) => t);
  let [t0, t1] = [Math.min(...times), Math.max(...times)];
  if (t0 === t1) [t0, t1] = [t0 - 1000, t1 + 1000];
  const top = niceMax(Math.max(...points.map(([, v]) => v)));
  /** @param {number} t */
  const x = (t) => PAD.left + ((t - t0) / (t1 - t0)) * (width - PAD.left - PAD.right);
  /** @param {number} v */
  const y = (v) => height - PAD.bottom - (v / top) * (height - PAD.top - PAD.bottom);

  for (const v of [0, top / 2, top]) {
    svg(chart, "line", { class: "axis", x1: PAD.left, x2: width - PAD.right, y1: y(v), y2: y(v) });
    svg(chart, "text", {
      class: "tick", x: PAD.left - 6, y: y(v), "text-anchor": "end", "dominant-baseline": "middle",
    }, format(v));
  }
  svg(chart, "text", { class: "tick", x: PAD.left, y: height - 4 }, clock(t0));
  svg(chart, "text", { class: "tick", x: width - PAD.right, y: height - 4, "text-anchor": "end" },
    clock(t1));

  for (const s of series) {
    if (!s.points.length) continue;
    const xy = s.points.map(([t, v]) => [x(t).toFixed(1), y(v).toFixed(1)]);
    const d = xy.map(([px, py], i) => `${i ? "L" : "M"}${px},${py}`).join("");
    if (s.area) {
      svg(chart, "path", { class: "area", d: `${d}L${xy[xy.length - 1][0]},${y(0)}L${xy[0][0]},${y(0)}Z` });
    }
    const values = s.points.map(([, v]) => v);
    const path = svg(chart, "path", {
      class: `series ${s.variant || ""}`.trim(), d, "data-value": values[values.length - 1],
      "data-max": Math.max(...values), "data-points": values.length,
    });
    svg(path, "title", {}, s.label);
    if (s.points.length === 1) {
      svg(chart, "circle", { class: `dot ${s.variant || ""}`.trim(), cx: xy[0][0], cy: xy[0][1], r: 3 });
    }
    s.points.forEach(([t, v], i) => {
      const hit = svg(chart, "circle", { class: "point", cx: xy[i][0], cy: xy[i][1], r: 4 });
      svg(hit, "title", {}, `${s.label} ${clock(t)}: ${format(v)}`);
    });
  }
}

/**
 * Horizontal bars, one a row; a row without a value is left out
 * @param {SVGSVGElement} chart
 * @param {{label: string, value: number | null}[]} rows
 * @param {Format} format
 */
function barChart(chart, rows, format) {
  const drawn = /** @type {{label: string, value: number}[]} */ (rows.filter((r) => !missing(r.value)));
  const rowHeight = 28;
  chart.style.height = `${Math.max(drawn.length * rowHeight + PAD.top + PAD.bottom, 120)}px`;
  if (!drawn.length) return showEmpty(chart);
  const { width } = frame(chart);
  const labelWidth = Math.min(width * 0.45, 12 + 7 * Math.max(...drawn.map((r) => r.label.length)));
  const valueWidth = 56;
  const top = niceMax(Math.max(...drawn.map((r) => r.value)));
  const span = width - labelWidth - valueWidth;
  drawn.forEach((row, i) => {
    const y0 = PAD.top + i * rowHeight;
    const barWidth = Math.max((row.value / top) * span, 1);
    svg(chart, "text", {
      class: "bar-label", x: labelWidth - 8, y: y0 + rowHeight / 2 - 2, "text-anchor": "end",
      "dominant-baseline": "middle",
    }, row.label);
    const bar = svg(chart, "rect", {
      class: "bar", x: labelWidth, y: y0 + 4, width: barWidth, height: rowHeight - 12, rx: 3,
      "data-value": row.value, "data-label": row.label,
    });
    svg(bar, "title", {}, `${row.label}: ${format(row.value)}`);
    svg(chart, "text", {
      class: "bar-value", x: labelWidth + barWidth + 6, y: y0 + rowHeight / 2 - 2,
      "dominant-baseline": "middle",
    }, format(row.value));
  });
  svg(chart, "line", {
    class: "axis", x1: labelWidth, x2: labelWidth, y1: PAD.top, y2: PAD.top + drawn.length * rowHeight,
  });
}

/** @param {Stats} stats */
function renderHeadline(stats) {
  $("fig-chars-per-second").textContent = number(stats.chars_per_second, 1);
  $("fig-audio-per-second").textContent = number(stats.audio_seconds_per_wall_second, 2);
  $("fig-chunks-done").textContent = number(stats.chunks_done, 0);
  $("fig-rtf").textContent =
    `${number(stats.inference_rtf.p50, 3)} / ${number(stats.inference_rtf.p95, 3)}`;
  $("fig-queue-wait").textContent =
    `${milliseconds(stats.queue_wait_ms.p50)} / ${milliseconds(stats.queue_wait_ms.p95)}`;
  $("fig-jobs").textContent = JOB_STATES.map((s) => `${s} ${number(stats.jobs[s] || 0, 0)}`)
    .join(" · ");
}

/** @param {Stats} stats */
function renderQueue(stats) {
  $("fig-chunks-queued").textContent = number(stats.queue_depth.chunks_queued, 0);
  $("fig-broker-messages").textContent = number(stats.queue_depth.broker_messages, 0);
  lineChart(chartById("chart-queue"), [
    { label: "chunks queued", points: queueSamples.map((q) => [q.t, q.chunks]) },
    {
      label: "broker messages", variant: "b",
      points: queueSamples.flatMap((q) => (missing(q.broker) ? [] : [/** @type {[number, number]} */ ([q.t, q.broker])])),
    },
  ], (v) => number(v, 1));
}

/** @param {Stats["recent_jobs"]} jobs */
function renderJobs(jobs) {
  const body = /** @type {HTMLTableElement} */ ($("recent-jobs")).tBodies[0];
  body.replaceChildren();
  if (!jobs.length) {
    html(html(body, "tr", { class: "empty" }), "td", { colspan: 7 }, "no jobs yet");
    return;
  }
  for (const job of jobs) {
    const row = html(body, "tr", { "data-job-id": job.id });
    html(html(row, "td"), "code", { title: job.id }, job.id.slice(0, 8));
    html(row, "td", { class: "title", title: job.title || "" }, job.title || "");
    const state = JOB_STATES.includes(job.status) ? job.status : "unknown";
    html(html(row, "td"), "span", { class: `status status-${state}` }, job.status);
    html(row, "td", { class: "num" }, `${number(job.percent, 0)}%`);
    html(row, "td", { class: "num" }, number(job.audio_seconds, 1));
    html(row, "td", { class: "num" },
      missing(job.realtime_factor) ? "—" : `${number(job.realtime_factor, 1)}×`);
    html(row, "td", {}, dateTime(job.created_at));
  }
}

/** @param {Stats} stats */
function render(stats) {
  renderHeadline(stats);
  lineChart(chartById("chart-throughput"), [{
    label: "audio s / wall s", area: true,
    points: stats.timeline.map((b) => [Date.parse(b.t), b.audio_seconds_per_second]),
  }], (v) => number(v, 2));
  barChart(chartById("chart-worker-rtf"), stats.workers.map((w) => ({
    label: `${w.host}:${w.pid}`, value: w.inference_rtf_p50,
  })), (v) => number(v, 3));
  renderQueue(stats);
  renderJobs(stats.recent_jobs);
}

/**
 * @param {string} text
 * @param {boolean} [isError]
 */
function setStatus(text, isError) {
  const node = $("updated");
  node.textContent = text;
  node.className = isError ? "error" : "muted";
}

async function refresh() {
  const ticket = ++requested;
  const since = new Date(Date.now() - Number(windowSelect.value) * 1000).toISOString();
  try {
    // With API keys configured the page asks for one; it stays in this tab only
    const key = apiKey();
    const response = await fetch(`v1/stats?since=${encodeURIComponent(since)}`, { cache: "no-store", headers: authHeaders() });
    $("key-form").hidden = response.status !== 401;
    if (response.status === 401) throw new Error(key ? "the API key was refused" : "an API key is needed");
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    /** @type {Stats} */
    const stats = await response.json();
    queueSamples.push({
      t: Date.now(), chunks: stats.queue_depth.chunks_queued, broker: stats.queue_depth.broker_messages,
    });
    if (queueSamples.length > QUEUE_SAMPLES) queueSamples.shift();
    if (ticket < applied) return; // an answer for a window that has since changed
    applied = ticket;
    latest = stats;
    render(stats);
    setStatus(`updated ${clock(Date.now())} · active ${number(stats.window.active_seconds, 1)} s`);
  } catch (error) {
    setStatus(`could not load /v1/stats (${error.message}); retrying`, true);
  }
}

async function loop() {
  await refresh();
  setTimeout(loop, REFRESH_MS);
}

/** @type {ReturnType<typeof setTimeout> | undefined} */
let resizeTimer;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => latest && render(latest), 150);
});
windowSelect.addEventListener("change", refresh);
$("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  setApiKey(keyInput.value.trim());
  keyInput.value = "";
  refresh();
});
loop();
