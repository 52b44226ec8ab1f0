// The operations dashboard: charts from the last hour rendered with the page, then from the export API on a
// range change; live samples and alerts from /ws/monitoring; alerts, WebSocket and cache figures from the API.
// Data sources: docs/pages.md.
import uPlot from "./vendor/uPlot.esm.js";
import {LiveSocket, Session, ago, bytes, clock, debounce, el, number, percent, readJSON} from "./common.js";

const RANGES = {"1h": 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400};
const CHARTS = [
  {id: "chart-system", unit: "%", range: [0, 100], metrics: [
    ["cpu.percent", "CPU", "#2457c5"], ["memory.percent", "Memory", "#17936b"], ["disk.percent", "Disk", "#c27c0e"]]},
  {id: "chart-requests", unit: "/s", metrics: [
    ["requests.per_s", "Requests", "#2457c5"], ["requests.errors_per_s", "5xx errors", "#b3261e"]]},
  {id: "chart-latency", unit: " ms", metrics: [
    ["latency.p50_ms", "p50", "#17936b"], ["latency.p95_ms", "p95", "#c27c0e"], ["latency.p99_ms", "p99", "#b3261e"]]},
];
const CHARTED = CHARTS.flatMap((chart) => chart.metrics.map(([name]) => name));

const session = new Session(readJSON("ws-token"));
const state = {range: "1h", series: emptySeries(), loading: 0};
const plots = new Map();

function emptySeries() { return {timestamps: [], values: {}}; }

// --- series ----------------------------------------------------------------------------------

// Export rows ([{timestamp, metric, value}], ordered by time) -> columns, one per metric.
function fromRows(rows) {
  const series = emptySeries();
  const index = new Map();
  for (const row of rows) {
    const at = Date.parse(row.timestamp) / 1000;
    let i = index.get(at);
    if (i === undefined) {
      i = series.timestamps.push(at) - 1;
      index.set(at, i);
    }
    const column = series.values[row.metric] || (series.values[row.metric] = []);
    column[i] = row.value;
  }
  for (const column of Object.values(series.values)) {
    for (let i = 0; i < series.timestamps.length; i++) if (column[i] === undefined) column[i] = null;
  }
  return series;
}

function column(series, metric) {
  return series.values[metric] || series.timestamps.map(() => null);
}

function append(series, at, values) {
  const last = series.timestamps[series.timestamps.length - 1];
  if (last !== undefined && at <= last) return false;  // a duplicate or late sample
  const length = series.timestamps.push(at);
  for (const name of new Set([...Object.keys(series.values), ...Object.keys(values)])) {
    const values_ = series.values[name] || (series.values[name] = new Array(length - 1).fill(null));
    values_.push(values[name] ?? null);
  }
  const oldest = Date.now() / 1000 - RANGES[state.range];
  while (series.timestamps.length > 1 && series.timestamps[0] < oldest) {
    series.timestamps.shift();
    for (const values_ of Object.values(series.values)) values_.shift();
  }
  return true;
}

// --- charts ----------------------------------------------------------------------------------

function chartOptions(chart, width) {
  return {
    width, height: width < 500 ? 180 : 220,
    // The x axis always spans the chosen range, however few points it has.
    scales: {x: {time: true, range: () => window_()}, y: chart.range ? {range: chart.range} : {}},
    series: [{}, ...chart.metrics.map(([, label, stroke]) => ({
      label, stroke, width: 2, spanGaps: true,
      value: (plot, value) => (value === null || value === undefined ? "–" : number(value) + chart.unit)}))],
    axes: [{stroke: "#5e6b7c", grid: {stroke: "#eef1f5"}},
           {stroke: "#5e6b7c", grid: {stroke: "#eef1f5"}, size: 52,
            values: (plot, ticks) => ticks.map((tick) => number(tick))}],
    legend: {live: true},
  };
}

function window_() {
  const now = Date.now() / 1000;
  const last = state.series.timestamps[state.series.timestamps.length - 1] || now;
  const end = Math.max(now, last);
  return [end - RANGES[state.range], end];
}

function drawChart(chart) {
  const container = document.getElementById(chart.id);
  const data = [state.series.timestamps, ...chart.metrics.map(([name]) => column(state.series, name))];
  const points = data.slice(1).reduce((n, values) => n + values.filter((v) => v !== null).length, 0);
  container.dataset.points = String(points);  // what the page shows, for people and tests alike
  let plot = plots.get(chart.id);
  if (!plot) {
    plot = new uPlot(chartOptions(chart, container.clientWidth || 360), data, container);
    plots.set(chart.id, plot);
    new ResizeObserver(() => {
      const width = container.clientWidth;
      if (width && width !== plot.width) plot.setSize({width, height: width < 500 ? 180 : 220});
    }).observe(container);
  } else {
    plot.setData(data);
  }
}

function drawCharts() { CHARTS.forEach(drawChart); }

async function loadRange(range) {
  state.range = range;
  const ticket = ++state.loading;
  const end = new Date();
  const start = new Date(end.getTime() - RANGES[range] * 1000);
  const query = new URLSearchParams({format: "json", start: start.toISOString(), end: end.toISOString(),
                                     metric: CHARTED.join(","), step: "auto"});
  document.body.setAttribute("aria-busy", "true");
  try {
    const rows = await session.json(`/api/analytics/export/metrics?${query}`);
    if (ticket !== state.loading) return;  // a later choice won
    state.series = fromRows(rows);
    drawCharts();
  } catch (error) {
    if (ticket === state.loading) addEvent(`Could not load the ${range} history: ${error.message}.`, "error");
  } finally {
    if (ticket === state.loading) document.body.removeAttribute("aria-busy");
  }
}

function setupRange() {
  const group = document.getElementById("range");
  group.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-range]");
    if (!button || button.getAttribute("aria-pressed") === "true") return;
    for (const other of group.querySelectorAll("button")) other.setAttribute("aria-pressed", String(other === button));
    loadRange(button.dataset.range);
  });
}

// --- tiles -----------------------------------------------------------------------------------

function setText(id, text) {
  const node = document.getElementById(id);
  if (node && node.textContent !== text) node.textContent = text;
}

function mark(id, value, warn, bad) {
  const tile = document.getElementById(id)?.closest(".tile");
  if (!tile) return;
  tile.classList.toggle("bad", value !== null && value !== undefined && value >= bad);
  tile.classList.toggle("warn", value !== null && value !== undefined && value >= warn && value < bad);
}

function showValues(values) {
  const has = (name) => values[name] !== undefined;
  if (has("cpu.percent")) { setText("v-cpu", percent(values["cpu.percent"])); mark("v-cpu", values["cpu.percent"], 70, 90); }
  if (has("memory.percent")) { setText("v-memory", percent(values["memory.percent"])); mark("v-memory", values["memory.percent"], 80, 92); }
  if (has("disk.percent")) { setText("v-disk", percent(values["disk.percent"])); mark("v-disk", values["disk.percent"], 80, 90); }
  if (has("requests.per_s")) setText("v-rps", number(values["requests.per_s"], 2));
  if (has("requests.errors_per_s")) {
    setText("v-errors", number(values["requests.errors_per_s"], 2));
    mark("v-errors", values["requests.errors_per_s"], 0.01, 1);
  }
  if (has("latency.p95_ms")) {
    setText("v-p95", values["latency.p95_ms"] === null ? "–" : `${number(values["latency.p95_ms"])} ms`);
    if (has("latency.p50_ms")) setText("v-latency-sub", `p50 ${number(values["latency.p50_ms"])} · p99 ${number(values["latency.p99_ms"])} ms`);
  }
  if (values["websocket.connections"] != null) setText("s-connections", number(values["websocket.connections"], 0));
}

function latestValues(series) {
  const values = {};
  for (const [name, column_] of Object.entries(series.values)) {
    for (let i = column_.length - 1; i >= 0; i--) if (column_[i] !== null) { values[name] = column_[i]; break; }
  }
  return values;
}

// --- events ----------------------------------------------------------------------------------

function addEvent(text, kind = "", at) {
  const list = document.getElementById("events");
  list.prepend(el("li", {class: kind}, el("time", {datetime: at || new Date().toISOString()}, clock(at)), el("span", {}, text)));
  while (list.children.length > 100) list.lastChild.remove();
}

function describeSample(event) {
  const v = event.values || {};
  const parts = [`CPU ${percent(v["cpu.percent"])}`, `memory ${percent(v["memory.percent"])}`, `disk ${percent(v["disk.percent"])}`];
  if (v["requests.per_s"] !== null && v["requests.per_s"] !== undefined) parts.push(`${number(v["requests.per_s"], 2)} req/s`);
  if (v["latency.p95_ms"] !== null && v["latency.p95_ms"] !== undefined) parts.push(`p95 ${number(v["latency.p95_ms"])} ms`);
  return `Sample from ${event.host}: ${parts.join(", ")}.`;
}

function describeAlert(event) {
  const what = event.change === "acknowledged" ? "was acknowledged" : `is ${event.change}`;
  let text = `Alert “${event.rule}” ${what} (${event.severity})`;
  if (event.value !== null && event.value !== undefined) {
    text += `: value ${number(event.value)}`;
    if (event.threshold !== null && event.threshold !== undefined) text += `, threshold ${number(event.threshold)}`;
  }
  return event.message ? `${text}. ${event.message}` : `${text}.`;
}

function onEvent(event) {
  if (event.type === "sample") {
    showValues(event.values || {});
    if (append(state.series, Date.parse(event.timestamp) / 1000, event.values || {})) drawCharts();
    addEvent(describeSample(event), "sample", event.timestamp);
  } else if (event.type === "alert") {
    addEvent(describeAlert(event), `alert-${event.change}`, event.timestamp);
    reloadAlerts();
  } else if (event.type === "connection") {
    addEvent("Live feed connected.", "", event.timestamp);
  } else if (event.type === "error") {
    addEvent(`The live feed refused a frame: ${event.message}`, "error", event.timestamp);
  }
}

function onStatus(status, wait) {
  const node = document.getElementById("live-status");
  const text = {open: "live", connecting: "connecting…", forbidden: "live feed: staff only",
                "signed-out": "signed out — reload the page"}[status]
    || `reconnecting in ${Math.max(1, Math.round(wait / 1000))} s`;
  node.textContent = text;
  node.className = `live ${status === "open" ? "on" : "off"}`;
  if (status === "retrying") addEvent(`Live feed lost; ${text}.`, "error");
}

// --- alerts ----------------------------------------------------------------------------------

async function acknowledge(alert, button) {
  button.disabled = true;
  button.textContent = "Acknowledging…";
  try {
    await session.json(`/api/analytics/alerts/${alert.id}/acknowledge`, {method: "POST", body: {}});
    addEvent(`You acknowledged “${alert.rule}”.`);
  } catch (error) {
    addEvent(`Could not acknowledge “${alert.rule}”: ${error.message}`, "error");
  }
  loadAlerts();
}

function alertRow(alert) {
  const action = alert.acknowledged
    ? el("span", {class: "badge ok"}, "acknowledged")
    : el("button", {type: "button", class: "secondary", "data-alert": alert.id,
                    "aria-label": `Acknowledge ${alert.rule}`}, "Acknowledge");
  if (!alert.acknowledged) action.addEventListener("click", () => acknowledge(alert, action));
  const value = alert.value === null ? "–" : `${number(alert.value)}${alert.threshold === null ? "" : ` / ${number(alert.threshold)}`}`;
  return el("tr", {"data-alert-row": alert.id},
    el("td", {}, el("strong", {}, alert.rule), el("div", {class: "muted small"}, alert.message || alert.metric)),
    el("td", {}, el("span", {class: `badge ${alert.severity}`}, alert.severity)),
    el("td", {}, el("span", {class: `badge ${alert.state}`}, alert.state)),
    el("td", {class: "num"}, value),
    el("td", {}, ago(alert.started_at)),
    el("td", {}, action));
}

const reloadAlerts = debounce(() => loadAlerts(), 300);

async function loadAlerts() {
  const body = document.querySelector("#alerts tbody");
  try {
    const alerts = await session.json("/api/analytics/alerts");
    body.replaceChildren(...(alerts.length ? alerts.map(alertRow)
      : [el("tr", {}, el("td", {colspan: 6, class: "muted"}, "No active alerts. All clear."))]));
    const firing = alerts.filter((alert) => alert.state === "firing").length;
    setText("v-alerts", String(alerts.length));
    setText("v-alerts-sub", `${firing} firing`);
    const tile = document.getElementById("t-alerts");
    tile.classList.toggle("bad", firing > 0);
    tile.classList.toggle("warn", firing === 0 && alerts.length > 0);
  } catch (error) {
    body.replaceChildren(el("tr", {}, el("td", {colspan: 6, class: "muted"}, `Alerts unavailable: ${error.message}`)));
  }
}

// --- overview, WebSocket and cache ---------------------------------------------------------------

function showWebSocket(s) {
  setText("s-connections", number(s.connections, 0));
  setText("s-ws-users", number(s.users, 0));
  setText("s-rooms", number(s.rooms, 0));
  setText("s-messages", `${number(s.messages_in, 0)} / ${number(s.messages_out, 0)}`);
}

function showCache(c) {
  setText("s-hit-rate", percent((c.hit_rate || 0) * 100));
  setText("s-items", `${number(c.l1?.items, 0)} / ${number(c.l2?.items, 0)} (${bytes(c.l2?.bytes)})`);
  setText("s-cache-errors", number(c.errors, 0));
}

const SYSTEM_NAMES = {"cpu.percent": "cpu_percent", "memory.percent": "memory_percent", "disk.percent": "disk_percent"};

// One call for the tiles and the service figures; a part the overview could not read (null,
// with its reason in `unavailable`) keeps what the page showed, and the API's own endpoint fills in.
async function loadOverview() {
  let overview;
  try {
    overview = await session.json("/api/analytics/dashboard/overview");
  } catch (_) {
    overview = {unavailable: {websocket: "overview", cache: "overview"}};
  }
  const values = {};
  if (overview.system) for (const [name, key] of Object.entries(SYSTEM_NAMES)) values[name] = overview.system[key];
  const requests = overview.requests;
  if (requests) {
    const seconds = (requests.window_minutes || 5) * 60;
    Object.assign(values, {"requests.per_s": requests.per_second, "requests.errors_per_s": requests.server_errors / seconds,
                           "latency.p50_ms": requests.latency_ms?.p50 ?? null, "latency.p95_ms": requests.latency_ms?.p95 ?? null,
                           "latency.p99_ms": requests.latency_ms?.p99 ?? null});
  }
  showValues(values);
  if (overview.active_users) {
    setText("v-users", number(overview.active_users.last_15_minutes, 0));
    setText("v-users-sub", `last 15 min · ${number(overview.active_users.today, 0)} today`);
  }
  if (overview.websocket) showWebSocket(overview.websocket);
  else session.json("/ws/stats").then(showWebSocket, () => {});
  if (overview.cache) showCache(overview.cache);
  else session.json("/api/analytics/services/cache").then(showCache, () => {});
}

// --- recent backups and uploads (rendered with the page, refreshed from the API) -------------

function rows(tableId, items, columns, empty) {
  const body = document.querySelector(`#${tableId} tbody`);
  body.replaceChildren(...(items.length ? items.map((item) => el("tr", {}, ...columns.map((cell) => cell(item))))
    : [el("tr", {}, el("td", {colspan: columns.length, class: "muted"}, empty))]));
}

const badge = (status) => el("td", {}, el("span", {class: `badge ${status}`}, status));

async function loadRecent() {
  const [backups, uploads] = await Promise.allSettled([session.json("/api/backup/history"), session.json("/api/uploads/")]);
  if (backups.status === "fulfilled") {
    rows("backups", backups.value.results.slice(0, 6), [
      (r) => el("td", {}, r.config), (r) => el("td", {}, r.kind), (r) => badge(r.status),
      (r) => el("td", {class: "num"}, bytes(r.size)), (r) => el("td", {}, r.finished_at ? ago(r.finished_at) : "–"),
    ], "No backups yet.");
  }
  if (uploads.status === "fulfilled") {
    rows("uploads", uploads.value.results.slice(0, 8), [
      (u) => el("td", {}, u.original_name), (u) => el("td", {}, u.owner?.username ?? "–"), (u) => badge(u.status),
      (u) => el("td", {}, u.detected_type || "–"), (u) => el("td", {class: "num"}, bytes(u.size)),
      (u) => el("td", {}, ago(u.created_at)),
    ], "No uploads yet.");
  }
}

// --- start -----------------------------------------------------------------------------------

function start() {
  // The last hour comes with the page, as the export API would give it: no second read on load.
  state.series = readJSON("initial-series") || emptySeries();
  showValues(latestValues(state.series));
  drawCharts();
  setupRange();
  loadAlerts();
  loadOverview();
  setInterval(loadOverview, 30000);
  setInterval(loadRecent, 60000);
  const live = new LiveSocket("/ws/monitoring", session, {onEvent, onStatus});
  live.connect();
  setInterval(() => live.send({type: "ping"}), 25000);
}

start();
