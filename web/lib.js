// The libraries (web/vendor/, installed by tools/setup.sh) and small
// helpers every page uses: html (htm bound to Preact), number formats.
import { h, render } from "./vendor/preact.module.js";
import { useState, useEffect, useRef, useCallback } from "./vendor/hooks.module.js";
import htm from "./vendor/htm.module.js";

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

// Calls `fn` now, then again `ms` (at least a second) after each call
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
        try { await saved.current(); } catch { /* shown by fn itself */ }
      }
      if (!stop) timer = setTimeout(tick, Math.max(ms, 1000));
    };
    tick();
    return () => { stop = true; clearTimeout(timer); };
  }, deps);
}
