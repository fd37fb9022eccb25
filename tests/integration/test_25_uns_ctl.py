"""Unified namespace (Strata) through strata-ctl and the contracts API: a
real broker with a namespace and a timeseries contract, a real MQTT
publisher (raw) making a small plant; the built strata-ctl browses the tree,
searches the catalog, shows a topic and its inferred schema, lists, shows
and tests contracts and lists violations (exact rows and exit codes). Then
contracts added and removed at run time (PUT/DELETE /api/v1/contracts/{name},
`strata-ctl contracts apply|rm`): a v5 QoS 1 publish breaking an applied
reject contract gets PUBACK 0x99, after the DELETE 0x00; a bad schema is a
400 naming the fault, and the contract applied before keeps enforcing."""

import json
import os
import subprocess

import pytest

import brokerproc
import raw
from adminhttp import AdminClient, quote

pytestmark = pytest.mark.strata_only

CTL = os.path.join(os.path.dirname(brokerproc.strata_bin() or "."), "strata-ctl")
UNS = {
    "enabled": True,
    "namespace": [{"prefix": "acme"}],
    "contract": [{"name": "ts", "filter": "acme/+/+/+/+/+", "shape": "timeseries", "action": "observe",
                  "version": "2024-06"}],
}
MSGS = [
    ("acme/berlin/press/line1/cell1/temp", '{"timestamp_ms": 1, "value": 20.5}'),
    ("acme/berlin/press/line1/cell1/temp", '{"timestamp_ms": 2, "value": 21.5}'),
    ("acme/berlin/press/line1/cell2/temp", '{"timestamp_ms": 1, "value": 30}'),
    ("acme/berlin/weld/line2/cell1/state", '{"timestamp_ms": 1, "value": "idle"}'),
    ("acme/lyon/press/line1/cell1/temp", '{"value": 3}'),  # breaks ts: observed
    ("other/motor/rpm", "1200"),
]


@pytest.fixture(scope="module")
def ub(tmp_path_factory):
    b = brokerproc.Broker(tmp_path_factory.mktemp("unsctl"), {"uns": UNS})
    b.start()
    p = b.raw_connect("plc-7")
    for i, (t, payload) in enumerate(MSGS):
        p.send(raw.publish(t, payload, qos=1, pid=i + 1))
        assert p.expect(raw.PUBACK).rc == 0
    yield b, AdminClient(b.admin_url)
    b.close_clients()
    assert b.stop() == 0
    assert b.health_problems() == []


def ctl(b, *args):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent",
           "XDG_CONFIG_HOME": "/nonexistent", "STRATA_URL": b.admin_url}
    return subprocess.run([CTL] + list(args), capture_output=True, text=True, timeout=30, env=env)


def ok(r):
    assert (r.returncode, r.stderr) == (0, ""), (r.returncode, r.stdout, r.stderr)
    return r.stdout


def rows(out, drop=()):
    """A table as lists of words, without the columns in `drop` (rates move)."""
    return [[w for i, w in enumerate(line.split()) if i not in drop] for line in out.splitlines()]


def test_topics_tree(ub):
    b, api = ub
    out = ok(ctl(b, "topics", "tree", "acme", "--depth", "2"))
    assert rows(out, drop=(3,)) == [
        ["NODE", "TOPICS", "MESSAGES", "STATUS"],
        ["acme", "4", "5", "violating"],
        ["berlin", "3", "4", "ok"],
        ["press/...", "2", "3", "ok"],
        ["weld/...", "1", "1", "ok"],
        ["lyon", "1", "1", "violating"],
        ["press/...", "1", "1", "violating"],
    ]
    assert out.splitlines()[2].startswith("  berlin ") and out.splitlines()[3].startswith("    press/... ")
    r = ctl(b, "--json", "topics", "tree", "--depth", "0")
    assert json.loads(ok(r))["child_count"] == 2  # acme, other
    r = ctl(b, "topics", "tree", "--depth", "99")
    assert (r.returncode, r.stderr.splitlines()[0]) == (2, "strata-ctl: --depth must be an integer from 0 to 64, not '99'")


def test_topics_find_show_schema(ub):
    b, api = ub
    status, body = api.get("/api/v1/topics?match=" + quote("acme/+/press/#"))
    assert status == 200
    out = ok(ctl(b, "topics", "find", "acme/+/press/#"))
    # TOPIC MESSAGES RATE/S LAST SEEN STATUS; the time as the API's last_seen_ms in UTC.
    import datetime
    def utc(ms):
        return datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
            "%03dZ" % (ms % 1000)
    assert rows(out, drop=(2,)) == [["TOPIC", "MESSAGES", "LAST", "SEEN", "STATUS"]] + [
        [t["topic"], str(t["messages"]), utc(t["last_seen_ms"]), t["status"]] for t in body["data"]]
    assert [r[0] for r in rows(out)[1:]] == ["acme/berlin/press/line1/cell1/temp",
                                             "acme/berlin/press/line1/cell2/temp", "acme/lyon/press/line1/cell1/temp"]
    assert [r[1] for r in rows(out)[1:]] == ["2", "1", "1"]
    assert [r[0] for r in rows(ok(ctl(b, "topics", "find", "--text", "weld")))[1:]] == \
        ["acme/berlin/weld/line2/cell1/state"]
    assert [r[0] for r in rows(ok(ctl(b, "topics", "find", "--status", "violating")))[1:]] == \
        ["acme/lyon/press/line1/cell1/temp"]
    r = ctl(b, "topics", "find", "--limit", "2", "--contract", "ts")
    assert r.returncode == 0 and r.stderr == "(more: --page 2)\n" and len(rows(r.stdout)) == 3
    r = ctl(b, "topics", "find", "--regex", "(")
    assert r.returncode == 1 and r.stderr.startswith("strata-ctl: 400 BAD_REQUEST: ")

    out = ok(ctl(b, "topics", "show", "acme/berlin/press/line1/cell1/temp"))
    lines = out.splitlines()
    assert "topic: acme/berlin/press/line1/cell1/temp" in lines
    assert "messages: 2" in lines and "publisher: plc-7" in lines and "status: ok" in lines
    assert 'value: {"timestamp_ms": 2, "value": 21.5}' in lines
    r = ctl(b, "topics", "show", "no/such")
    assert (r.returncode, r.stderr) == (1, "strata-ctl: 404 NOT_FOUND: no topic 'no/such' in the catalog\n")

    out = ok(ctl(b, "topics", "schema", "acme/berlin/press/line1/cell1/temp"))
    assert rows(out) == [["FIELD", "TYPES", "PRESENCE"], ["(root)", "object", "100%"],
                         ["/timestamp_ms", "integer", "100%"],
                         ["/value", "number", "100%"], ["schema", "version", "1", "of", "1"]]
    draft = json.loads(ok(ctl(b, "topics", "schema", "acme/berlin/press/line1/cell1/temp", "--as-contract")))
    assert draft == api.get("/api/v1/topics/" + quote("acme/berlin/press/line1/cell1/temp") + "/schema?as=contract")[1]


def test_contracts_list_show_test_violations(ub):
    b, api = ub
    out = ok(ctl(b, "contracts", "list"))
    assert rows(out) == [["NAME", "VERSION", "FILTER", "CHECKS", "ACTION", "MATCHED", "PASSED", "FAILED"],
                         ["ts", "2024-06", "acme/+/+/+/+/+", "timeseries", "observe", "5", "4", "1"]]
    lines = ok(ctl(b, "contracts", "show", "ts")).splitlines()
    assert "name: ts" in lines and "version: 2024-06" in lines and "  missing_field: 1" in lines
    r = ctl(b, "contracts", "test", "ts", '{"timestamp_ms": 1, "value": true}', '{"value": 1}', "nope")
    assert r.returncode == 1
    assert r.stderr == "strata-ctl: 2 of 3 samples break the contract\n"
    assert rows(r.stdout)[0] == ["SAMPLE", "RESULT", "KIND", "POINTER", "DETAIL"]
    lines = r.stdout.splitlines()
    assert lines[1].endswith("  valid") and lines[1].startswith('{"timestamp_ms": 1, "value": true}')
    assert lines[2].startswith('{"value": 1}') and "  invalid  missing_field  /timestamp_ms  " in lines[2]
    assert lines[3].split()[:3] == ["nope", "invalid", "not_json"]
    assert ok(ctl(b, "contracts", "test", "ts", '{"timestamp_ms": 1, "value": 2}')).splitlines()[1].split() == \
        ['{"timestamp_ms":', '1,', '"value":', '2}', "valid"]
    r = ctl(b, "contracts", "test", "num", "--shape", "number", "12", "x")
    assert (r.returncode, [l.split()[:2] for l in r.stdout.splitlines()[1:]]) == (1, [["12", "valid"], ["x", "invalid"]])
    r = ctl(b, "contracts", "show", "none")
    assert (r.returncode, r.stderr) == (1, "strata-ctl: 404 NOT_FOUND: no contract 'none'\n")

    out = ok(ctl(b, "contracts", "violations"))
    assert rows(out, drop=(0,)) == [["MS", "TOPIC", "CLIENT", "ID", "CONTRACT", "VERSION", "KIND", "POINTER", "ACTION"],
                                    ["acme/lyon/press/line1/cell1/temp", "plc-7", "ts", "2024-06", "missing_field",
                                     "/timestamp_ms", "observe"]]


def test_contracts_apply_reject_and_rm(ub, tmp_path):
    b, api = ub
    topic = "plant9/press/speed"  # outside ts, whose match would decide first
    pub = b.raw_connect("plc-9")

    def puback(pid, payload):
        pub.send(raw.publish(topic, payload, qos=1, pid=pid))
        return pub.expect(raw.PUBACK).rc

    assert puback(1, '{"rpm": "fast"}') == 0x00
    spec = {"name": "speed", "filter": "plant9/#", "version": 3, "action": "reject",
            "schema": {"type": "object", "properties": {"rpm": {"type": "number"}}, "required": ["rpm"]}}
    f = tmp_path / "speed.json"
    f.write_text(json.dumps(spec))
    assert ok(ctl(b, "contracts", "apply", str(f))) == "Applied contract speed\n"
    status, c = api.get("/api/v1/contracts/speed")
    assert (status, c["version"], c["action"], c["filter"]) == (200, "3", "reject", "plant9/#")
    assert puback(2, '{"rpm": "fast"}') == 0x99
    assert puback(3, '{"rpm": 1200}') == 0x00

    # A bad schema: 400 naming the fault, and version 3 still enforces.
    status, e = api.put("/api/v1/contracts/speed", {"filter": "acme/#", "schema": '{"type": "object",'})
    assert status == 400 and e["message"].startswith("schema: line 1, column ") and "(contract speed)" in e["message"]
    status, e = api.put("/api/v1/contracts/speed", {"filter": "acme/#", "shape": "sideways"})
    assert (status, e["message"]) == (400, "shape must be none, number or timeseries")
    status, e = api.put("/api/v1/contracts/speed", {"filter": "acme/#"})
    assert status == 400 and e["message"].startswith("the contract has neither schema nor shape")
    status, e = api.put("/api/v1/contracts/speed", {"filter": "a/#/b", "shape": "number"})
    assert (status, e["message"]) == (400, "filter 'a/#/b' is not a valid topic filter")
    assert api.get("/api/v1/contracts/speed")[1]["version"] == "3"
    assert puback(4, '{"rpm": "fast"}') == 0x99

    assert ok(ctl(b, "contracts", "rm", "speed")) == "Removed contract speed\n"
    assert puback(5, '{"rpm": "fast"}') == 0x00
    status, _ = api.delete("/api/v1/contracts/speed")
    assert status == 404
    r = ctl(b, "contracts", "rm", "speed")
    assert (r.returncode, r.stderr) == (1, "strata-ctl: 404 NOT_FOUND: no contract 'speed'\n")
    assert [c["name"] for c in api.get("/api/v1/contracts")[1]["data"]] == ["ts"]
