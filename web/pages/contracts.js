// #/contracts: the namespace's data contracts. The list (GET
// /api/v1/contracts, every two seconds) with each contract's version,
// filter, action and how many messages passed and failed, by kind; the
// feed of the latest violations (GET /api/v1/contracts/violations, once a
// second, newest first); and a form that checks a payload against a
// contract as the broker would (POST /api/v1/contracts/{name}/test).
import { html, useState, useEffect, num, Time } from "../lib.js";
import { api, get } from "../api.js";
import { useStyle } from "./rules.js";

const FEED = 50;  // violations shown

// Polls `path` every `every` ms (the next poll starts after the answer).
function usePoll(path, every) {
  const [data, setData] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    let stop = false;
    let timer = 0;
    const poll = async () => {
      const started = performance.now();
      try {
        const r = await get(path);
        if (stop) return;
        setData(r);
        setError(null);
      } catch (e) {
        if (stop) return;
        setError(e.status === 409 || e.status === 404 ? "The namespace ([uns]) is off here." : e.message);
      }
      timer = setTimeout(poll, Math.max(0, every - (performance.now() - started)));
    };
    poll();
    return () => { stop = true; clearTimeout(timer); };
  }, [path, every]);
  return [data, error];
}

function kinds(byKind) {
  return Object.entries(byKind ?? {}).filter(([, n]) => n > 0)
    .map(([k, n]) => html`<span class="tag" key=${k}>${k.replace(/_/g, " ")} ${num(n)}</span>`);
}

function ContractList({ contracts }) {
  if (!contracts) return html`<p class="muted">Loading…</p>`;
  if (!contracts.length) return html`<p class="muted">No contracts: <code>[[uns.contract]]</code> in the config adds them.</p>`;
  return html`
    <div class="table-wrap">
      <table class="grid stack" data-testid="contracts">
        <thead><tr>
          <th scope="col">Contract</th><th scope="col" class="n">Version</th><th scope="col">Filter</th>
          <th scope="col">Action</th><th scope="col" class="n">Matched</th><th scope="col" class="n">Passed</th>
          <th scope="col" class="n">Failed</th><th scope="col">Failures by kind</th>
        </tr></thead>
        <tbody>
          ${contracts.map((c) => html`
            <tr key=${c.name} data-contract=${c.name}>
              <th scope="row" title=${c.schema_file || c.shape}>${c.name}</th>
              <td class="n" data-label="Version" data-testid="version">v${c.version}</td>
              <td data-label="Filter"><code>${c.filter}</code></td>
              <td data-label="Action">${c.action}</td>
              <td class="n" data-label="Matched" data-testid="matched">${num(c.matched)}</td>
              <td class="n" data-label="Passed" data-testid="passed">${num(c.passed)}</td>
              <td class="n" data-label="Failed" data-testid="failed">${c.failed ? html`<span class="pill bad">${num(c.failed)}</span>` : num(c.failed)}</td>
              <td data-label="Failures by kind" data-testid="kinds">${kinds(c.failed_by_kind)}</td>
            </tr>`)}
        </tbody>
      </table>
    </div>`;
}

function Violations({ feed, error }) {
  return html`
    <section class="card" aria-labelledby="violations-title">
      <h2 id="violations-title">Latest violations</h2>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      ${!feed ? html`<p class="muted">Loading…</p>`
        : !feed.data.length ? html`<p class="muted" data-testid="no-violations">No violations.</p>`
        : html`
          <div class="table-wrap">
            <table class="grid stack" data-testid="violations">
              <thead><tr>
                <th scope="col">Time</th><th scope="col">Topic</th><th scope="col">Contract</th>
                <th scope="col">Violation</th><th scope="col">Client</th><th scope="col">Action</th><th scope="col">Payload</th>
              </tr></thead>
              <tbody>
                ${feed.data.map((v, i) => html`
                  <tr key=${v.time_ms + v.topic + i}>
                    <td class="nowrap" data-label="Time"><${Time} ms=${v.time_ms} /></td>
                    <td data-label="Topic"><code>${v.topic}</code></td>
                    <td data-label="Contract">${v.contract} v${v.version}</td>
                    <td data-label="Violation" data-testid="kind"><span>${v.kind.replace(/_/g, " ")}${v.pointer ? html` at <code>${v.pointer}</code>` : null}${v.detail ? " (" + v.detail + ")" : ""}</span></td>
                    <td data-label="Client">${v.client_id}</td>
                    <td data-label="Action">${v.action}</td>
                    <td data-label="Payload"><code class="payload">${v.sample}</code></td>
                  </tr>`)}
              </tbody>
            </table>
          </div>`}
    </section>`;
}

// The chosen contract's schema or shape, to write a payload against.
function Schema({ name }) {
  const [c, setC] = useState(null);
  useEffect(() => {
    if (!name) return undefined;
    let stop = false;
    get("/contracts/" + encodeURIComponent(name)).then((r) => { if (!stop) setC(r); }, () => { if (!stop) setC(null); });
    return () => { stop = true; };
  }, [name]);
  return html`
    <section class="card" aria-labelledby="schema-title">
      <h2 id="schema-title">${name ? "Contract " + name : "Contract"}</h2>
      ${!c ? html`<p class="muted">–</p>` : html`
        <dl class="kv">
          <dt>Filter</dt><dd><code>${c.filter}</code></dd>
          <dt>Shape</dt><dd>${c.shape}</dd>
          <dt>Action</dt><dd>${c.action}</dd>
        </dl>
        ${c.schema ? html`<pre class="schema" data-testid="schema" tabindex="0" aria-label="JSON Schema">${JSON.stringify(c.schema, null, 2)}</pre>` : null}`}
    </section>`;
}

function TestPayload({ contracts, name, setName }) {
  const [payload, setPayload] = useState("");
  const [answer, setAnswer] = useState(null);
  const [busy, setBusy] = useState(false);
  const chosen = name;
  const submit = async (e) => {
    e.preventDefault();
    if (!chosen) return;
    setBusy(true);
    try {
      const r = await api("POST", "/contracts/" + encodeURIComponent(chosen) + "/test", { samples: [payload] });
      setAnswer({ contract: chosen, ...r.results[0] });
    } catch (err) {
      setAnswer({ error: err.message });
    } finally {
      setBusy(false);
    }
  };
  return html`
    <section class="card" aria-labelledby="test-title">
      <h2 id="test-title">Test a payload</h2>
      <form class="test-form" onSubmit=${submit}>
        <label>Contract
          <select data-testid="test-contract" value=${chosen} onChange=${(e) => { setName(e.target.value); setAnswer(null); }}>
            ${(contracts ?? []).map((c) => html`<option value=${c.name} key=${c.name}>${c.name} (v${c.version})</option>`)}
          </select>
        </label>
        <label>Payload
          <textarea rows="4" data-testid="test-payload" value=${payload} spellcheck="false"
            onInput=${(e) => { setPayload(e.target.value); setAnswer(null); }}
            placeholder='{"value": 21.5}'></textarea>
        </label>
        <div class="buttons">
          <button type="submit" class="primary" data-testid="test-button" disabled=${busy || !chosen}>Test</button>
        </div>
      </form>
      ${answer
        ? html`<p role="status" data-testid="test-answer" class=${answer.valid ? "ok" : "error"}>${answer.error
          ? answer.error
          : answer.valid
            ? "Valid for " + answer.contract
            : html`Invalid for ${answer.contract}: ${answer.kind.replace(/_/g, " ")}${answer.pointer ? html` at <code>${answer.pointer}</code>` : null}${answer.detail ? " (" + answer.detail + ")" : ""}`}</p>`
        : null}
    </section>`;
}

export function Contracts() {
  const [list, listError] = usePoll("/contracts?limit=1000", 2000);
  const [feed, feedError] = usePoll("/contracts/violations?limit=" + FEED, 1000);
  const styled = useStyle();
  const [name, setName] = useState("");
  const contracts = list?.data ?? null;
  const chosen = name || contracts?.[0]?.name || "";
  if (!styled) return html`<p class="muted">Loading…</p>`;
  return html`
    <h1 class="visually-hidden">Contracts</h1>
    <section class="card">
      <h2>Contracts</h2>
      ${listError ? html`<p class="error" role="alert">${listError}</p>` : null}
      <${ContractList} contracts=${contracts} />
    </section>
    <div class="cols">
      <${TestPayload} contracts=${contracts} name=${chosen} setName=${setName} />
      <${Schema} name=${chosen} />
    </div>
    <${Violations} feed=${feed} error=${feedError} />`;
}
