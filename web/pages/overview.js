// #/overview: the broker at a glance. Counts from /api/v1/status (polled
// by the shell once a second, passed in as `status`) and /api/v1/stats
// (polled here once a second), and a live chart of messages in and out
// per second over the last ten minutes, computed from the counters'
// differences between two polls. The chart's history is the page's own:
// it starts when the page opens.
import { html, useState, useEffect, useRef, num, rate, bytes } from "../lib.js";
import { get } from "../api.js";
import uPlot from "../vendor/uPlot.esm.js";

const WINDOW = 600;  // samples kept (one a second)
const STEPS = [1, 2, 5].flatMap((m) => [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7].map((p) => m * p)).sort((a, b) => a - b);

function useStats(status) {
  const [stats, setStats] = useState(null);
  // Fetched after each status poll, so both tick together, once a second.
  useEffect(() => {
    if (!status) return undefined;
    let stop = false;
    get("/stats").then((s) => { if (!stop) setStats(s); }).catch(() => {});
    return () => { stop = true; };
  }, [status?.at]);
  return stats;
}

// Rates from the difference of two status samples; the series for the chart.
function useSeries(status) {
  const ref = useRef({ last: null, t: [], inp: [], out: [] });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!status) return;
    const s = ref.current;
    const now = status.at / 1000;
    if (s.last && now > s.last.t) {
      const dt = now - s.last.t;
      s.t.push(now);
      s.inp.push(Math.max(0, (status.messages_received - s.last.received) / dt));
      s.out.push(Math.max(0, (status.messages_sent - s.last.sent) / dt));
      if (s.t.length > WINDOW) { s.t.shift(); s.inp.shift(); s.out.shift(); }
    }
    s.last = { t: now, received: status.messages_received, sent: status.messages_sent };
    setTick((n) => n + 1);
  }, [status?.at]);
  return [ref.current, tick];
}

function cssVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function Chart({ series, tick }) {
  const box = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    const el = box.current;
    const axis = { stroke: cssVar("--muted"), grid: { stroke: cssVar("--grid"), width: 1 }, ticks: { show: false } };
    const opts = {
      width: el.clientWidth,
      height: 220,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      // Always the last ten minutes, so a page just opened shows seconds, not years.
      scales: { x: { time: true, range: (u, lo, hi) => { const t = hi ?? Date.now() / 1000; return [t - WINDOW, t]; } }, y: { range: (u, lo, hi) => [0, Math.max(5, hi * 1.1)] } },
      // Whole messages per second on the y axis: 1, 2, 5, 10, 20, 50, ...
      axes: [axis, { ...axis, size: 64, incrs: STEPS, values: (u, vals) => vals.map((v) => num(v)) }],
      series: [
        {},
        { label: "in /s", stroke: cssVar("--in"), width: 2, value: (u, v) => rate(v) },
        { label: "out /s", stroke: cssVar("--out"), width: 2, value: (u, v) => rate(v) },
      ],
    };
    plot.current = new uPlot(opts, [[], [], []], el);
    const resize = new ResizeObserver(() => plot.current.setSize({ width: el.clientWidth, height: 220 }));
    resize.observe(el);
    return () => { resize.disconnect(); plot.current.destroy(); plot.current = null; };
  }, []);
  useEffect(() => {
    plot.current?.setData([series.t.slice(), series.inp.slice(), series.out.slice()]);
  }, [tick]);
  return html`<div class="chart" ref=${box} role="img"
    aria-label="Messages in and out per second over the last ten minutes"></div>`;
}

function Tile({ label, value, id, hint }) {
  return html`
    <div class="tile" title=${hint}>
      <div class="label">${label}</div>
      <div class="value" data-testid=${id}>${value}</div>
    </div>`;
}

export function Overview({ status, state }) {
  const stats = useStats(status);
  const [series, tick] = useSeries(status);
  const n = series.inp.length;
  const inRate = n ? series.inp[n - 1] : null;
  const outRate = n ? series.out[n - 1] : null;
  const s = status ?? {};
  const dropped = stats ? stats["messages.dropped"] : null;
  return html`
    <h1 class="visually-hidden">Overview</h1>
    ${state === "offline" ? html`<p class="banner" role="alert">The broker does not answer; retrying every second.</p>` : null}
    <section class="tiles" aria-label="Counts">
      <${Tile} label="Connections" id="connections" value=${num(s.connections)} hint="MQTT clients connected now" />
      <${Tile} label="Messages in" id="rate-in" value=${rate(inRate)} hint="PUBLISH packets received per second" />
      <${Tile} label="Messages out" id="rate-out" value=${rate(outRate)} hint="PUBLISH packets sent per second" />
      <${Tile} label="Dropped" id="dropped" value=${num(dropped)} hint="Messages dropped since start (queues full, ...)" />
      <${Tile} label="Retained" id="retained" value=${num(s.retained)} hint="Retained messages" />
      <${Tile} label="Sessions" id="sessions" value=${num(s.sessions)} hint="Sessions, online and offline" />
      <${Tile} label="Subscriptions" id="subscriptions" value=${num(s.subscriptions)} hint="Topic filters of all sessions" />
    </section>
    <section class="card">
      <h2>Messages per second</h2>
      <${Chart} series=${series} tick=${tick} />
    </section>
    <div class="cols">
      <section class="card">
        <h2>Totals</h2>
        <dl class="kv">
          <dt>Received</dt><dd data-testid="received">${num(s.messages_received)}</dd>
          <dt>Sent</dt><dd data-testid="sent">${num(s.messages_sent)}</dd>
          <dt>Bytes in</dt><dd>${bytes(stats?.["bytes.received"])}</dd>
          <dt>Bytes out</dt><dd>${bytes(stats?.["bytes.sent"])}</dd>
          <dt>Store used</dt><dd>${stats ? bytes(stats["store.map.used"]) + " of " + bytes(stats["store.map.size"]) : "–"}</dd>
        </dl>
      </section>
      <section class="card">
        <h2>Listeners</h2>
        <ul class="listeners" data-testid="listeners">
          ${(s.listeners ?? []).map((l) => html`<li><code>${l}</code></li>`)}
        </ul>
        <p class="muted">${s.cores ? num(s.cores) + (s.cores === 1 ? " core" : " cores") : ""}</p>
      </section>
    </div>`;
}
