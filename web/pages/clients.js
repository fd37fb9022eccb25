// #/clients: the connected MQTT clients, paged and searched by client id
// (GET /api/v1/clients?clientid=), refreshed every 2 s; the in/out rates
// are the differences of each client's message counters between two
// refreshes. #/clients/<id> adds the client's detail with its
// subscriptions (GET /api/v1/clients/{id}) and a Kick button that asks
// first and then disconnects it (DELETE /api/v1/clients/{id}).
import { html, useState, useRef, useEffect, num, rate, bytes, Time, usePoll, Confirm, Pager, Search, canAct } from "../lib.js";
import { get, api, session } from "../api.js";

const LIMIT = 25;

// The client id in #/clients/<id>, or null.
function selectedId() {
  const m = location.hash.match(/^#\/clients\/(.+)$/);
  return m ? decodeURIComponent(m[1]) : null;
}

function useSelected() {
  const [id, setId] = useState(selectedId());
  useEffect(() => {
    const on = () => setId(selectedId());
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return id;
}

const enc = encodeURIComponent;

function Detail({ id, onGone }) {
  const [c, setC] = useState(null);
  const [error, setError] = useState(null);
  // The refresh loop, by hand so that a kick can stop it and wait for the
  // request in flight first (after the kick the client's URL answers 404).
  const loop = useRef({ stop: false, current: Promise.resolve() });
  useEffect(() => {
    const l = { stop: false, current: Promise.resolve() };
    loop.current = l;
    let timer = 0;
    const run = () => {
      l.current = get("/clients/" + enc(id)).then(
        (d) => { if (!l.stop) { setC(d); setError(null); } },
        (e) => { if (!l.stop) { setC(null); setError(e.status === 404 ? "Not connected (any more)." : e.message); } },
      ).then(() => { if (!l.stop) timer = setTimeout(run, 2000); });
    };
    run();
    return () => { l.stop = true; clearTimeout(timer); };
  }, [id]);
  const kick = async () => {
    const l = loop.current;
    l.stop = true;
    await l.current;
    try {
      await api("DELETE", "/clients/" + enc(id));
      onGone(id);
    } catch (e) {
      setError(e.message);
    }
  };
  return html`
    <section class="card" aria-labelledby="client-title" data-testid="client-detail">
      <div class="head">
        <h2 id="client-title">Client <code>${id}</code></h2>
        <a href="#/clients" class="act">Close</a>
      </div>
      ${error ? html`<p class="error" role="alert" data-testid="client-error">${error}</p>` : null}
      ${c ? html`
        <dl class="kv">
          <dt>User</dt><dd>${c.username || "–"}</dd>
          <dt>Address</dt><dd>${c.ip_address}</dd>
          <dt>Listener</dt><dd><code>${c.listener}</code></dd>
          <dt>Protocol</dt><dd>MQTT ${c.proto_ver}</dd>
          <dt>Connected since</dt><dd><${Time} ms=${c.connected_at_ms} /></dd>
          <dt>Keep alive</dt><dd>${num(c.keepalive)} s</dd>
          <dt>Messages in / out</dt><dd>${num(c.messages_received)} / ${num(c.messages_sent)}</dd>
          <dt>In flight</dt><dd>${num(c.inflight)}</dd>
          <dt>Queued</dt><dd>${num(c.queued)} (${bytes(c.queued_bytes)})</dd>
          <dt>Session expiry</dt><dd>${num(c.expiry_interval)} s</dd>
        </dl>
        <h3>Subscriptions (${num(c.subscriptions.length)})</h3>
        ${c.subscriptions.length === 0 ? html`<p class="muted">None.</p>` : html`
          <div class="table-wrap"><table data-testid="client-subscriptions">
            <thead><tr><th scope="col">Filter</th><th scope="col">QoS</th><th scope="col">Options</th></tr></thead>
            <tbody>${c.subscriptions.map((s) => html`<tr>
              <td><code>${s.topic}</code></td><td class="n">${s.qos}</td>
              <td>${[s.no_local && "no local", s.retain_as_published && "retain as published",
                     s.share_group && "shared: " + s.share_group].filter(Boolean).join(", ") || "–"}</td>
            </tr>`)}</tbody>
          </table></div>`}
        ${canAct(session.role) ? html`<p><${Confirm} label="Kick" testid="kick" yes="Disconnect"
            question=${"Disconnect " + id + "?"} onYes=${kick} /></p>` : null}` : null}
    </section>`;
}

export function Clients() {
  const selected = useSelected();
  const [search, setSearch] = useState("");
  const [page, setPage] = useState(1);
  const [list, setList] = useState(null);
  const [error, setError] = useState(null);
  const [notice, setNotice] = useState(null);
  const last = useRef({ at: 0, counts: new Map() });
  const [rates, setRates] = useState(new Map());
  usePoll(async (stopped) => {
    const q = "/clients?limit=" + LIMIT + "&page=" + page + (search ? "&clientid=" + enc(search) : "");
    try {
      const l = await get(q);
      if (stopped()) return;
      const now = Date.now();
      const prev = last.current;
      const next = new Map();
      const r = new Map();
      for (const c of l.data) {
        next.set(c.clientid, [c.messages_received, c.messages_sent, c.connected_at_ms]);
        const p = prev.counts.get(c.clientid);
        if (p && p[2] === c.connected_at_ms && now > prev.at) {
          const dt = (now - prev.at) / 1000;
          r.set(c.clientid, [(c.messages_received - p[0]) / dt, (c.messages_sent - p[1]) / dt]);
        }
      }
      last.current = { at: now, counts: next };
      setRates(r);
      setList(l);
      setError(null);
    } catch (e) {
      if (!stopped()) setError(e.message);
    }
  }, 2000, [search, page, notice]);
  const gone = (id) => {
    setNotice("Disconnected " + id + ".");
    location.hash = "#/clients";
  };
  return html`
    <h1>Clients</h1>
    ${notice ? html`<p class="notice" role="status" data-testid="notice">${notice}</p>` : null}
    ${selected ? html`<${Detail} id=${selected} onGone=${gone} />` : null}
    <section class="card">
      <div class="head">
        <h2>Connected clients</h2>
        <${Search} label="Search by client id" placeholder="Client id contains…" testid="client-search"
          onSearch=${(v) => { setSearch(v); setPage(1); }} />
      </div>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      <div class="table-wrap"><table data-testid="clients">
        <thead><tr>
          <th scope="col">Client id</th><th scope="col">User</th><th scope="col">Address</th>
          <th scope="col">Protocol</th><th scope="col">Connected since</th>
          <th scope="col" class="n">In</th><th scope="col" class="n">Out</th><th scope="col" class="n">Queued</th>
        </tr></thead>
        <tbody>
          ${(list?.data ?? []).map((c) => {
            const r = rates.get(c.clientid);
            return html`<tr aria-selected=${c.clientid === selected ? "true" : undefined}>
              <td><a href=${"#/clients/" + enc(c.clientid)} data-testid="client-link"><code>${c.clientid}</code></a></td>
              <td>${c.username || "–"}</td>
              <td>${c.ip_address}</td>
              <td>${c.proto_ver}</td>
              <td><${Time} ms=${c.connected_at_ms} /></td>
              <td class="n">${r ? rate(r[0]) : "–"}</td>
              <td class="n">${r ? rate(r[1]) : "–"}</td>
              <td class="n">${num(c.queued)}</td>
            </tr>`;
          })}
        </tbody>
      </table></div>
      ${list && list.data.length === 0 ? html`<p class="muted">No connected client${search ? " matches" : ""}.</p>` : null}
      <${Pager} meta=${list?.meta} page=${page} setPage=${setPage} />
    </section>`;
}
