// #/namespace: the plant's topic tree from the namespace catalog.
//
// Left, the tree (GET /api/v1/namespace, one level per request, loaded
// when a node is opened) with each node's topic count, message rate and
// contract status of its subtree; a row flashes when its message count
// moved since the last poll. Above it a search box: plain text is a
// substring, text with + or # an MQTT filter, /text/ a regular
// expression (GET /api/v1/topics?q=|match=|regex=). Right, what is
// selected: a topic's pane (namespace_topic.js) with its history
// (namespace_history.js) and the publish panel (namespace_publish.js), or
// a node's summary; and clearing the retained messages under a filter,
// with a dry run listing them first (DELETE /api/v1/retained?filter=).
//
// The selection is in the URL (#/namespace?topic=a/b/c), so a topic has
// its own address. The tree and the open search are polled every two
// seconds (the tree less often with more than four nodes open), the
// selected topic every second, only while the tab shows.
import { html, useState, useEffect, useRef, useCallback, num, rate, Time, usePoll, loadOnce } from "../lib.js";
import { api, get, session } from "../api.js";
import { TopicPane } from "./namespace_topic.js";

// The page's own styles, beside it (the CSP allows only files of this origin).
loadOnce("style", "pages/namespace.css").catch(() => {});

const TREE_POLL_MS = 2000;
const enc = encodeURIComponent;

function selectedFromHash() {
  const q = location.hash.split("?")[1] ?? "";
  return new URLSearchParams(q).get("topic");
}

function setSelectedInHash(path) {
  const hash = path === null ? "#/namespace" : "#/namespace?topic=" + enc(path);
  history.replaceState(null, "", hash);
}

// What the search box means: /re/ a regex, a level that is + or # a
// filter, else text (a substring).
export function searchQuery(text, mode) {
  const s = text.trim();
  if (!s) return null;
  let m = mode;
  if (m === "auto") m = /^\/.+\/$/.test(s) ? "regex" : /(^|\/)[+#](\/|$)/.test(s) ? "filter" : "text";
  if (m === "regex") return { kind: "regex", arg: "regex=" + enc(s.replace(/^\/(.+)\/$/, "$1")) };
  if (m === "filter") return { kind: "filter", arg: "match=" + enc(s) };
  return { kind: "text", arg: "q=" + enc(s) };
}

function Status({ status }) {
  const bad = status === "violating";
  return html`<span class=${"ns-status " + (bad ? "bad" : "ok")}
    title=${bad ? "A contract is failing in this subtree" : "Contracts pass (or none apply)"}>
    <span aria-hidden="true">${bad ? "✕" : "●"}</span><span class="visually-hidden">${bad ? "violating" : "ok"}</span>
  </span>`;
}

// ---- the tree ----------------------------------------------------------

function useTree() {
  const [nodes, setNodes] = useState(() => new Map());  // path -> node (children as paths)
  const [open, setOpen] = useState(() => new Set([""]));
  const [error, setError] = useState(null);
  const last = useRef(new Map());  // path -> messages at the previous poll
  const updates = useRef(new Map());  // path -> polls that saw its count move (data-updates)
  const [flash, setFlash] = useState({ gen: 0, paths: new Set() });

  const current = useRef(new Map());
  const load = useCallback(async (paths) => {
    const answers = await Promise.all(paths.map((p) =>
      get("/namespace?depth=1&limit=500" + (p ? "&path=" + enc(p) : "")).catch((e) => ({ error: e, path: p }))));
    const next = new Map(current.current);
    for (const a of answers) {
      if (a.error) continue;
      const kids = (a.children ?? []).map((c) => c.path);
      next.set(a.path, { ...a, children: kids, more: a.child_count - kids.length });
      for (const c of a.children ?? []) {
        const old = next.get(c.path);
        next.set(c.path, { ...c, children: old?.children ?? [], more: old?.more ?? 0 });
      }
    }
    const changed = new Set();
    for (const [path, n] of next) {
      const prev = last.current.get(path);
      if (prev !== undefined && prev !== n.messages) {
        changed.add(path);
        updates.current.set(path, (updates.current.get(path) ?? 0) + 1);
      }
      last.current.set(path, n.messages);
    }
    current.current = next;
    setNodes(next);
    const failed = answers.find((a) => a.error);
    setError(failed ? failed.error.message : null);
    setFlash((f) => ({ gen: f.gen + 1, paths: changed }));
  }, []);

  // Each request merges the whole catalog on the broker: with many nodes
  // open the tree is asked less often (half a second per open node).
  usePoll(() => load([...open]), Math.max(TREE_POLL_MS, 500 * open.size), [open]);

  const toggle = (path, want) => {
    setOpen((before) => {
      const next = new Set(before);
      const isOpen = next.has(path);
      if (want === undefined ? isOpen : !want) {
        for (const p of next) if (p === path || p.startsWith(path + "/")) next.delete(p);
      } else {
        next.add(path);
      }
      next.add("");
      return next;
    });
  };
  return { nodes, open, toggle, error, flash, updates: updates.current };
}

// Arrow keys move between the tree's rows; right opens, left closes or
// goes to the parent.
function onTreeKey(e, tree, node) {
  const rows = [...e.currentTarget.closest("[data-testid=tree]").querySelectorAll("button.ns-name")];
  const i = rows.indexOf(e.target);
  const focus = (j) => { if (rows[j]) { rows[j].focus(); e.preventDefault(); } };
  if (e.key === "ArrowDown") focus(i + 1);
  else if (e.key === "ArrowUp") focus(i - 1);
  else if (e.key === "Home") focus(0);
  else if (e.key === "End") focus(rows.length - 1);
  else if (e.key === "ArrowRight" && node.child_count > 0) {
    if (!tree.open.has(node.path)) tree.toggle(node.path, true); else focus(i + 1);
    e.preventDefault();
  } else if (e.key === "ArrowLeft") {
    if (tree.open.has(node.path) && node.child_count > 0) { tree.toggle(node.path, false); e.preventDefault(); }
    else {
      const parent = node.path.includes("/") ? node.path.slice(0, node.path.lastIndexOf("/")) : null;
      if (parent !== null) focus(rows.findIndex((r) => r.dataset.path === parent));
    }
  }
}

// One row of the tree is in the Tab order (the selected one when it
// shows, else the first); the arrow keys move between the rows.
function TreeNode({ path, tree, selected, onSelect, level, tabPath }) {
  const n = tree.nodes.get(path);
  if (!n) return null;
  const isOpen = tree.open.has(path) && n.child_count > 0;
  const flash = tree.flash.paths.has(path) ? " ns-flash" + (tree.flash.gen % 2) : "";
  return html`
    <li>
      <div class=${"ns-row" + flash + (selected === path ? " selected" : "")} data-row=${path}
        data-updates=${tree.updates.get(path) ?? 0}>
        ${n.child_count > 0
          ? html`<button type="button" class="ns-twisty" tabindex="-1" aria-expanded=${isOpen ? "true" : "false"}
              aria-label=${(isOpen ? "Close " : "Open ") + n.name} onClick=${() => tree.toggle(path)}>${isOpen ? "▾" : "▸"}</button>`
          : html`<span class="ns-twisty" aria-hidden="true"></span>`}
        <button type="button" class="ns-name" data-path=${path} aria-level=${level}
          tabindex=${path === tabPath ? "0" : "-1"}
          aria-expanded=${n.child_count > 0 ? (isOpen ? "true" : "false") : undefined}
          aria-current=${selected === path ? "true" : undefined}
          onClick=${() => { onSelect(path); if (n.child_count > 0 && !tree.open.has(path)) tree.toggle(path, true); }}
          onKeyDown=${(e) => onTreeKey(e, tree, n)}>${n.name || "(empty)"}</button>
        <span class="ns-meta" data-testid="node-meta">
          <span title="Topics in this subtree">${num(n.topics)} ${n.topics === 1 ? "topic" : "topics"}</span>
          <span title="Messages per second in this subtree">${rate(n.rate_per_s)}</span>
        </span>
        <${Status} status=${n.status} />
      </div>
      ${isOpen ? html`
        <ul>
          ${n.children.map((c) => html`<${TreeNode} key=${c} path=${c} tree=${tree} selected=${selected}
              onSelect=${onSelect} level=${level + 1} tabPath=${tabPath} />`)}
          ${n.more > 0 ? html`<li class="muted ns-more">${num(n.more)} more not shown; search to find them</li>` : null}
        </ul>` : null}
    </li>`;
}

function Tree({ tree, selected, onSelect }) {
  const root = tree.nodes.get("");
  if (!root) return html`<p class="muted">${tree.error ? "" : "Loading the namespace…"}</p>`;
  if (!root.children.length) {
    return html`<p class="muted" data-testid="tree-empty">No topics in the catalog yet. Publish something, or turn the
      namespace on (<code>[uns] enabled = true</code>).</p>`;
  }
  const parts = selected ? selected.split("/") : [];
  const shows = selected !== null && tree.nodes.has(selected)
    && parts.slice(0, -1).every((_, i) => tree.open.has(parts.slice(0, i + 1).join("/")));
  const tabPath = shows ? selected : root.children[0];
  return html`
    <ul class="ns-tree" data-testid="tree" aria-label="Topic tree">
      ${root.children.map((c) => html`<${TreeNode} key=${c} path=${c} tree=${tree} selected=${selected}
          onSelect=${onSelect} level=${1} tabPath=${tabPath} />`)}
      ${root.more > 0 ? html`<li class="muted ns-more">${num(root.more)} more not shown</li>` : null}
    </ul>`;
}

// ---- search ------------------------------------------------------------

function Search({ onSelect, selected, text, setText }) {
  const [mode, setMode] = useState("auto");
  const [found, setFound] = useState(null);
  const [error, setError] = useState(null);
  const [q, setQ] = useState(null);
  useEffect(() => {
    const t = setTimeout(() => setQ(searchQuery(text, mode)), 250);
    return () => clearTimeout(t);
  }, [text, mode]);
  usePoll(async () => {
    if (!q) { setFound(null); setError(null); return; }
    try {
      const r = await get("/topics?limit=200&" + q.arg);
      setFound({ kind: q.kind, items: r.data, count: r.meta.count });
      setError(null);
    } catch (e) {
      setFound(null);
      setError(e.message);
    }
  }, TREE_POLL_MS, [q]);
  return html`
    <form class="ns-search" role="search" onSubmit=${(e) => e.preventDefault()}>
      <label class="visually-hidden" for="ns-q">Search topics</label>
      <input id="ns-q" type="search" data-testid="search" value=${text} autocomplete="off" spellcheck="false"
        placeholder="Search: text, filter a/+/b/#, or /regex/" onInput=${(e) => setText(e.target.value)} />
      <label class="visually-hidden" for="ns-mode">Search as</label>
      <select id="ns-mode" data-testid="search-mode" value=${mode} onChange=${(e) => setMode(e.target.value)}>
        <option value="auto">Auto</option>
        <option value="text">Text</option>
        <option value="filter">Filter</option>
        <option value="regex">Regex</option>
      </select>
    </form>
    ${error ? html`<p class="error" role="alert" data-testid="search-error">${error}</p>` : null}
    ${found ? html`
      <p class="muted ns-found" data-testid="result-count" aria-live="polite">
        ${num(found.count)} ${found.count === 1 ? "topic" : "topics"} (${found.kind})${found.count > found.items.length
          ? ", the first " + num(found.items.length) + " shown" : ""}</p>
      <ul class="ns-results" data-testid="results">
        ${found.items.map((t) => html`
          <li key=${t.topic} class=${selected === t.topic ? "selected" : ""}>
            <button type="button" class="ns-result" data-topic=${t.topic} onClick=${() => onSelect(t.topic)}>${t.topic}</button>
            <span class="ns-meta">${num(t.messages)} msg · ${rate(t.rate_per_s)}</span>
            <${Status} status=${t.status} />
          </li>`)}
      </ul>` : null}`;
}

// ---- a node's summary and clearing retained messages ---------------------

function NodePane({ node, onSearch }) {
  return html`
    <section class="card" data-testid="node-pane">
      <h2><code class="ns-topic">${node.path}</code></h2>
      <dl class="kv">
        <dt>Topics</dt><dd>${num(node.topics)}</dd>
        <dt>Messages</dt><dd>${num(node.messages)}</dd>
        <dt>Rate</dt><dd>${rate(node.rate_per_s)}</dd>
        <dt>Last message</dt><dd><${Time} ms=${node.last_seen_ms} /></dd>
        <dt>Contracts</dt><dd>${node.status === "violating" ? "failing below here" : "ok"}</dd>
      </dl>
      <p><button type="button" class="btn" onClick=${() => onSearch(node.path + "/#")}>List the topics below</button></p>
    </section>`;
}

function ClearRetained({ initial }) {
  const [filter, setFilter] = useState(initial);
  const [dry, setDry] = useState(null);  // {filter, topics, count}
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => { setFilter(initial); setDry(null); setResult(null); setError(null); }, [initial]);
  const run = async (dryRun) => {
    setBusy(true);
    setError(null);
    try {
      const r = await api("DELETE", "/retained?filter=" + enc(filter) + (dryRun ? "&dry_run=true" : ""));
      if (dryRun) { setDry(r); setResult(null); } else { setDry(null); setResult(r); }
    } catch (e) {
      setError(e.message);
    } finally {
      setBusy(false);
    }
  };
  const ready = dry && dry.filter === filter && dry.count > 0;
  return html`
    <section class="card" aria-labelledby="ns-clear-h">
      <h2 id="ns-clear-h">Clear retained messages</h2>
      <form class="ns-inline" onSubmit=${(e) => { e.preventDefault(); run(true); }}>
        <label for="ns-clear-filter">Filter</label>
        <input id="ns-clear-filter" data-testid="clear-filter" value=${filter} spellcheck="false"
          onInput=${(e) => { setFilter(e.target.value); setDry(null); }} />
        <button type="submit" class="btn" data-testid="dry-run" data-mutating disabled=${busy || !filter}>Dry run</button>
      </form>
      ${dry ? html`
        <div data-testid="dry-run-result">
          <p>${dry.count === 0 ? "No retained message matches " : num(dry.count) + " retained "
            + (dry.count === 1 ? "message matches " : "messages match ")}<code>${dry.filter}</code>.</p>
          ${dry.count > 0 ? html`<ul class="ns-list" data-testid="dry-run-list">
            ${dry.topics.slice(0, 200).map((t) => html`<li key=${t}><code>${t}</code></li>`)}
            ${dry.count > 200 ? html`<li class="muted">and ${num(dry.count - 200)} more</li>` : null}
          </ul>` : null}
          ${ready ? html`<button type="button" class="btn danger" data-testid="confirm-clear" data-mutating disabled=${busy}
              onClick=${() => run(false)}>Delete ${num(dry.count)} retained ${dry.count === 1 ? "message" : "messages"}</button>` : null}
        </div>` : null}
      ${result ? html`<p role="status" data-testid="clear-result">${"Deleted " + num(result.count) + " retained "
        + (result.count === 1 ? "message" : "messages") + " under "}<code>${result.filter}</code>.</p>` : null}
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    </section>`;
}

// ---- the page ----------------------------------------------------------

export function Namespace() {
  const tree = useTree();
  const [selected, setSelected] = useState(selectedFromHash);
  const [search, setSearch] = useState("");
  const readOnly = session.role === "viewer";
  useEffect(() => {
    const on = () => setSelected(selectedFromHash());
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  // A deep link opens the tree down to the topic.
  useEffect(() => {
    if (!selected) return;
    const parts = selected.split("/");
    for (let i = 1; i < parts.length; i++) tree.toggle(parts.slice(0, i).join("/"), true);
  }, []);
  const select = (path) => { setSelected(path); setSelectedInHash(path); };
  const node = selected !== null ? tree.nodes.get(selected) : null;
  const isLeaf = node ? node.child_count === 0 : true;
  return html`
    <h1 class="visually-hidden">Namespace</h1>
    <div class="ns">
      <section class="card ns-browse" aria-label="Topics">
        <${Search} onSelect=${select} selected=${selected} text=${search} setText=${setSearch} />
        ${tree.error ? html`<p class="error" role="alert">The namespace did not answer: ${tree.error}</p>` : null}
        ${search.trim() ? null : html`<${Tree} tree=${tree} selected=${selected} onSelect=${select} />`}
      </section>
      <div class="ns-detail">
        ${selected === null
          ? html`<section class="card"><p class="muted">Pick a topic in the tree, or search for one.</p></section>`
          : html`<${TopicPane} key=${selected} topic=${selected} readOnly=${readOnly}
              notFound=${node ? html`<${NodePane} node=${node} onSearch=${setSearch} />` : null} />`}
        ${readOnly ? null : html`<${ClearRetained}
            initial=${selected === null ? "" : node && !isLeaf ? selected + "/#" : selected} />`}
      </div>
    </div>`;
}
