// #/login: for [admin] auth = "login". POST /api/v1/login with the user
// and password; the token goes to sessionStorage and the page returns to
// where it was sent from (#/login?next=...).
import { html, useState } from "../lib.js";
import { api, session } from "../api.js";

function next() {
  const q = location.hash.split("?")[1] ?? "";
  const n = new URLSearchParams(q).get("next");
  return n && n.startsWith("#/") && !n.startsWith("#/login") ? n : "#/overview";
}

export function Login() {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (ev) => {
    ev.preventDefault();
    const form = new FormData(ev.target);
    const username = String(form.get("username") ?? "");
    setBusy(true);
    setError("");
    try {
      const r = await api("POST", "/login", { username, password: String(form.get("password") ?? "") });
      session.set(username, r.token, r.role);
      location.hash = next();
    } catch (e) {
      setError(e.code === "BAD_REQUEST" && /open/.test(e.message)
        ? "This broker needs no login (admin.auth is \"open\")."
        : e.status === 401 ? "Wrong user name or password." : e.message);
    } finally {
      setBusy(false);
    }
  };
  return html`
    <section class="login card">
      <h1>Log in</h1>
      <p class="muted">A user of this broker's admin users file ([admin] users_file).</p>
      <form onSubmit=${submit}>
        <label>User name<input name="username" autocomplete="username" required autofocus /></label>
        <label>Password<input name="password" type="password" autocomplete="current-password" required /></label>
        ${error ? html`<p class="error" role="alert" data-testid="login-error">${error}</p>` : null}
        <button type="submit" disabled=${busy}>${busy ? "Logging in…" : "Log in"}</button>
      </form>
    </section>`;
}
