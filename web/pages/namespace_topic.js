// The Namespace page's topic pane: one catalogued topic
// (GET /api/v1/topics/{topic}, polled every second) with its last value
// (JSON pretty-printed) and what changed against the value before it,
// the message's properties, retained flag, publisher and QoS, its place
// in the ISA-95 model, its contracts and last violation, and its inferred
// schema (GET /api/v1/topics/{topic}/schema, fetched again when a new
// schema version appears). Below it the topic's history and the publish
// panel. An admin can clear the topic's retained message here.
import { html, useState, useEffect, useRef, num, rate, bytes, Time, usePoll } from "../lib.js";
import { api, get } from "../api.js";
import { History } from "./namespace_history.js";
import { Publish } from "./namespace_publish.js";

const enc = encodeURIComponent;

function parsed(text) {
  try { return { ok: true, v: JSON.parse(text) }; } catch { return { ok: false }; }
}

export function pretty(text, truncated) {
  if (truncated) return text;
  const p = parsed(text);
  return p.ok && typeof p.v === "object" && p.v !== null ? JSON.stringify(p.v, null, 2) : text;
}

// JSON values as JSON-pointer paths -> JSON text of the leaves.
function flatten(v, path, out) {
  if (v !== null && typeof v === "object") {
    const entries = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
    if (!entries.length) out.set(path || "/", JSON.stringify(v));
    for (const [k, x] of entries) flatten(x, path + "/" + String(k).replace(/~/g, "~0").replace(/\//g, "~1"), out);
  } else {
    out.set(path || "/", JSON.stringify(v));
  }
  return out;
}

// What changed from `before` to `after`: [{path, before, after}], a
// missing side undefined. Two JSON documents are compared leaf by leaf,
// anything else as a whole.
export function diff(before, after) {
  if (before === after) return [];
  const a = parsed(before);
  const b = parsed(after);
  if (!a.ok || !b.ok) return [{ path: "", before, after }];
  const fa = flatten(a.v, "", new Map());
  const fb = flatten(b.v, "", new Map());
  const out = [];
  for (const [path, v] of fa) if (fb.get(path) !== v) out.push({ path, before: v, after: fb.get(path) });
  for (const [path, v] of fb) if (!fa.has(path)) out.push({ path, before: undefined, after: v });
  return out;
}

function Diff({ changes }) {
  if (!changes) return html`<p class="muted" data-testid="diff">No earlier value seen while this page is open.</p>`;
  if (!changes.length) return html`<p class="muted" data-testid="diff">The same value as before.</p>`;
  return html`
    <ul class="ns-diff" data-testid="diff">
      ${changes.slice(0, 100).map((c) => html`
        <li key=${c.path}>
          ${c.path ? html`<code>${c.path}</code> ` : null}
          ${c.before === undefined ? html`<span class="muted">added</span> ` : html`<del>${c.before}</del> `}
          <span title="became">→</span>
          ${c.after === undefined ? html` <span class="muted">removed</span>` : html` <ins>${c.after}</ins>`}
        </li>`)}
      ${changes.length > 100 ? html`<li class="muted">and ${num(changes.length - 100)} more</li>` : null}
    </ul>`;
}

function Schema({ topic, versions }) {
  const [schema, setSchema] = useState(null);
  useEffect(() => {
    if (!versions) { setSchema(null); return undefined; }
    let stop = false;
    get("/topics/" + enc(topic) + "/schema")
      .then((s) => { if (!stop) setSchema(s); })
      .catch(() => { if (!stop) setSchema(null); });
    return () => { stop = true; };
  }, [topic, versions]);
  if (!versions) return html`<p class="muted">No schema inferred (the payloads are not JSON).</p>`;
  if (!schema) return null;
  const fields = Object.entries(schema.fields ?? {});
  return html`
    <p class="muted">Version ${num(schema.current_version)} of ${num(schema.versions?.length)}.</p>
    <table class="ns-table" data-testid="schema">
      <thead><tr><th scope="col">Field</th><th scope="col">Types</th><th scope="col" class="num">Presence</th></tr></thead>
      <tbody>
        ${fields.map(([path, f]) => html`
          <tr key=${path}><td><code>${path || "/"}</code></td><td>${f.types}</td>
            <td class="num">${num(Math.round(f.presence * 100))} %</td></tr>`)}
      </tbody>
    </table>`;
}

function Violation({ v }) {
  if (!v) return html`<span>none</span>`;
  const what = ": contract " + v.contract + " v" + v.version + ", " + v.kind + (v.pointer ? " at " + v.pointer : "")
    + (v.detail ? " (" + v.detail + ")" : "") + ", from ";
  return html`<span data-testid="last-violation"><${Time} ms=${v.time_ms} />${what}<code>${v.client_id}</code>${", " + v.action}</span>`;
}

export function TopicPane({ topic, readOnly, notFound }) {
  const [t, setT] = useState(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState(null);
  const [note, setNote] = useState(null);
  const seen = useRef({ value: undefined, changes: null, messages: undefined, gen: 0 });
  const known = useRef(false);
  usePoll(async () => {
    try {
      // A tree node need not be a topic: ask the search first (no 404 in
      // the browser's console), then the topic itself.
      if (!known.current) {
        const r = await get("/topics?limit=1&match=" + enc(topic));
        if (!r.meta.count) { setMissing(true); return; }
        known.current = true;
      }
      const d = await get("/topics/" + enc(topic));
      const s = seen.current;
      if (s.messages !== undefined && d.messages !== s.messages) s.gen++;
      if (s.value !== undefined && d.value !== s.value) s.changes = diff(s.value, d.value);
      s.value = d.value;
      s.messages = d.messages;
      setT(d);
      setMissing(false);
      setError(null);
    } catch (e) {
      if (e.status === 404) {
        known.current = false;  // evicted from the catalog: back to asking the search
        setMissing(true);
      } else {
        setError(e.message);
      }
    }
  }, 1000, [topic]);

  const clear = async () => {
    setNote(null);
    try {
      await api("DELETE", "/retained/" + enc(topic));
      setNote("The retained message of this topic is deleted.");
    } catch (e) {
      setNote(e.status === 404 ? "This topic has no retained message." : e.message);
    }
  };

  if (missing) {
    return notFound ?? html`<section class="card"><p class="muted" data-testid="topic-missing">
      <code>${topic}</code> is not in the catalog.</p></section>`;
  }
  if (!t) return html`<section class="card"><p class="muted">${error ?? "Loading…"}</p></section>`;
  const s = seen.current;
  const place = t.isa95 ? Object.entries(t.isa95) : [];
  return html`
    <section class="card ns-topic-pane" data-testid="topic-pane" aria-labelledby="ns-topic-h">
      <h2 id="ns-topic-h" class="ns-head"><code class="ns-topic" data-testid="topic-name">${t.topic}</code>
        <span class=${"badge " + (t.status === "violating" ? "bad" : "ok")} data-testid="topic-status">${t.status}</span></h2>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      <div class="ns-cols">
        <div>
          <h3>Value</h3>
          <pre class=${"ns-value" + (s.gen ? " ns-flash" + (s.gen % 2) : "")} data-testid="value" tabindex="0"
            aria-label="Last value">${pretty(t.value, t.value_truncated)}</pre>
          ${t.value_truncated ? html`<p class="muted">Only the start of the payload is kept (${bytes(t.size)} in all).</p>` : null}
          <h3>Change from the value before</h3>
          <${Diff} changes=${s.changes} />
        </div>
        <div>
          <h3>Last message</h3>
          <dl class="kv">
            <dt>Received</dt><dd data-testid="last-seen"><${Time} ms=${t.last_seen_ms} /></dd>
            <dt>First seen</dt><dd><${Time} ms=${t.first_seen_ms} /></dd>
            <dt>Messages</dt><dd data-testid="messages">${num(t.messages)}</dd>
            <dt>Rate</dt><dd title="Messages per second, over the last seconds">${rate(t.rate_per_s)}</dd>
            <dt>QoS</dt><dd data-testid="qos">${t.qos}</dd>
            <dt>Retained</dt><dd data-testid="retain">${t.retain ? "yes" : "no"}</dd>
            <dt>Publisher</dt><dd data-testid="publisher"><code>${t.publisher || "–"}</code></dd>
            <dt>Size</dt><dd>${bytes(t.size)}</dd>
            <dt>Payload</dt><dd>${t.kind || "–"}</dd>
            ${t.user_properties.length ? html`
              <dt>User properties</dt>
              <dd data-testid="user-properties">${t.user_properties.map(([k, v]) => html`<div key=${k}><code>${k}</code> = <code>${v}</code></div>`)}</dd>`
              : null}
            ${Object.entries(t.properties || {}).map(([k, v]) => html`
              <dt key=${"p-" + k}>${k.replace(/_base64$/, "").replaceAll("_", " ")}</dt>
              <dd key=${"v-" + k} data-testid=${"property-" + k}><code>${k === "message_expiry_interval" ? v + " s" : String(v)}</code></dd>`)}
          </dl>
          ${!readOnly && t.retain ? html`<p><button type="button" class="btn" data-testid="clear-topic" data-mutating
              onClick=${clear}>Clear retained message</button></p>` : null}
          ${note ? html`<p role="status" data-testid="clear-topic-result">${note}</p>` : null}
        </div>
      </div>
      <div class="ns-cols">
        <div>
          <h3>Contracts</h3>
          <dl class="kv">
            <dt>Contracts</dt><dd data-testid="contracts">${t.contracts.length ? t.contracts.join(", ") : "none"}</dd>
            <dt>Violations</dt><dd>${num(t.violations)}</dd>
            <dt>Last violation</dt><dd><${Violation} v=${t.last_violation} /></dd>
            ${t.namespace ? html`<dt>Namespace</dt><dd>${t.namespace}</dd>` : null}
            ${place.map(([k, v]) => html`<dt key=${k}>${k}</dt><dd>${v}</dd>`)}
            ${t.model_error ? html`<dt>Model</dt><dd class="error">${t.model_error}</dd>` : null}
          </dl>
        </div>
        <div>
          <h3>Inferred schema</h3>
          <${Schema} topic=${t.topic} versions=${t.schema_versions} />
        </div>
      </div>
    </section>
    <${History} topic=${t.topic} lastSeen=${t.last_seen_ms} />
    ${readOnly ? null : html`<${Publish} topic=${t.topic} value=${t.value_truncated ? "" : t.value} />`}`;
}
