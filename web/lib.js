// The libraries (web/vendor/, installed by tools/setup.sh) and small
// helpers every page uses: html (htm bound to Preact), number formats.
import { h, render } from "./vendor/preact.module.js";
import { useState, useEffect, useRef, useCallback } from "./vendor/hooks.module.js";
import htm from "./vendor/htm.module.js";
import { get as apiGet } from "./api.js";
import uPlot from "./vendor/uPlot.esm.js";

export const html = htm.bind(h);
export { h, render, useState, useEffect, useRef, useCallback };

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

// 1234567 -> "1,234,567" (the browser's locale); null -> "–".
export function num(n) {
  return n === null || n === undefined || Number.isNaN(n) ? "–" : integer.format(n);
}

// A rate: one decimal below 100/s, none above.
export function rate(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return "–";
  return (n < 100 ? decimal : integer).format(n) + "/s";
}

export function bytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? integer : decimal).format(n) + " " + units[i];
}

// 93784 -> "1 d 2 h 3 min"
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  let s = Math.floor(seconds);
  const d = Math.floor(s / 86400); s -= d * 86400;
  const h = Math.floor(s / 3600); s -= h * 3600;
  const m = Math.floor(s / 60); s -= m * 60;
  if (d) return `${d} d ${h} h ${m} min`;
  if (h) return `${h} h ${m} min`;
  if (m) return `${m} min ${s} s`;
  return `${s} s`;
}

// A moment (ms since the epoch) in the browser's zone, its UTC on hover.
const localTime = new Intl.DateTimeFormat(undefined, { dateStyle: "short", timeStyle: "medium" });
export function Time({ ms }) {
  if (ms === null || ms === undefined) return "–";
  const d = new Date(ms);
  return html`<time datetime=${d.toISOString()} title=${d.toISOString().replace("T", " ").replace("Z", " UTC")}>${localTime.format(d)}</time>`;
}

// Microseconds with their unit: 4 -> "4 µs", 12345 -> "12.3 ms".
export function micros(us) {
  if (us === null || us === undefined) return "–";
  return us < 1000 ? integer.format(us) + " µs" : decimal.format(us / 1000) + " ms";
}

// A page's own stylesheet or classic script (a vendor library that is not
// an ES module), added to <head> once and shared by every page that asks.
const loaded = new Map();
export function loadOnce(kind, src) {
  if (!loaded.has(src)) {
    loaded.set(src, new Promise((resolve, reject) => {
      const el = kind === "style" ? document.createElement("link") : document.createElement("script");
      if (kind === "style") { el.rel = "stylesheet"; el.href = src; } else { el.src = src; el.async = false; }
      el.onload = () => resolve(el);
      el.onerror = () => { loaded.delete(src); reject(new Error("could not load " + src)); };
      document.head.appendChild(el);
    }));
  }
  return loaded.get(src);
}

// MQTT topic matching: does `filter` ("a/+/c", "a/#") match `topic`?
// Topics starting with "$" match no filter starting with a wildcard.
export function topicMatches(filter, topic) {
  const f = filter.split("/");
  const t = topic.split("/");
  if (topic.startsWith("$") && (f[0] === "+" || f[0] === "#")) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

// Calls `fn` now (with a function that tells whether the poll was stopped
// since), then again `ms` (at least a second) after each call
// has finished, skipping the calls while the tab is hidden; a change in
// `deps` starts it over.
export function usePoll(fn, ms, deps) {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    let stop = false;
    let timer = 0;
    const tick = async () => {
      if (stop) return;
      if (document.visibilityState !== "hidden") {
        try { await saved.current(() => stop); } catch { /* shown by fn itself */ }
      }
      if (!stop) timer = setTimeout(tick, Math.max(ms, 1000));
    };
    tick();
    return () => { stop = true; clearTimeout(timer); };
  }, deps);
}

// --- shared by the Clients, Subscriptions & retained and Bridges pages ---

// May this session change things? (Viewers may not; "open" auth has no role.)
export function canAct(role) { return role !== "viewer"; }

// An action button that asks first: "Kick" -> "Disconnect x? [Yes] [Cancel]".
export function Confirm({ label, question, yes, onYes, testid, disabled }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const yesRef = useRef(null);
  useEffect(() => { if (asking) yesRef.current?.focus(); }, [asking]);
  if (!asking) {
    return html`<button type="button" class="act" data-testid=${testid} disabled=${disabled}
      onClick=${() => setAsking(true)}>${label}</button>`;
  }
  const go = async () => {
    setBusy(true);
    try { await onYes(); } finally { setBusy(false); setAsking(false); }
  };
  return html`<span class="confirm" role="group" aria-label=${question}
      onKeyDown=${(e) => { if (e.key === "Escape") setAsking(false); }}>
    <span>${question}</span>
    <button type="button" class="act danger" ref=${yesRef} data-testid=${testid && testid + "-yes"}
      disabled=${busy} onClick=${go}>${yes}</button>
    <button type="button" class="act" onClick=${() => setAsking(false)}>Cancel</button>
  </span>`;
}

// Previous / next over a {data, meta} list answer.
export function Pager({ meta, page, setPage }) {
  if (!meta) return null;
  const pages = Math.max(1, Math.ceil(meta.count / meta.limit));
  return html`<div class="pager">
    <button type="button" class="act" disabled=${page <= 1} onClick=${() => setPage(page - 1)}>Previous</button>
    <span>Page ${num(page)} of ${num(pages)} · ${num(meta.count)} in all</span>
    <button type="button" class="act" disabled=${!meta.hasnext} onClick=${() => setPage(page + 1)}>Next</button>
  </div>`;
}

// A search box that reports its value after typing stops for 250 ms.
export function Search({ label, placeholder, onSearch, testid }) {
  const timer = useRef(0);
  return html`<label class="search">
    <span class="visually-hidden">${label}</span>
    <input type="search" placeholder=${placeholder} aria-label=${label} data-testid=${testid}
      onInput=${(e) => { clearTimeout(timer.current); const v = e.target.value; timer.current = setTimeout(() => onSearch(v.trim()), 250); }} />
  </label>`;
}

// 1234 ms -> "1.2 s", 0 -> "0 s".
export function millis(ms) {
  if (ms === null || ms === undefined) return "–";
  return ms < 60000 ? decimal.format(ms / 1000) + " s" : duration(ms / 1000);
}

// The last hour of samples from GET /api/v1/stats/history (one every
// 10 s, kept by the broker): fetched whole once, then every 10 s only what
// is new (?since=). Returns the samples, oldest first (null before the
// first answer).
export function useStatsHistory() {
  const [samples, setSamples] = useState(null);
  const held = useRef([]);
  usePoll(async (stopped) => {
    const have = held.current;
    const since = have.length ? have[have.length - 1].time_ms : 0;
    const h = await apiGet("/stats/history?since=" + since);
    if (stopped()) return;
    const all = have.concat(h.samples);
    held.current = all.slice(Math.max(0, all.length - h.capacity));
    setSamples(held.current);
  }, 10000, []);
  return samples;
}

// Whole steps for the y axes: 1, 2, 5, 10, 20, 50, ...
const STEPS = [1, 2, 5].flatMap((m) => [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9].map((p) => m * p)).sort((a, b) => a - b);

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

// A uPlot time chart over the last `seconds` up to now. `data` is uPlot's
// [[t (s)], [y1], [y2] ...]; `series` [{label, color (a CSS variable),
// fmt (value -> text), scale}], `axes` [{scale, fmt}] (the first on the
// left, a second on the right).
export function TimeChart({ data, series, axes, height = 200, seconds = 3600, label, testid }) {
  const box = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    const el = box.current;
    const axis = { stroke: cssVar("--muted"), grid: { stroke: cssVar("--grid"), width: 1 }, ticks: { show: false } };
    const scales = { x: { time: true, range: (u, lo, hi) => { const t = Date.now() / 1000; return [t - seconds, t]; } } };
    for (const a of axes) scales[a.scale] = { range: (u, lo, hi) => [0, Math.max(a.min ?? 1, (hi ?? 0) * 1.1)] };
    plot.current = new uPlot({
      width: el.clientWidth,
      height,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales,
      axes: [axis, ...axes.map((a, i) => ({ ...axis, scale: a.scale, side: i === 0 ? 3 : 1, size: 64, incrs: STEPS,
        grid: { show: i === 0, stroke: cssVar("--grid"), width: 1 }, values: (u, vals) => vals.map(a.fmt) }))],
      series: [{ value: (u, v) => (v == null ? "–" : new Date(v * 1000).toLocaleTimeString()) },
        ...series.map((s) => ({ label: s.label, stroke: cssVar(s.color), width: 2, scale: s.scale,
          value: (u, v) => (v == null ? "–" : s.fmt(v)) }))],
    }, data, el);
    const resize = new ResizeObserver(() => plot.current?.setSize({ width: el.clientWidth, height }));
    resize.observe(el);
    return () => { resize.disconnect(); plot.current.destroy(); plot.current = null; };
  }, []);
  useEffect(() => { plot.current?.setData(data); }, [data]);
  return html`<div class="chart" ref=${box} role="img" aria-label=${label} data-testid=${testid}></div>`;
}
