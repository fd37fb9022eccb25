// The Namespace page's history chart: a topic's series in the historian
// (GET /api/v1/history/series?filter=TOPIC: the topic itself when its
// payload is a number, TOPIC#field per numeric JSON field), one drawn at
// a time with uPlot from GET /api/v1/history over the last 15 minutes,
// hour, day or week, or a custom range, as raw points or an aggregate per
// interval (the interval follows the range: about 300 buckets). A preset
// range follows the topic: the chart is asked again when a new message
// arrives, at most every two seconds. "Export CSV" downloads the same
// query with format=csv.
//
// The chart element carries what it was given, for tests and scrapers:
// data-series, data-count and (up to 1,000 points) data-values, the
// values as JSON.
import { html, useState, useEffect, useRef, num } from "../lib.js";
import { get, session, ApiError } from "../api.js";
import uPlot from "../vendor/uPlot.esm.js";

const enc = encodeURIComponent;
const RANGES = [["15m", "15 min", 15 * 60e3], ["1h", "1 h", 3600e3], ["24h", "24 h", 86400e3], ["7d", "7 d", 7 * 86400e3]];
const AGGS = ["raw", "avg", "min", "max", "sum", "count", "first", "last"];
const STEPS = [["1s", 1e3], ["5s", 5e3], ["10s", 10e3], ["30s", 30e3], ["1m", 60e3], ["5m", 300e3], ["15m", 900e3],
  ["30m", 1800e3], ["1h", 3600e3], ["3h", 3 * 3600e3], ["6h", 6 * 3600e3], ["12h", 12 * 3600e3], ["1d", 86400e3]];
const RAW_LIMIT = 20000;
const VALUES_ATTR_MAX = 1000;

// The aggregation interval for a range: the smallest step giving at most 300 buckets.
export function intervalFor(ms) {
  return (STEPS.find(([, s]) => ms / s <= 300) ?? STEPS[STEPS.length - 1])[0];
}

// datetime-local input <-> unix ms (the browser's zone).
function toInput(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60e3);
  return d.toISOString().slice(0, 16);
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

// The query string for the current choices, or an error text.
function queryOf(series, range, custom, agg) {
  let from, to;
  if (range === "custom") {
    from = Date.parse(custom.from);
    to = Date.parse(custom.to);
    if (Number.isNaN(from) || Number.isNaN(to)) return { error: "Enter both times of the custom range." };
    if (to <= from) return { error: "The end of the range must be after its start." };
  } else {
    to = Date.now() + 1000;
    from = to - RANGES.find(([k]) => k === range)[2];
  }
  let qs = "series=" + enc(series) + "&from=" + Math.floor(from) + "&to=" + Math.ceil(to);
  qs += agg === "raw" ? "&limit=" + RAW_LIMIT : "&agg=" + agg + "&interval=" + intervalFor(to - from);
  return { qs, from, to };
}

const axisNumber = new Intl.NumberFormat(undefined, { maximumFractionDigits: 3 });

// `span`: [from, to] in ms, the x axis (the range asked for, not the data's).
function Chart({ series, points, agg, span }) {
  const box = useRef(null);
  const plot = useRef(null);
  const xRange = useRef(span);
  xRange.current = span;
  useEffect(() => {
    const el = box.current;
    const axis = { stroke: cssVar("--muted"), grid: { stroke: cssVar("--grid"), width: 1 }, ticks: { show: false } };
    plot.current = new uPlot({
      width: el.clientWidth,
      height: 220,
      legend: { show: true },
      cursor: { drag: { x: true, y: false } },
      scales: { x: { time: true, range: (u, lo, hi) => (xRange.current ? [xRange.current[0] / 1000, xRange.current[1] / 1000] : [lo, hi]) } },
      axes: [axis, { ...axis, size: 64, values: (u, vals) => vals.map((v) => axisNumber.format(v)) }],
      series: [{}, { label: agg === "raw" ? "value" : agg, stroke: cssVar("--in"), width: 2, points: { show: true, size: 4 },
        value: (u, v) => (v === null || v === undefined ? "–" : String(v)) }],
    }, [[], []], el);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: el.clientWidth, height: 220 }));
    resize.observe(el);
    return () => { resize.disconnect(); plot.current.destroy(); plot.current = null; };
  }, [agg]);
  useEffect(() => {
    plot.current?.setData([points.map((p) => p[0] / 1000), points.map((p) => p[1])]);
  }, [points, span?.[0], span?.[1]]);
  return html`<div class="chart" ref=${box} role="img" data-testid="history-chart" data-series=${series}
    data-count=${points.length}
    data-values=${points.length <= VALUES_ATTR_MAX ? JSON.stringify(points.map((p) => p[1])) : undefined}
    aria-label=${"History of " + series + ": " + num(points.length) + " points"}></div>`;
}

// Whether the historian's routes exist (it may be off): asked once, from
// the route table, so the page does not log a 404 for each topic.
let historian = null;
function historianOn() {
  historian ??= get("/routes").then((r) => r.data.some((x) => x.path === "/api/v1/history/series"))
    .catch(() => { historian = null; return true; });
  return historian;
}

// GET of a text answer (the CSV), with the session's token.
async function getText(path) {
  const headers = {};
  if (session.token) headers.Authorization = "Bearer " + session.token;
  const res = await fetch("/api/v1" + path, { headers, cache: "no-store" });
  const text = await res.text();
  if (!res.ok) {
    let message = res.statusText;
    try { message = JSON.parse(text).message ?? message; } catch { /* not JSON */ }
    throw new ApiError(res.status, "HTTP_" + res.status, message);
  }
  return text;
}

export function History({ topic, lastSeen }) {
  const [list, setList] = useState(null);  // series of this topic
  const [listError, setListError] = useState(null);
  const [series, setSeries] = useState(null);
  const [range, setRange] = useState("1h");
  const [agg, setAgg] = useState("raw");
  const [custom, setCustom] = useState(() => ({ from: toInput(Date.now() - 3600e3), to: toInput(Date.now()) }));
  const [applied, setApplied] = useState(custom);
  const [points, setPoints] = useState([]);
  const [span, setSpan] = useState(null);
  const [error, setError] = useState(null);
  const [csv, setCsv] = useState(null);  // {url, name}
  const asked = useRef(0);
  const link = useRef(null);

  // The series of the topic; asked again while there are none and messages come.
  useEffect(() => {
    if (list?.length || Date.now() - asked.current < 2000) return;
    asked.current = Date.now();
    historianOn().then((on) => {
      if (!on) throw Object.assign(new Error("The historian is off ([historian] enabled = false)."), { status: 404 });
      return get("/history/series?filter=" + enc(topic));
    }).then((r) => {
      const names = r.series.map((s) => s.series).filter((n) => n === topic || n.startsWith(topic + "#"));
      setList(names);
      setListError(null);
      setSeries((s) => (s && names.includes(s) ? s : names[0] ?? null));
    }).catch((e) => setListError(e.status === 404 || e.status === 405
      ? "The historian is off ([historian] enabled = false)." : e.message));
  }, [topic, lastSeen]);

  // The points; a preset range follows new messages, at most every two seconds.
  const fetched = useRef({ key: null, at: 0, timer: 0 });
  useEffect(() => {
    if (!series) return undefined;
    const q = queryOf(series, range, applied, agg);
    if (q.error) { setError(q.error); return undefined; }
    const key = [series, range, agg, applied.from, applied.to].join("|");
    const f = fetched.current;
    if (f.key === key && range === "custom") return undefined;
    const run = () => {
      f.key = key;
      f.at = Date.now();
      const fresh = queryOf(series, range, applied, agg);
      get("/history?epoch=ms&" + fresh.qs).then((r) => {
        const s = r.results?.[0]?.series?.[0];
        setPoints((s?.values ?? []).filter((v) => v[1] !== null));
        setSpan([fresh.from, fresh.to]);
        setError(null);
      }).catch((e) => {
        setPoints([]);
        setError(e.status === 404 ? "No points in this range." : e.message);
      });
    };
    clearTimeout(f.timer);
    const wait = f.key === key ? Math.max(0, 2000 - (Date.now() - f.at)) : 0;
    f.timer = setTimeout(run, wait);
    return () => clearTimeout(f.timer);
  }, [series, range, agg, applied, lastSeen]);
  useEffect(() => () => { if (csv) URL.revokeObjectURL(csv.url); }, [csv]);

  const exportCsv = async () => {
    const q = queryOf(series, range, applied, agg);
    if (q.error) { setError(q.error); return; }
    try {
      const text = await getText("/history?format=csv&" + q.qs);
      const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
      const name = series.replace(/[^A-Za-z0-9._-]+/g, "_") + ".csv";
      setCsv({ url, name });
      setTimeout(() => link.current?.click(), 0);
    } catch (e) {
      setError(e.message);
    }
  };

  return html`
    <section class="card" aria-labelledby="ns-hist-h">
      <h2 id="ns-hist-h">History</h2>
      ${listError ? html`<p class="muted" data-testid="history-off">${listError}</p>` : null}
      ${list && !list.length ? html`<p class="muted" data-testid="history-none">Not recorded: the historian keeps
        numeric payloads and JSON fields of the topics its <code>[historian] filters</code> name.</p>` : null}
      ${series ? html`
        <div class="ns-controls">
          ${list.length > 1 ? html`
            <label>Series <select data-testid="history-series" value=${series} onChange=${(e) => setSeries(e.target.value)}>
              ${list.map((n) => html`<option key=${n} value=${n}>${n.slice(topic.length) || "(the value)"}</option>`)}
            </select></label>` : null}
          <div class="ns-seg" role="group" aria-label="Range">
            ${RANGES.map(([k, label]) => html`<button key=${k} type="button" data-range=${k}
                aria-pressed=${range === k ? "true" : "false"} onClick=${() => setRange(k)}>${label}</button>`)}
            <button type="button" data-range="custom" aria-pressed=${range === "custom" ? "true" : "false"}
              onClick=${() => setRange("custom")}>Custom</button>
          </div>
          <label>Aggregate <select data-testid="history-agg" value=${agg} onChange=${(e) => setAgg(e.target.value)}>
            ${AGGS.map((a) => html`<option key=${a} value=${a}>${a === "raw" ? "raw points" : a}</option>`)}
          </select></label>
          <button type="button" class="btn" data-testid="export-csv" onClick=${exportCsv}>Export CSV</button>
          <a ref=${link} class="visually-hidden" data-testid="csv-link" href=${csv?.url} download=${csv?.name}
            tabindex="-1" aria-hidden="true">CSV</a>
        </div>
        ${range === "custom" ? html`
          <form class="ns-inline" onSubmit=${(e) => { e.preventDefault(); setApplied({ ...custom }); }}>
            <label>From <input type="datetime-local" data-testid="custom-from" value=${custom.from}
              onInput=${(e) => setCustom({ ...custom, from: e.target.value })} /></label>
            <label>To <input type="datetime-local" data-testid="custom-to" value=${custom.to}
              onInput=${(e) => setCustom({ ...custom, to: e.target.value })} /></label>
            <button type="submit" class="btn" data-testid="custom-show">Show</button>
          </form>` : null}
        ${error ? html`<p class="muted" role="status">${error}</p>` : null}
        <${Chart} key=${agg} series=${series} points=${points} agg=${agg} span=${span} />
        <p class="muted ns-note" data-testid="history-note">${num(points.length)} ${agg === "raw" ? (points.length === 1 ? "point" : "points") : agg + " values per "
          + intervalFor(range === "custom" ? Date.parse(applied.to) - Date.parse(applied.from)
          : RANGES.find(([k]) => k === range)[2])}${agg === "raw" && points.length >= RAW_LIMIT
          ? " (the first " + num(RAW_LIMIT) + "; choose an aggregate to see the whole range)" : ""}.
          Times in your zone; hover the chart for values.</p>` : null}
    </section>`;
}
