// The Namespace page's publish panel (admins): topic (the selected one to
// start with), payload (its last value), QoS, retain and user properties.
// Before sending, the payload is checked against the contracts whose
// filter matches the topic, in their order (GET /api/v1/contracts, then
// POST /api/v1/contracts/{name}/test): the first matching contract
// decides unless it says `all`, as in the broker. A payload a `reject`
// contract refuses is not sent, and the panel says why in the broker's
// words ("contract speed v2: out_of_range at /rpm (maximum)"); with a
// `redirect` or `observe` contract it can be sent anyway. Sending is
// POST /api/v1/publish, through the broker's pipeline.
import { html, useState, useEffect, topicMatches } from "../lib.js";
import { api, get } from "../api.js";

const enc = encodeURIComponent;

// The broker's own description of a violation (broker/uns/namespace_hook.cpp).
export function describe(contract, r) {
  let s = "contract " + contract.name + " v" + contract.version + ": " + r.kind;
  if (r.kind !== "not_json" && r.kind !== "model") s += " at " + (r.pointer || "/");
  if (r.detail) s += " (" + r.detail + ")";
  return s;
}

// The first violation the contracts find in `payload` on `topic`, or null.
async function check(topic, payload) {
  const list = await get("/contracts?limit=10000");
  for (const c of list.data) {
    if (!topicMatches(c.filter, topic)) continue;
    const r = await api("POST", "/contracts/" + enc(c.name) + "/test", { samples: [payload] });
    const first = r.results[0];
    if (!first.valid) return { contract: c, message: describe(c, first) };
    if (!c.all) break;
  }
  return null;
}

export function Publish({ topic, value }) {
  const [to, setTo] = useState(topic);
  const [payload, setPayload] = useState(value ?? "");
  const [qos, setQos] = useState("0");
  const [retain, setRetain] = useState(false);
  const [props, setProps] = useState([]);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState(null);  // {ok, text, anyway}
  useEffect(() => { setTo(topic); setPayload(value ?? ""); setResult(null); }, [topic]);

  const send = async (skipCheck) => {
    setBusy(true);
    setResult(null);
    try {
      if (!skipCheck) {
        const v = await check(to, payload);
        if (v) {
          const anyway = v.contract.action !== "reject";
          setResult({ ok: false, text: "Not sent: " + v.message + ".", anyway, action: v.contract.action });
          return;
        }
      }
      const body = { topic: to, payload, qos: Number(qos), retain };
      const user = props.filter((p) => p.k !== "");
      if (user.length) body.properties = { user_properties: Object.fromEntries(user.map((p) => [p.k, p.v])) };
      await api("POST", "/publish", body);
      setResult({ ok: true, text: "Published to " + to + "." });
    } catch (e) {
      setResult({ ok: false, text: "Not sent: " + e.message });
    } finally {
      setBusy(false);
    }
  };
  const setProp = (i, field, v) => setProps(props.map((p, j) => (j === i ? { ...p, [field]: v } : p)));

  return html`
    <section class="card" aria-labelledby="ns-pub-h">
      <h2 id="ns-pub-h">Publish</h2>
      <form class="ns-publish" data-testid="publish" onSubmit=${(e) => { e.preventDefault(); send(false); }}>
        <label>Topic <input data-testid="publish-topic" value=${to} spellcheck="false" required
          onInput=${(e) => setTo(e.target.value)} /></label>
        <label>Payload <textarea data-testid="publish-payload" rows="4" spellcheck="false"
          onInput=${(e) => setPayload(e.target.value)} value=${payload}></textarea></label>
        <div class="ns-inline">
          <label>QoS <select data-testid="publish-qos" value=${qos} onChange=${(e) => setQos(e.target.value)}>
            <option value="0">0</option><option value="1">1</option><option value="2">2</option>
          </select></label>
          <label class="ns-check"><input type="checkbox" data-testid="publish-retain" checked=${retain}
            onChange=${(e) => setRetain(e.target.checked)} /> Retain</label>
        </div>
        <fieldset class="ns-props">
          <legend>User properties</legend>
          ${props.map((p, i) => html`
            <div class="ns-inline" key=${i}>
              <label class="visually-hidden" for=${"ns-pk" + i}>Name ${i + 1}</label>
              <input id=${"ns-pk" + i} data-testid="prop-key" placeholder="name" value=${p.k}
                onInput=${(e) => setProp(i, "k", e.target.value)} />
              <label class="visually-hidden" for=${"ns-pv" + i}>Value ${i + 1}</label>
              <input id=${"ns-pv" + i} data-testid="prop-value" placeholder="value" value=${p.v}
                onInput=${(e) => setProp(i, "v", e.target.value)} />
              <button type="button" class="btn" aria-label=${"Remove property " + (i + 1)}
                onClick=${() => setProps(props.filter((_, j) => j !== i))}>✕</button>
            </div>`)}
          <button type="button" class="btn" data-testid="add-prop"
            onClick=${() => setProps([...props, { k: "", v: "" }])}>Add a property</button>
        </fieldset>
        <div class="ns-inline">
          <button type="submit" class="btn primary" data-testid="publish-send" data-mutating disabled=${busy || !to}>Publish</button>
          ${result?.anyway ? html`<button type="button" class="btn" data-testid="publish-anyway" data-mutating
              onClick=${() => send(true)}>Publish anyway (the contract will ${result.action} it)</button>` : null}
        </div>
        ${result ? html`<p class=${result.ok ? "ok" : "error"} role=${result.ok ? "status" : "alert"}
          data-testid="publish-result">${result.text}</p>` : null}
      </form>
    </section>`;
}
