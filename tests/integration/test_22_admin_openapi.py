"""docs/openapi.json against the server: the document is served as is at
GET /api/v1/openapi.json, is structurally an OpenAPI 3.1 document, and
documents exactly the routes the server has (GET /api/v1/routes lists the
live route table, every module's routes included) — both directions.

The broker here runs every module that adds routes (rules, historian,
plugins): a module whose routes only exist when it is enabled must be
enabled in CONFIG below, or its documented routes show up as missing."""

import json
import os
import re

import pytest

import brokerproc
from adminhttp import AdminClient

pytestmark = pytest.mark.strata_only

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOC = os.path.join(ROOT, "docs", "openapi.json")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
CONFIG = {
    "historian": {"enabled": True, "filters": ["plant/#"]},
    "rules": {"enabled": True, "dir": "rules"},
}


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    work = tmp_path_factory.mktemp("openapi")
    (work / "rules").mkdir()
    b = brokerproc.Broker(work, CONFIG)
    b.start()
    yield b
    b.close_clients()
    assert b.stop() == 0
    assert b.health_problems() == []


@pytest.fixture(scope="module")
def doc():
    with open(DOC, "rb") as f:
        return json.loads(f.read().decode())


def test_served_document_is_docs_openapi_json(shared):
    import urllib.request
    with urllib.request.urlopen(shared.admin_url + "/api/v1/openapi.json", timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("application/json")
        served = r.read()
    with open(DOC, "rb") as f:
        assert served == f.read()


def test_document_is_structurally_openapi_3_1(doc):
    problems = []
    assert re.fullmatch(r"3\.1\.\d+", doc.get("openapi", "")), "openapi must be 3.1.x"
    for key in ("title", "version"):
        assert isinstance(doc["info"].get(key), str) and doc["info"][key], "info." + key
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearer"] == {**schemes["bearer"], "type": "http", "scheme": "bearer"}
    assert schemes["apiKey"] == {**schemes["apiKey"], "type": "http", "scheme": "basic"}
    assert set(doc["components"]["schemas"]["Error"]["required"]) == {"code", "message"}

    def resolve(obj):
        while isinstance(obj, dict) and "$ref" in obj:
            ref = obj["$ref"]
            assert ref.startswith("#/"), ref
            target = doc
            for part in ref[2:].split("/"):
                if part not in target:
                    problems.append("dangling $ref " + ref)
                    return {}
                target = target[part]
            obj = target
        return obj

    # Every $ref anywhere resolves.
    def walk(o):
        if isinstance(o, dict):
            if "$ref" in o:
                resolve(o)
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(doc)

    op_ids = set()
    for path, item in doc["paths"].items():
        if not path.startswith("/"):
            problems.append("%s: a path starts with /" % path)
        templated = set(re.findall(r"\{([^}]+)\}", path))
        ops = {m: o for m, o in item.items() if m in METHODS}
        if not ops:
            problems.append("%s: no operation" % path)
        for key in item:
            if key not in METHODS and key not in ("parameters", "summary", "description"):
                problems.append("%s: unknown key %s" % (path, key))
        for method, o in ops.items():
            where = "%s %s" % (method.upper(), path)
            if not o.get("summary"):
                problems.append(where + ": no summary")
            oid = o.get("operationId")
            if not oid or oid in op_ids:
                problems.append(where + ": operationId missing or not unique")
            op_ids.add(oid)
            params = [resolve(p) for p in item.get("parameters", []) + o.get("parameters", [])]
            for p in params:
                if p.get("in") not in ("query", "path", "header", "cookie") or not p.get("name") or "schema" not in p:
                    problems.append(where + ": malformed parameter %r" % p)
            in_path = {p["name"] for p in params if p.get("in") == "path"}
            if in_path != templated:
                problems.append(where + ": path parameters %s, template has %s" % (sorted(in_path), sorted(templated)))
            if any(not p.get("required") for p in params if p.get("in") == "path"):
                problems.append(where + ": a path parameter must be required")
            responses = o.get("responses") or {}
            if not responses:
                problems.append(where + ": no responses")
            ok = [c for c in responses if c.startswith("2")]
            if not ok:
                problems.append(where + ": no 2xx response")
            for code, r in responses.items():
                r = resolve(r)
                if not re.fullmatch(r"[1-5]\d\d", code) or not r.get("description"):
                    problems.append("%s: response %s malformed" % (where, code))
                if code[0] in "45":
                    schema = r.get("content", {}).get("application/json", {}).get("schema", {})
                    if schema.get("$ref") != "#/components/schemas/Error":
                        problems.append("%s: error %s is not the {code,message} Error body" % (where, code))
                if code != "204" and code[0] == "2" and not r.get("content"):
                    problems.append("%s: %s has no content schema" % (where, code))
            if "security" not in o:
                problems.append(where + ": no security (say [] for open routes)")
            for req in o.get("security", []):
                for name in req:
                    if name not in schemes:
                        problems.append("%s: unknown security scheme %s" % (where, name))
            if "requestBody" in o and not resolve(o["requestBody"]).get("content"):
                problems.append(where + ": requestBody without content")
    assert problems == [], "docs/openapi.json:\n  " + "\n  ".join(problems)


def documented(doc):
    return {(m.upper(), path) for path, item in doc["paths"].items() for m in item if m in METHODS}


def test_documented_routes_are_exactly_the_live_routes(shared, doc):
    status, body = AdminClient(shared.admin_url).get("/api/v1/routes")
    assert status == 200
    live = {(r["method"], r["path"]) for r in body["data"]}
    access = {(r["method"], r["path"]): r["access"] for r in body["data"]}
    docs = documented(doc)
    undocumented = sorted(live - docs)
    unserved = sorted(docs - live)
    message = []
    if undocumented:
        message.append("routes the server has that docs/openapi.json lacks; add to its \"paths\" (an operation with "
                       "operationId, summary, parameters, responses incl. the Error body, security):\n" +
                       "\n".join("  %s %s  (access %s)" % (m, p, access[(m, p)]) for m, p in undocumented))
    if unserved:
        message.append("operations in docs/openapi.json that the server does not have; remove them, or enable the "
                       "module that adds them in CONFIG of tests/integration/test_22_admin_openapi.py:\n" +
                       "\n".join("  %s %s" % mp for mp in unserved))
    assert not message, "\n".join(message)
    # Security in the document agrees with the route's access: open routes
    # need no credentials, the others a bearer token or an API key.
    for (m, p), a in access.items():
        op = doc["paths"][p][m.lower()]
        assert (op["security"] == []) == (a == "open"), "%s %s is %s but documented with security %r" % (
            m, p, a, op["security"])
        assert op.get("x-strata-access") == a, "%s %s: x-strata-access should be %r" % (m, p, a)
