"""A small client of Strata's admin HTTP API on Python's urllib (an
independent HTTP client: no code shared with the broker).

    api = AdminClient(broker.admin_url)
    status, body = api.get("/api/v1/status")       # body: parsed JSON, or text
    status, body = api.post("/api/v1/publish", {"topic": "t", "payload": "x"})

Non-2xx answers are returned, not raised: tests assert on them.
"""

import base64
import json
import urllib.error
import urllib.request


class AdminClient:
    def __init__(self, base, token=None, basic=None, timeout=10.0, context=None):
        self.base = base.rstrip("/")
        self.token = token
        self.basic = basic  # (name, secret)
        self.timeout = timeout
        self.context = context  # ssl.SSLContext for https://

    def request(self, method, path, body=None, headers=None, raw=None):
        """Returns (status, parsed JSON or text, response headers)."""
        data = raw
        hdrs = dict(headers or {})
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if self.token:
            hdrs.setdefault("Authorization", "Bearer " + self.token)
        elif self.basic:
            cred = base64.b64encode(("%s:%s" % self.basic).encode()).decode()
            hdrs.setdefault("Authorization", "Basic " + cred)
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self.context) as r:
                return r.status, _decode(r.read(), r.headers), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, _decode(e.read(), e.headers), dict(e.headers)

    def get(self, path, **kw):
        s, b, _ = self.request("GET", path, **kw)
        return s, b

    def post(self, path, body=None, **kw):
        s, b, _ = self.request("POST", path, body=body, **kw)
        return s, b

    def put(self, path, body=None, **kw):
        s, b, _ = self.request("PUT", path, body=body, **kw)
        return s, b

    def delete(self, path, **kw):
        s, b, _ = self.request("DELETE", path, **kw)
        return s, b


def _decode(data, headers):
    ctype = headers.get("Content-Type", "")
    if ctype.startswith("application/json"):
        return json.loads(data.decode())
    return data.decode("utf-8", "replace")


def quote(topic):
    """A topic or id as one path segment ("a/b" -> "a%2Fb")."""
    import urllib.parse
    return urllib.parse.quote(topic, safe="")
