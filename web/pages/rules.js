// #/rules and #/rules/<name>: the rules engine's rules and an editor for
// one of them. The list (GET /api/v1/rules, polled every two seconds)
// shows each rule's counters summed over the cores and its p50/p99 time
// per message. The editor is CodeMirror 5 with its Lua mode (plain
// scripts in vendor/, loaded when this page first opens); it loads a rule
// (GET /api/v1/rules/{name}), dry-runs the text on sample messages typed
// in or picked from the namespace's recent values (POST /api/v1/rules/test,
// GET /api/v1/topics), marks the line of a load error or a fault, saves
// (PUT /api/v1/rules/{name}: the broker loads it on every core before it
// answers) and turns a rule off and on (POST .../disable, .../enable).
//
// Keyboard: in the editor Tab indents; Escape then Tab leaves it.
// Ctrl-Enter dry-runs, Ctrl-S saves.
import { html, useState, useEffect, useRef, num, bytes, micros, loadOnce } from "../lib.js";
import { api, get, session } from "../api.js";

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const TEMPLATE = `-- A rule: the topics it sees and what it does with each message.
topics = "plant/#"

function on_message(msg)
  -- msg.topic, msg.payload, msg.json (decoded JSON or nil)
  -- return false to drop the message; change msg to change what is routed
end
`;

function ruleFromHash() {
  const m = location.hash.match(/^#\/rules\/([^/?]+)/);
  return m ? decodeURIComponent(m[1]) : null;
}

// "<dir>/name.lua:4: unexpected symbol near 'end'" -> {line: 4, text: "unexpected ..."}
export function luaError(message) {
  const m = /\.lua:(\d+):\s*([\s\S]*)$/.exec(message || "");
  return m ? { line: Number(m[1]), text: m[2] } : { line: null, text: message || "" };
}

// A topic that the rule's first filter matches, to start a sample with.
function sampleTopic(filter) {
  if (!filter) return "plant/line1/temp";
  return filter.split("/").map((l) => (l === "+" || l === "#" ? "x" : l)).join("/");
}

// The pages' own stylesheet (shared with the Contracts page): true once
// it applies, so no table shows unstyled for a moment.
export function useStyle() {
  const [styled, setStyled] = useState(false);
  useEffect(() => {
    let stop = false;
    const done = () => { if (!stop) setStyled(true); };
    loadOnce("style", "pages/rules.css").then(done, done);
    return () => { stop = true; };
  }, []);
  return styled;
}

let codemirror = null;
function loadCodeMirror() {
  codemirror ??= Promise.all([
    loadOnce("style", "vendor/codemirror.css"),
    loadOnce("style", "pages/rules.css"),
    loadOnce("script", "vendor/codemirror.js"),
    loadOnce("script", "vendor/codemirror-lua.js"),
  ]).then(() => window.CodeMirror);
  return codemirror;
}

function useRules() {
  const [rules, setRules] = useState(null);
  const [error, setError] = useState(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let stop = false;
    let timer = 0;
    const poll = async () => {
      try {
        const r = await get("/rules");
        if (stop) return;
        setRules(r.rules);
        setError(null);
      } catch (e) {
        if (stop) return;
        setError(e.status === 409 ? "The rules engine is off here ([rules] enabled = false or no dir)." : e.message);
      }
      timer = setTimeout(poll, 2000);
    };
    poll();
    return () => { stop = true; clearTimeout(timer); };
  }, [tick]);
  return [rules, error, () => setTick((n) => n + 1)];
}

function stateOf(r) {
  if (r.faulted) return html`<span class="pill bad">Faulted</span>`;
  return r.enabled ? html`<span class="pill ok">Enabled</span>` : html`<span class="pill off">Disabled</span>`;
}

function RuleList({ rules, current, canWrite, onToggle }) {
  if (!rules) return html`<p class="muted">Loading…</p>`;
  if (!rules.length) return html`<p class="muted" data-testid="no-rules">No rules yet: write one below.</p>`;
  return html`
    <div class="table-wrap">
      <table class="grid stack" data-testid="rules">
        <thead><tr>
          <th scope="col">Rule</th><th scope="col">State</th><th scope="col">Topics</th>
          <th scope="col" class="n">Matched</th><th scope="col" class="n">Passed</th>
          <th scope="col" class="n">Dropped</th><th scope="col" class="n">Published</th>
          <th scope="col" class="n">Emitted</th><th scope="col" class="n">Errors</th>
          <th scope="col" class="n" title="Median time per message">p50</th>
          <th scope="col" class="n" title="99th percentile time per message">p99</th>
          <th scope="col" class="n">Memory</th><th scope="col"><span class="visually-hidden">Actions</span></th>
        </tr></thead>
        <tbody>
          ${rules.map((r) => html`
            <tr key=${r.name} data-rule=${r.name} aria-current=${r.name === current ? "true" : undefined}>
              <th scope="row"><a href=${"#/rules/" + encodeURIComponent(r.name)} title=${r.file}>${r.name}</a></th>
              <td data-label="State" data-testid="state">${stateOf(r)}</td>
              <td data-label="Topics"><code>${r.topics.join(" ")}</code></td>
              <td class="n" data-label="Matched" data-testid="matched">${num(r.matched)}</td>
              <td class="n" data-label="Passed" data-testid="passed">${num(r.passed)}</td>
              <td class="n" data-label="Dropped" data-testid="dropped">${num(r.dropped)}</td>
              <td class="n" data-label="Published" data-testid="published">${num(r.published)}</td>
              <td class="n" data-label="Emitted" data-testid="emitted">${num(r.emitted)}</td>
              <td class="n" data-label="Errors" data-testid="errors">${num(r.errors)}</td>
              <td class="n" data-label="p50" data-testid="p50">${micros(r.p50_us)}</td>
              <td class="n" data-label="p99" data-testid="p99">${micros(r.p99_us)}</td>
              <td class="n" data-label="Memory">${bytes(r.memory_bytes)}</td>
              <td class="act">${canWrite
                ? html`<button type="button" class="small" data-testid="toggle" data-mutating onClick=${() => onToggle(r)}>
                    ${r.enabled ? "Disable" : "Enable"}<span class="visually-hidden"> ${r.name}</span></button>`
                : null}</td>
            </tr>`)}
        </tbody>
      </table>
    </div>`;
}

// CodeMirror in a box Preact leaves alone. `doc` changes when a new text
// is loaded; `mark` is the 1-based line to show as wrong (or null).
function LuaEditor({ CM, doc, mark, onChange, keys }) {
  const box = useRef(null);
  const cm = useRef(null);
  const marked = useRef(null);
  const k = useRef(keys);
  k.current = keys;
  useEffect(() => {
    let escaped = false;
    const ed = CM(box.current, {
      value: doc.text, mode: "lua", lineNumbers: true, lineWrapping: true, indentUnit: 2, tabSize: 2, viewportMargin: Infinity,
      screenReaderLabel: "Lua source of the rule (Escape then Tab leaves the editor)",
      extraKeys: {
        Tab: (c) => c.execCommand("insertSoftTab"),
        "Shift-Tab": (c) => c.execCommand("indentLess"),
        Esc: () => { escaped = true; },
        "Ctrl-Enter": () => k.current.run(), "Cmd-Enter": () => k.current.run(),
        "Ctrl-S": () => k.current.save(), "Cmd-S": () => k.current.save(),
      },
    });
    // After Escape, CodeMirror ignores Tab: the browser moves the focus on.
    ed.on("keydown", (c, e) => {
      if (e.key === "Tab" && escaped) e.codemirrorIgnore = true;
      else if (e.key !== "Escape" && e.key !== "Shift") escaped = false;
    });
    ed.on("blur", () => { escaped = false; });
    ed.on("changes", () => onChange(ed.getValue()));
    cm.current = ed;
    return () => { cm.current = null; box.current?.replaceChildren(); };
  }, []);
  useEffect(() => {
    const ed = cm.current;
    if (ed && ed.getValue() !== doc.text) { ed.setValue(doc.text); ed.clearHistory(); }
  }, [doc]);
  useEffect(() => {
    const ed = cm.current;
    if (!ed) return;
    if (marked.current !== null) {
      ed.removeLineClass(marked.current, "wrap", "cm-error-line");
      marked.current = null;
    }
    if (mark && mark <= ed.lineCount()) {
      marked.current = mark - 1;
      ed.addLineClass(marked.current, "wrap", "cm-error-line");
      ed.scrollIntoView({ line: marked.current, ch: 0 }, 40);
    }
  }, [mark, doc]);
  return html`<div class="editor" ref=${box} data-testid="editor"></div>`;
}

function Samples({ samples, setSamples, filter }) {
  const [match, setMatch] = useState(filter || "#");
  const [found, setFound] = useState(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => { setMatch(filter || "#"); setFound(null); }, [filter]);
  const set = (i, field, value) => setSamples(samples.map((s, j) => (j === i ? { ...s, [field]: value } : s)));
  const find = async (e) => {
    e.preventDefault();
    setBusy(true);
    try {
      const r = await get("/topics?limit=20&match=" + encodeURIComponent(match));
      setFound({ topics: r.data, error: null });
    } catch (err) {
      setFound({ topics: [], error: err.message });
    } finally {
      setBusy(false);
    }
  };
  const pick = async (topic) => {
    try {
      const t = await get("/topics/" + encodeURIComponent(topic));
      const s = { topic, payload: t.value ?? "" };
      const empty = samples.findIndex((x) => !x.payload);
      setSamples(empty >= 0 ? samples.map((x, j) => (j === empty ? s : x)) : [...samples, s]);
    } catch (err) {
      setFound({ ...found, error: err.message });
    }
  };
  return html`
    <fieldset class="samples">
      <legend>Sample messages</legend>
      ${samples.map((s, i) => html`
        <div class="sample" key=${i}>
          <label>Topic <input data-testid=${"sample-topic-" + i} value=${s.topic}
            onInput=${(e) => set(i, "topic", e.target.value)} /></label>
          <label>Payload <textarea rows="2" data-testid=${"sample-payload-" + i} value=${s.payload}
            onInput=${(e) => set(i, "payload", e.target.value)}></textarea></label>
          <button type="button" class="small" disabled=${samples.length === 1}
            onClick=${() => setSamples(samples.filter((_, j) => j !== i))}>Remove<span class="visually-hidden"> sample ${i + 1}</span></button>
        </div>`)}
      <button type="button" class="small" onClick=${() => setSamples([...samples, { topic: sampleTopic(filter), payload: "" }])}>Add a sample</button>
      <form class="pick" onSubmit=${find}>
        <label>Recent values of <input data-testid="pick-filter" value=${match} onInput=${(e) => setMatch(e.target.value)}
          placeholder="MQTT filter" /></label>
        <button type="submit" class="small" disabled=${busy}>Find</button>
      </form>
      ${found?.error ? html`<p class="error" role="alert">${found.error}</p>` : null}
      ${found && !found.error
        ? (found.topics.length
          ? html`<ul class="picks" data-testid="picks">${found.topics.map((t) => html`
              <li key=${t.topic}><button type="button" class="link" onClick=${() => pick(t.topic)}>${t.topic}</button>
                <span class="muted"> ${num(t.messages)} msg</span></li>`)}</ul>`
          : html`<p class="muted">No topic matches.</p>`)
        : null}
    </fieldset>`;
}

function Action({ a }) {
  return html`<li><span class="tag">${a.action}${a.target ? " → " + a.target : ""}</span>
    <code>${a.topic}</code> <code class="payload">${a.payload}</code>${a.qos ? html` <span class="muted">QoS ${a.qos}</span>` : null}${a.retain ? html` <span class="muted">retained</span>` : null}</li>`;
}

function Step({ s, label }) {
  return html`
    ${s.actions.length ? html`<ul class="actions">${s.actions.map((a) => html`<${Action} a=${a} />`)}</ul>` : null}
    ${s.logs.length ? html`<ul class="logs">${s.logs.map((l) => html`<li><span class="tag">log.${l.level}</span> ${l.text}</li>`)}</ul>` : null}
    ${s.faults.length ? html`<ul class="faults">${s.faults.map((f) => {
      const e = luaError(f);
      return html`<li class="error">${e.line ? "Line " + e.line + ": " + e.text : f}</li>`;
    })}</ul>` : null}
    ${label}`;
}

function DryRun({ result }) {
  return html`
    <section class="dry-run" aria-live="polite" data-testid="dry-run">
      <h3>Dry run${result.faulted ? html` <span class="pill bad">faulted</span>` : null}</h3>
      <ol>
        ${result.messages.map((m, i) => html`
          <li data-testid=${"result-" + i}>
            <div><code>${m.topic}</code> <code class="payload">${m.payload}</code></div>
            <${Step} s=${m} label=${m.result === "drop"
              ? html`<div class="result drop" data-testid="result">drop</div>`
              : html`<div class="result pass" data-testid="result">pass <code>${m.passed.topic}</code> <code class="payload">${m.passed.payload}</code></div>`} />
          </li>`)}
      </ol>
      ${result.closing.actions.length || result.closing.logs.length || result.closing.faults.length
        ? html`<h4>Windows closed after the last message</h4><${Step} s=${result.closing} />`
        : null}
    </section>`;
}

function RuleEditor({ name, rules, canWrite, refresh }) {
  const [CM, setCM] = useState(null);
  const [loadError, setLoadError] = useState(null);
  const [doc, setDoc] = useState({ text: name ? "" : TEMPLATE });
  const [text, setText] = useState(doc.text);
  const [ruleName, setRuleName] = useState(name || "");
  const [samples, setSamples] = useState([{ topic: sampleTopic("plant/#"), payload: "" }]);
  const [problem, setProblem] = useState(null);  // {line, text}
  const [result, setResult] = useState(null);
  const [note, setNote] = useState(null);
  const [busy, setBusy] = useState(false);
  const rule = rules?.find((r) => r.name === name);
  const filter = (rule?.topics ?? [])[0] ?? (/^\s*topics\s*=\s*["']([^"']+)["']/m.exec(text) || [])[1];

  useEffect(() => { loadCodeMirror().then((c) => setCM(() => c), (e) => setLoadError(e.message)); }, []);
  useEffect(() => {
    setProblem(null); setResult(null); setNote(null); setRuleName(name || "");
    if (!name) { setDoc({ text: TEMPLATE }); setText(TEMPLATE); return undefined; }
    let stop = false;
    get("/rules/" + encodeURIComponent(name)).then((r) => {
      if (stop) return;
      setDoc({ text: r.source }); setText(r.source);
      setSamples([{ topic: sampleTopic(r.topics[0]), payload: "" }]);
    }, (e) => { if (!stop) setNote({ error: true, text: e.status === 404 ? "No rule " + name : e.message }); });
    return () => { stop = true; };
  }, [name]);

  const failed = (e) => {
    const p = luaError(e.message);
    setProblem(p);
    setResult(null);
    return p;
  };
  const run = async () => {
    setBusy(true); setNote(null);
    try {
      const r = await api("POST", "/rules/test", {
        source: text, name: NAME.test(ruleName) ? ruleName : undefined,
        messages: samples.map((s) => ({ topic: s.topic, payload: s.payload })),
      });
      setResult(r);
      const fault = [...r.messages.flatMap((m) => m.faults), ...r.closing.faults][0];
      setProblem(fault ? luaError(fault) : null);
    } catch (e) {
      failed(e);
    } finally {
      setBusy(false);
    }
  };
  const save = async () => {
    if (!canWrite) return;
    if (!NAME.test(ruleName)) { setNote({ error: true, text: "A rule's name is 1 to 64 letters, digits, _ and -." }); return; }
    setBusy(true); setNote(null);
    try {
      await api("PUT", "/rules/" + encodeURIComponent(ruleName), { source: text });
      setProblem(null);
      setDoc({ text });
      setNote({ error: false, text: "Saved " + ruleName + ": running on every core." });
      refresh();
      if (ruleName !== name) location.hash = "#/rules/" + encodeURIComponent(ruleName);
    } catch (e) {
      const p = failed(e);
      setNote({ error: true, text: "Not saved (the running version stays): " + (p.line ? "line " + p.line + ": " + p.text : p.text) });
    } finally {
      setBusy(false);
    }
  };

  return html`
    <section class="card" aria-labelledby="editor-title">
      <h2 id="editor-title">${name ? "Rule " + name : "New rule"}</h2>
      <div class="editor-head">
        <label>Name <input data-testid="rule-name" value=${ruleName} readonly=${!!name}
          onInput=${(e) => setRuleName(e.target.value)} pattern="[A-Za-z0-9_\\-]{1,64}" /></label>
        ${rule ? html`<span>${stateOf(rule)}</span>` : null}
        ${text !== doc.text ? html`<span class="pill off" data-testid="modified" title="Not saved yet">Modified</span>` : null}
      </div>
      ${loadError ? html`<p class="error" role="alert">The editor did not load: ${loadError}</p>` : null}
      ${CM ? html`<${LuaEditor} CM=${CM} doc=${doc} mark=${problem?.line} onChange=${setText} keys=${{ run, save }} />`
        : html`<p class="muted">Loading the editor…</p>`}
      ${problem
        ? html`<p class="error" role="alert" data-testid="rule-error">${problem.line ? html`<strong>Line ${problem.line}:</strong> ` : null}${problem.text}</p>`
        : null}
      <div class="buttons">
        <button type="button" class="primary" data-testid="dry-run-button" disabled=${busy} onClick=${run}
          title="Ctrl-Enter">Dry run</button>
        ${canWrite ? html`<button type="button" class="primary" data-testid="save" data-mutating disabled=${busy} onClick=${save}
          title="Ctrl-S">Save</button>` : null}
        ${note ? html`<span class=${note.error ? "error" : "ok"} role="status" data-testid="note">${note.text}</span>` : null}
      </div>
      <${Samples} samples=${samples} setSamples=${setSamples} filter=${filter} />
      ${result ? html`<${DryRun} result=${result} />` : null}
    </section>`;
}

export function Rules() {
  const [current, setCurrent] = useState(ruleFromHash());
  const [rules, error, refresh] = useRules();
  const [actionError, setActionError] = useState(null);
  const canWrite = session.role !== "viewer";
  const styled = useStyle();
  useEffect(() => {
    const on = () => setCurrent(ruleFromHash());
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  const toggle = async (r) => {
    setActionError(null);
    try {
      await api("POST", "/rules/" + encodeURIComponent(r.name) + (r.enabled ? "/disable" : "/enable"));
    } catch (e) {
      setActionError(e.message);
    }
    refresh();
  };
  if (!styled) return html`<p class="muted">Loading…</p>`;
  return html`
    <h1 class="visually-hidden">Rules</h1>
    <section class="card">
      <div class="card-head">
        <h2>Rules</h2>
        ${canWrite ? html`<a class="button small" href="#/rules" data-testid="new-rule" data-mutating>New rule</a>` : null}
      </div>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      ${actionError ? html`<p class="error" role="alert">${actionError}</p>` : null}
      <${RuleList} rules=${rules} current=${current} canWrite=${canWrite} onToggle=${toggle} />
    </section>
    <${RuleEditor} key=${current ?? ""} name=${current} rules=${rules} canWrite=${canWrite} refresh=${refresh} />`;
}
