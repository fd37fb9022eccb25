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
