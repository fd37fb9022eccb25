// The Strata dashboard: a client of the admin API, as ES modules with no
// build step. Pages live in pages/, one module each, and are reached by
// hash routes (#/overview, #/login) so every page has its own URL.
//
// The shell: the header (node, version, uptime, this page's connection
// to the broker, who is logged in), the navigation, and the page. State
// shared by the pages comes from one poll of /api/v1/status a second,
// handed to the page as `status`.
import { html, render, useState, useEffect } from "./lib.js";
import { get, api, session, onUnauthorized } from "./api.js";
import { duration } from "./lib.js";
import { Overview } from "./pages/overview.js";
import { Login } from "./pages/login.js";
import { Namespace } from "./pages/namespace.js";
import { Clients } from "./pages/clients.js";
import { SubscriptionsPage } from "./pages/subscriptions.js";
import { Bridges } from "./pages/bridges.js";
import { Rules } from "./pages/rules.js";
import { Contracts } from "./pages/contracts.js";

const pages = {
  overview: { title: "Overview", component: Overview },
  namespace: { title: "Namespace", component: Namespace },
  clients: { title: "Clients", component: Clients },
  subscriptions: { title: "Subscriptions", component: SubscriptionsPage },
  rules: { title: "Rules", component: Rules },
  contracts: { title: "Contracts", component: Contracts },
  bridges: { title: "Bridges", component: Bridges },
};
const DEFAULT = "overview";

function routeOf(hash) {
  const name = hash.replace(/^#\/?/, "").split(/[/?]/)[0];
  return name === "login" || pages[name] ? name : DEFAULT;
}

function useRoute() {
  const [route, setRoute] = useState(routeOf(location.hash));
  useEffect(() => {
    const on = () => setRoute(routeOf(location.hash));
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return route;
}

// Polls /status at most once a second while the page shows; `state` is
// "connecting", "live", "offline" (the broker did not answer) or "login".
function useStatus(enabled) {
  const [status, setStatus] = useState(null);
  const [state, setState] = useState("connecting");
  useEffect(() => {
    if (!enabled) return undefined;
    let stop = false;
    let timer = 0;
    const tick = async () => {
      const started = performance.now();
      try {
        const s = await get("/status");
        if (stop) return;
        setStatus({ ...s, at: Date.now() });
        setState("live");
      } catch (e) {
        if (stop) return;
        setState(e.status === 401 ? "login" : "offline");
        if (e.status === 401) return;
      }
      timer = setTimeout(tick, Math.max(0, 1000 - (performance.now() - started)));
    };
    tick();
    return () => { stop = true; clearTimeout(timer); };
  }, [enabled]);
  return [status, state];
}

const stateText = { connecting: "Connecting…", live: "Live", offline: "Offline: retrying", login: "Logged out" };

function Header({ status, state, route }) {
  const logout = async () => {
    try { await api("POST", "/logout"); } catch { /* the token may be gone already */ }
    session.clear();
    location.hash = "#/login";
  };
  return html`
    <header class="top">
      <a class="brand" href="#/overview" aria-label="Strata overview">
        <img src="favicon.svg" alt="" width="22" height="22" /><span>Strata</span>
      </a>
      <dl class="facts">
        <div><dt>Node</dt><dd data-testid="node">${location.hostname}</dd></div>
        <div><dt>Version</dt><dd data-testid="version">${status?.version ?? "–"}</dd></div>
        <div><dt>Uptime</dt><dd data-testid="uptime">${status ? duration(status.uptime_seconds) : "–"}</dd></div>
      </dl>
      <span class="conn conn-${state}" role="status" data-testid="connection">
        <span class="dot" aria-hidden="true"></span>${stateText[state]}
      </span>
      ${session.token && route !== "login"
        ? html`<span class="who" data-testid="who">${session.user} (${session.role})
            <button type="button" class="link" onClick=${logout}>Log out</button></span>`
        : null}
    </header>
    ${route !== "login"
      ? html`<nav class="tabs" aria-label="Pages">
          ${Object.entries(pages).map(([name, p]) => html`
            <a href=${"#/" + name} aria-current=${route === name ? "page" : undefined}>${p.title}</a>`)}
        </nav>`
      : null}`;
}

function App() {
  const route = useRoute();
  const [status, state] = useStatus(route !== "login");
  useEffect(() => onUnauthorized(() => {
    session.clear();
    if (routeOf(location.hash) !== "login") {
      const back = location.hash && !location.hash.startsWith("#/login") ? location.hash : "#/overview";
      location.hash = "#/login?next=" + encodeURIComponent(back);
    }
  }), []);
  useEffect(() => {
    document.title = (route === "login" ? "Log in" : pages[route].title) + " · Strata";
  }, [route]);
  const Page = route === "login" ? Login : pages[route].component;
  return html`
    <${Header} status=${status} state=${state} route=${route} />
    <main id="main" tabindex="-1">
      <${Page} status=${status} state=${state} />
    </main>`;
}

const root = document.getElementById("app");
root.textContent = "";  // the "Loading…" line: Preact adds to what is there
render(html`<${App} />`, root);
