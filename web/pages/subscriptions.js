// #/subscriptions: every session's subscriptions (GET /api/v1/subscriptions,
// searched here by a substring of the client id or the filter) and the
// retained messages (GET /api/v1/retained?topic=<MQTT filter>, paged by the
// server), each deletable after a confirmation
// (DELETE /api/v1/retained/{topic}). Refreshed every 3 s.
import { html, useState, num, bytes, Time, usePoll, Confirm, Pager, Search, canAct } from "../lib.js";
import { get, api, session } from "../api.js";

const LIMIT = 50;
const enc = encodeURIComponent;

function Subscriptions() {
  const [search, setSearch] = useState("");
  const [page, setPage] = useState(1);
  const [rows, setRows] = useState(null);
  const [error, setError] = useState(null);
  usePoll(async (stopped) => {
    try {
      // Every subscription (10,000 at most), searched here.
      const l = await get("/subscriptions?limit=10000");
      if (!stopped()) { setRows(l.data); setError(null); }
    } catch (e) {
      if (!stopped()) setError(e.message);
    }
  }, 3000, []);
  const s = search.toLowerCase();
  const hits = (rows ?? []).filter((r) => !s || r.clientid.toLowerCase().includes(s) || r.topic.toLowerCase().includes(s));
  const shown = hits.slice((page - 1) * LIMIT, page * LIMIT);
  const meta = rows ? { count: hits.length, limit: LIMIT, hasnext: page * LIMIT < hits.length } : null;
  return html`
    <section class="card" aria-labelledby="subs-title">
      <div class="head">
        <h2 id="subs-title">Subscriptions</h2>
        <${Search} label="Search subscriptions" placeholder="Client id or filter contains…" testid="sub-search"
          onSearch=${(v) => { setSearch(v); setPage(1); }} />
      </div>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      <div class="table-wrap"><table data-testid="subscriptions">
        <thead><tr><th scope="col">Client id</th><th scope="col">Filter</th><th scope="col" class="n">QoS</th>
          <th scope="col">Shared group</th></tr></thead>
        <tbody>${shown.map((r) => html`<tr>
          <td><a href=${"#/clients/" + enc(r.clientid)}><code>${r.clientid}</code></a></td>
          <td><code>${r.topic}</code></td><td class="n">${r.qos}</td><td>${r.share_group ?? "–"}</td>
        </tr>`)}</tbody>
      </table></div>
      ${rows && hits.length === 0 ? html`<p class="muted">No subscription${s ? " matches" : ""}.</p>` : null}
      <${Pager} meta=${meta} page=${page} setPage=${setPage} />
    </section>`;
}

function Retained() {
  const [filter, setFilter] = useState("#");
  const [page, setPage] = useState(1);
  const [list, setList] = useState(null);
  const [error, setError] = useState(null);
  const [changed, setChanged] = useState(0);
  usePoll(async (stopped) => {
    try {
      const l = await get("/retained?limit=" + LIMIT + "&page=" + page + "&topic=" + enc(filter));
      if (!stopped()) { setList(l); setError(null); }
    } catch (e) {
      if (!stopped()) setError(e.message);
    }
  }, 3000, [filter, page, changed]);
  const remove = async (topic) => {
    try {
      await api("DELETE", "/retained/" + enc(topic));
      setChanged((n) => n + 1);
    } catch (e) {
      setError(e.message);
    }
  };
  return html`
    <section class="card" aria-labelledby="ret-title">
      <div class="head">
        <h2 id="ret-title">Retained messages</h2>
        <${Search} label="Retained topics matching an MQTT filter" placeholder="Topic filter, e.g. plant/+/temp or #"
          testid="retained-search" onSearch=${(v) => { setFilter(v || "#"); setPage(1); }} />
      </div>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      <div class="table-wrap"><table data-testid="retained">
        <thead><tr><th scope="col">Topic</th><th scope="col" class="n">QoS</th><th scope="col" class="n">Size</th>
          <th scope="col">Publisher</th><th scope="col">Expires</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
        <tbody>${(list?.data ?? []).map((m) => html`<tr data-topic=${m.topic}>
          <td><code>${m.topic}</code></td><td class="n">${m.qos}</td><td class="n">${bytes(m.payload_size)}</td>
          <td>${m.publisher || "–"}</td><td>${m.expires_at_ms ? html`<${Time} ms=${m.expires_at_ms} />` : "never"}</td>
          <td>${canAct(session.role) ? html`<${Confirm} label="Delete" testid="delete-retained" yes="Delete"
            question=${"Delete the retained message on " + m.topic + "?"} onYes=${() => remove(m.topic)} />` : null}</td>
        </tr>`)}</tbody>
      </table></div>
      ${list && list.data.length === 0 ? html`<p class="muted">No retained message matches <code>${filter}</code>.</p>` : null}
      <${Pager} meta=${list?.meta} page=${page} setPage=${setPage} />
    </section>`;
}

export function SubscriptionsPage() {
  return html`<h1>Subscriptions and retained messages</h1>
    <${Subscriptions} />
    <${Retained} />`;
}
