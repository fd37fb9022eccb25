// The dashboard's client of the admin API (/api/v1, the same origin).
// The bearer token from POST /api/v1/login is kept in sessionStorage (one
// tab, gone when it closes). A 401 sends the page to the login page.
const TOKEN = "strata.token";
const ROLE = "strata.role";
const USER = "strata.user";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const session = {
  get token() { return sessionStorage.getItem(TOKEN); },
  get role() { return sessionStorage.getItem(ROLE); },
  get user() { return sessionStorage.getItem(USER); },
  set(user, token, role) {
    sessionStorage.setItem(USER, user);
    sessionStorage.setItem(TOKEN, token);
    sessionStorage.setItem(ROLE, role);
  },
  clear() {
    sessionStorage.removeItem(USER);
    sessionStorage.removeItem(TOKEN);
    sessionStorage.removeItem(ROLE);
  },
};

const listeners = new Set();
// Called with no argument whenever a request answers 401.
export function onUnauthorized(fn) { listeners.add(fn); return () => listeners.delete(fn); }

export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (session.token) headers.Authorization = "Bearer " + session.token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch("/api/v1" + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  let data = null;
  const text = await res.text();
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    if (res.status === 401) listeners.forEach((fn) => fn());
    throw new ApiError(res.status, data?.code ?? "HTTP_" + res.status, data?.message ?? res.statusText);
  }
  return data;
}

export const get = (path) => api("GET", path);
