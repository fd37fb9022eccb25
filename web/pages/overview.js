// #/overview: the broker at a glance. Counts from /api/v1/status (polled
// by the shell once a second, passed in as `status`) and /api/v1/stats
// (polled here once a second); a chart of the last hour of messages in
// and out per second and connections from the broker's own history
// (GET /api/v1/stats/history, a sample every 10 s, fetched whole when the
// page opens and then only what is new), with the live rate of the last
// second as its newest point; and the alarms (GET /api/v1/alarms, every
// 2 s).
import { html, useState, useEffect, num, rate, bytes, usePoll, useStatsHistory, TimeChart } from "../lib.js";
import { get } from "../api.js";

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

function useAlarms() {
  const [alarms, setAlarms] = useState(null);
  usePoll(async (stopped) => {
    const a = await get("/alarms");
    if (!stopped()) setAlarms(a.alarms);
  }, 2000, []);
  return alarms;
}

// The hour of samples, and the live status as the newest point.
function chartData(samples, status) {
  const t = [], inp = [], out = [], conn = [];
  for (const s of samples ?? []) {
    t.push(s.time_ms / 1000);
    inp.push(s.messages_in_per_second);
    out.push(s.messages_out_per_second);
    conn.push(s.connections);
  }
  if (status && (!t.length || status.at / 1000 > t[t.length - 1])) {
    t.push(status.at / 1000);
    inp.push(status.messages_received_per_second);
    out.push(status.messages_sent_per_second);
    conn.push(status.connections);
  }
  return [t, inp, out, conn];
}

const SERIES = [
  { label: "in /s", color: "--in", scale: "m", fmt: (v) => rate(v) },
  { label: "out /s", color: "--out", scale: "m", fmt: (v) => rate(v) },
  { label: "connections", color: "--ok", scale: "c", fmt: (v) => num(v) },
];
const AXES = [{ scale: "m", fmt: (v) => num(v), min: 5 }, { scale: "c", fmt: (v) => num(v), min: 5 }];

function Alarms({ alarms }) {
  if (!alarms) return html`<p class="muted">Loading…</p>`;
  if (alarms.length === 0) return html`<p class="muted" data-testid="no-alarms">No alarms.</p>`;
  return html`<ul class="alarms">
    ${alarms.map((a) => html`<li class=${"alarm alarm-" + a.severity} data-id=${a.id}>
      <span class="sev">${a.severity}</span> ${a.message}</li>`)}
  </ul>`;
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
  const samples = useStatsHistory();
  const alarms = useAlarms();
  const s = status ?? {};
  const inRate = status ? s.messages_received_per_second : null;
  const outRate = status ? s.messages_sent_per_second : null;
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
    <section class="card" aria-labelledby="alarms-title">
      <h2 id="alarms-title">Alarms${alarms?.length ? " (" + num(alarms.length) + ")" : ""}</h2>
      <div data-testid="alarms"><${Alarms} alarms=${alarms} /></div>
    </section>
    <section class="card">
      <h2>Last hour</h2>
      <${TimeChart} data=${chartData(samples, status)} series=${SERIES} axes=${AXES} height=${220}
        testid="history-chart" label="Messages in and out per second and connections over the last hour" />
      <p class="muted small" data-testid="history-count">${samples ? num(samples.length) + " samples of 10 s kept by the broker" : ""}</p>
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
