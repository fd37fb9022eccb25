// #/bridges: each bridge (GET /api/v1/bridges, every 2 s) with its state,
// lag, outbox depth in messages and bytes, send and acknowledge rates
// (differences of its counters between two refreshes), re-sends, drops
// and dead letters; Pause and Resume (POST /api/v1/bridges/{name}/pause
// and /resume); and a small chart of its lag and queue depth over the
// last hour from the broker's stats history (GET /api/v1/stats/history).
import { html, useState, useRef, num, rate, bytes, millis, usePoll, useStatsHistory, TimeChart, canAct } from "../lib.js";
import { get, api, session } from "../api.js";

const enc = encodeURIComponent;

function dropped(b) {
  return Object.values(b.dropped ?? {}).reduce((a, n) => a + n, 0);
}

function BridgeChart({ name, samples }) {
  const t = [], lag = [], queued = [];
  for (const s of samples ?? []) {
    const b = s.bridges.find((x) => x.name === name);
    if (!b) continue;
    t.push(s.time_ms / 1000);
    lag.push(b.lag_ms / 1000);
    queued.push(b.queued_messages);
  }
  return html`<${TimeChart} data=${[t, lag, queued]} height=${140} testid=${"bridge-chart-" + name}
    label=${"Lag and queued messages of bridge " + name + " over the last hour"}
    axes=${[{ scale: "q", fmt: (v) => num(v) }, { scale: "s", fmt: (v) => millis(v * 1000) }]}
    series=${[
      { label: "lag", color: "--out", scale: "s", fmt: (v) => millis(v * 1000) },
      { label: "queued", color: "--in", scale: "q", fmt: (v) => num(v) + " msgs" },
    ]} />`;
}

function Bridge({ b, r, samples, onChange }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const paused = b.state === "paused";
  const toggle = async () => {
    setBusy(true);
    try {
      onChange(await api("POST", "/bridges/" + enc(b.name) + (paused ? "/resume" : "/pause")));
      setError(null);
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <section class="card bridge" aria-labelledby=${"bridge-" + b.name} data-testid="bridge" data-name=${b.name}>
      <div class="head">
        <h2 id=${"bridge-" + b.name}>${b.name} <span class="muted">(${b.type})</span></h2>
        <span class=${"state state-" + b.state} data-testid="bridge-state">${b.state}</span>
        ${canAct(session.role) ? html`<button type="button" class="act" disabled=${busy} onClick=${toggle}
            data-testid=${paused ? "resume" : "pause"}>${paused ? "Resume" : "Pause"}</button>` : null}
      </div>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      <div class="cols">
        <dl class="kv">
          <dt>Lag</dt><dd data-testid="bridge-lag">${millis(b.oldest_unacknowledged_age_ms)}</dd>
          <dt>Queued</dt><dd data-testid="bridge-queued">${num(b.queued_messages)} msgs · ${bytes(b.queued_bytes)}</dd>
          <dt>Sent</dt><dd>${num(b.sent)} · ${r ? rate(r.sent) : "–"}</dd>
          <dt>Acknowledged</dt><dd>${num(b.acknowledged)} · ${r ? rate(r.acknowledged) : "–"}</dd>
          <dt>Received</dt><dd>${num(b.received)} · ${r ? rate(r.received) : "–"}</dd>
          <dt>Re-sent</dt><dd>${num(b.resent)}</dd>
          <dt>Dropped</dt><dd title=${Object.entries(b.dropped ?? {}).map(([k, v]) => k + ": " + num(v)).join(", ")}>${num(dropped(b))}</dd>
          <dt>Dead letters</dt><dd>${num(b.dead_lettered)}</dd>
          <dt>Expired</dt><dd>${num(b.expired)}</dd>
          <dt>Connection failures</dt><dd>${num(b.connection_failures)}</dd>
          ${b.blocking ? html`<dt>Outbox</dt><dd class="bad">full: holding publishers</dd>` : null}
        </dl>
        <${BridgeChart} name=${b.name} samples=${samples} />
      </div>
    </section>`;
}

export function Bridges() {
  const [list, setList] = useState(null);
  const [error, setError] = useState(null);
  const last = useRef({ at: 0, by: new Map() });
  const [rates, setRates] = useState(new Map());
  const samples = useStatsHistory();
  const take = (data) => {
    const now = Date.now();
    const prev = last.current;
    const r = new Map();
    const by = new Map();
    for (const b of data) {
      by.set(b.name, b);
      const p = prev.by.get(b.name);
      if (p && now > prev.at) {
        const dt = (now - prev.at) / 1000;
        r.set(b.name, { sent: (b.sent - p.sent) / dt, acknowledged: (b.acknowledged - p.acknowledged) / dt,
                        received: (b.received - p.received) / dt });
      }
    }
    last.current = { at: now, by };
    setRates(r);
    setList(data);
  };
  usePoll(async (stopped) => {
    try {
      const l = await get("/bridges?limit=1000");
      if (!stopped()) { take(l.data); setError(null); }
    } catch (e) {
      if (!stopped()) setError(e.message);
    }
  }, 2000, []);
  // A pause or resume answers the bridge as it is now.
  const changed = (b) => setList((l) => (l ?? []).map((x) => (x.name === b.name ? b : x)));
  return html`
    <h1>Bridges</h1>
    ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    ${list && list.length === 0 ? html`<p class="card muted">No bridge is configured ([[bridge]] in strata.toml).</p>` : null}
    ${(list ?? []).map((b) => html`<${Bridge} key=${b.name} b=${b} r=${rates.get(b.name)} samples=${samples} onChange=${changed} />`)}`;
}
