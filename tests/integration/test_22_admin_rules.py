"""Admin API: the rules endpoints (GET/PUT/DELETE /api/v1/rules/{name},
enable/disable, POST /api/v1/rules/test), checked with urllib against a
real broker with a rules directory and real MQTT clients (paho,
mosquitto_pub). The broker's periodic rescan is off (reload_interval = 0):
whatever loads, loads because the API asked for it."""

import os

import pytest

import brokerproc
import pahoc
from adminhttp import AdminClient
from extclients import mosquitto_pub
from rulesbroker import run_strata

pytestmark = pytest.mark.strata_only

ADMIN_KEY = ("ops", "ops-secret-0123456789")
VIEWER_KEY = ("ci", "ci-secret-0123456789")

UPPER = """\
topics = "rt/in/#"
function on_message(msg)
  msg.payload = string.upper(msg.payload)
end
"""
UPPER_V2 = """\
topics = "rt/in/#"
function on_message(msg)
  msg.payload = "v2:" .. string.upper(msg.payload)
end
"""
BROKEN = """\
topics = "rt/in/#"
function on_message(msg)
  return 1 +
end
"""
COUNTS = ("matched", "passed", "dropped", "published", "emitted", "errors", "memory_bytes", "p50_us", "p99_us")


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    d = tmp_path_factory.mktemp("admin-rules")
    (d / "rules").mkdir()
    (d / "api_keys").write_text("%s:%s:viewer\n%s:%s:admin\n" % (VIEWER_KEY + ADMIN_KEY))
    b = brokerproc.Broker(d, {"broker": {"threads": 2},
                              "rules": {"dir": str(d / "rules"), "reload_interval": 0},
                              "admin": {"auth": "login", "api_keys_file": str(d / "api_keys")}})
    b.rules_dir = str(d / "rules")
    b.start()
    yield b
    b.close_clients()
    assert b.stop() == 0
    assert b.health_problems() == []


@pytest.fixture
def api(shared):
    return AdminClient(shared.admin_url, basic=ADMIN_KEY)


def subscriber(broker, filt):
    c = pahoc.PahoClient(broker.host, broker.port, "", pahoc.V5, True)
    broker.clients.append(c)
    c.connect()
    c.subscribe(filt, qos=1)
    return c


def roundtrip(broker, sub, payload, topic="rt/in/a"):
    mosquitto_pub(broker, topic, payload, qos=1)
    m = sub.wait_message()
    return m.topic, m.payload.decode()


def put_text(api, name, source):
    return api.put("/api/v1/rules/" + name, raw=source.encode(), headers={"Content-Type": "text/plain"})


def test_put_rule_transforms_then_broken_put_keeps_it(shared, api):
    path = os.path.join(shared.rules_dir, "upper.lua")
    sub = subscriber(shared, "rt/in/#")
    assert roundtrip(shared, sub, "abc") == ("rt/in/a", "abc")  # no rule yet

    s, body = put_text(api, "upper", UPPER)
    assert s == 201, body
    assert body["name"] == "upper" and body["file"] == path and body["topics"] == ["rt/in/#"]
    assert body["order"] == 0 and body["enabled"] is True and body["source"] == UPPER
    assert all(body[k] == 0 for k in COUNTS if k != "memory_bytes") and body["memory_bytes"] > 0
    assert open(path).read() == UPPER
    assert roundtrip(shared, sub, "abc") == ("rt/in/a", "ABC")

    # Replaced (JSON body this time): 200.
    s, body = api.put("/api/v1/rules/upper", {"source": UPPER_V2})
    assert s == 200 and body["source"] == UPPER_V2
    assert roundtrip(shared, sub, "abc") == ("rt/in/a", "v2:ABC")

    # A syntax error: 400 naming file:line; the file and the running rule stay.
    s, body = put_text(api, "upper", BROKEN)
    assert s == 400
    assert body == {"code": "BAD_REQUEST", "message": "%s:4: unexpected symbol near 'end'" % path}
    # A fault while loading (not a syntax error) is refused the same way.
    s, body = put_text(api, "upper", 'topics = "rt/in/#"\nlocal x = nil\nx.y = 1\n')
    assert s == 400 and body["message"].startswith(path + ":3: attempt to index")
    s, body = put_text(api, "upper", 'topics = "rt/in/#"\n')
    assert s == 400 and body["message"] == path + ": the rule defines no function on_message(msg)"
    assert open(path).read() == UPPER_V2
    assert roundtrip(shared, sub, "abc") == ("rt/in/a", "v2:ABC")

    s, body = api.get("/api/v1/rules/upper")
    assert s == 200 and body["source"] == UPPER_V2
    # Counters belong to the name: they go on across new versions (3 messages since the first PUT).
    assert body["matched"] == 3 and body["passed"] == 3 and body["errors"] == 0
    assert body["p99_us"] >= body["p50_us"] >= 1
    s, body = api.get("/api/v1/rules")
    assert s == 200
    [r] = [r for r in body["rules"] if r["name"] == "upper"]
    assert "source" not in r and r["matched"] == 3 and r["file"] == path

    s, body = api.delete("/api/v1/rules/upper")
    assert (s, body) == (204, None)
    assert not os.path.exists(path)
    assert roundtrip(shared, sub, "abc") == ("rt/in/a", "abc")
    assert api.get("/api/v1/rules/upper")[0] == 404
    s, body = api.delete("/api/v1/rules/upper")
    assert s == 404 and body["code"] == "NOT_FOUND"


def test_disable_and_enable(shared, api):
    sub = subscriber(shared, "rt/in/#")
    assert put_text(api, "upper2", UPPER)[0] == 201
    assert roundtrip(shared, sub, "x") == ("rt/in/a", "X")
    s, body = api.post("/api/v1/rules/upper2/disable")
    assert (s, body) == (200, {"name": "upper2", "enabled": False})
    assert roundtrip(shared, sub, "x") == ("rt/in/a", "x")
    assert api.get("/api/v1/rules/upper2")[1]["enabled"] is False
    with open(os.path.join(shared.data_dir, "rules_disabled")) as f:
        assert f.read() == "upper2\n"
    # A new version of a disabled rule stays disabled.
    assert put_text(api, "upper2", UPPER_V2)[0] == 200
    assert roundtrip(shared, sub, "x") == ("rt/in/a", "x")
    s, body = api.post("/api/v1/rules/upper2/enable")
    assert (s, body) == (200, {"name": "upper2", "enabled": True})
    assert roundtrip(shared, sub, "x") == ("rt/in/a", "v2:X")
    assert api.get("/api/v1/rules/upper2")[1]["enabled"] is True
    with open(os.path.join(shared.data_dir, "rules_disabled")) as f:
        assert f.read() == ""
    assert api.post("/api/v1/rules/nope/disable")[0] == 404
    assert api.delete("/api/v1/rules/upper2")[0] == 204


def test_bad_names_and_bodies(shared, api):
    s, body = put_text(api, "a.b", UPPER)
    assert s == 400 and body["code"] == "BAD_REQUEST"
    s, body = put_text(api, "..%2Fescape", UPPER)
    assert s == 400
    assert put_text(api, "x" * 65, UPPER)[0] == 400
    s, body = put_text(api, "other", 'name = "elsewhere"\n' + UPPER)
    assert s == 400 and "declares name = \"elsewhere\"" in body["message"]
    assert put_text(api, "empty", "")[0] == 400
    s, body = api.get("/api/v1/rules/nope")
    assert s == 404 and body["code"] == "NOT_FOUND"
    assert sorted(os.listdir(shared.rules_dir)) == []


DRY = """\
topics = "t/#"
local w = window{ seconds = 60, on_close = function(key, r) publish("avg/" .. key, r.avg) end }
function on_message(msg)
  local v = tonumber(msg.payload)
  if v == nil then log.info("not a number:", msg.payload) return false end
  w:add(msg.levels[2], v)
  if v > 80 then emit("local", { topic = "alarm/" .. msg.levels[2], payload = msg.payload, qos = 1 }) end
  msg.payload = v * 10
end
"""


def test_rules_test_matches_the_command_line(shared, tmp_path):
    viewer = AdminClient(shared.admin_url, basic=VIEWER_KEY)  # a dry run changes nothing
    msgs = [("t/a", "90"), ("t/a", "10"), ("t/b", "oops")]
    s, body = viewer.post("/api/v1/rules/test", {
        "name": "dry", "source": DRY,
        "messages": [{"topic": t, "payload": p, "qos": 0, "retain": False} for t, p in msgs]})
    assert s == 200, body
    rule = tmp_path / "dry.lua"
    rule.write_text(DRY)
    args = ["--rules-test", str(rule)]
    for t, p in msgs:
        args += ["--message", t, p]
    r = run_strata(*args)
    assert r.returncode == 0, r.stderr
    first, rest = r.stdout.split("\n", 1)
    assert first == "rule dry from %s" % rule
    assert body["output"] == "rule dry from %s\n" % os.path.join(shared.rules_dir, "dry.lua") + rest
    assert body["rule"] == "dry" and body["faulted"] is False
    m1, m2, m3 = body["messages"]
    assert m1 == {"topic": "t/a", "payload": "90", "result": "pass", "logs": [], "faults": [],
                  "actions": [{"action": "emit", "target": "local", "topic": "alarm/a", "payload": "90",
                               "qos": 1, "retain": False}],
                  "passed": {"topic": "t/a", "payload": "900", "qos": 0, "retain": False}}
    assert m2["actions"] == [] and m2["passed"]["payload"] == "100"
    assert m3["result"] == "drop" and "passed" not in m3
    assert m3["logs"] == [{"level": "info", "text": "%s:5: not a number: oops"
                           % os.path.join(shared.rules_dir, "dry.lua")}]
    assert body["closing"]["actions"] == [{"action": "publish", "topic": "avg/a", "payload": "50", "qos": 0,
                                           "retain": False}]
    # A bad source: 400 with file:line, as the command line says it.
    s, body = viewer.post("/api/v1/rules/test", {"name": "dry", "source": "topics = 't/#'\nfunction on_message(m)\n  return 1 +\nend\n"})
    assert s == 400 and body["message"] == "%s:4: unexpected symbol near 'end'" % os.path.join(shared.rules_dir, "dry.lua")
    # Nothing was written.
    assert not os.path.exists(os.path.join(shared.rules_dir, "dry.lua"))


def test_viewer_may_read_but_not_change(shared, api):
    assert put_text(api, "seen", UPPER)[0] == 201
    viewer = AdminClient(shared.admin_url, basic=VIEWER_KEY)
    assert viewer.get("/api/v1/rules")[0] == 200
    assert viewer.get("/api/v1/rules/seen")[0] == 200
    for method, path in [("PUT", "/api/v1/rules/seen"), ("DELETE", "/api/v1/rules/seen"),
                         ("POST", "/api/v1/rules/seen/disable"), ("POST", "/api/v1/rules/seen/enable")]:
        s, body, _ = viewer.request(method, path, raw=UPPER.encode() if method == "PUT" else None)
        assert s == 403 and body["code"] == "FORBIDDEN", (method, path)
    s, body = api.get("/api/v1/rules/seen")
    assert body["enabled"] is True and body["source"] == UPPER
    assert api.delete("/api/v1/rules/seen")[0] == 204


def test_rule_engine_off_answers_409(tmp_path):
    b = brokerproc.Broker(tmp_path, {"rules": {"enabled": False}})
    b.start()
    try:
        api = AdminClient(b.admin_url)
        for method, path in [("GET", "/api/v1/rules"), ("GET", "/api/v1/rules/x"), ("PUT", "/api/v1/rules/x"),
                             ("DELETE", "/api/v1/rules/x"), ("POST", "/api/v1/rules/x/disable")]:
            s, body, _ = api.request(method, path, raw=UPPER.encode() if method == "PUT" else None)
            assert s == 409, (method, path, s, body)
            assert body == {"code": "CONFLICT", "message": "the rule engine is off ([rules] enabled = false)"}
        # The dry run needs no engine.
        s, body = api.post("/api/v1/rules/test", {"source": UPPER, "messages": [{"topic": "rt/in/a", "payload": "q"}]})
        assert s == 200 and body["messages"][0]["passed"]["payload"] == "Q"
    finally:
        assert b.stop() == 0
