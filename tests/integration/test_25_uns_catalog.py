"""Unified namespace (Strata): the live catalog through the admin API —
search by filter, substring and regex, one topic, the namespace tree, the
inferred schema and a contract drafted from it, violations, contracts and
testing samples against them, /metrics — and eviction at catalog_max_topics.
Publishers are real MQTT clients (raw), the API is read with urllib."""

import json
import os
import time

import pytest

import brokerproc
import raw
from adminhttp import AdminClient, quote
from common import wait_until

pytestmark = pytest.mark.strata_only

UNS = {
    "enabled": True,
    "namespace": [{"prefix": "acme"}],
    "contract": [{"name": "ts", "filter": "acme/+/+/+/+/+", "shape": "timeseries", "action": "observe",
                  "version": "2024-06"}],
}


def start(tmp_path_factory, name, uns):
    b = brokerproc.Broker(tmp_path_factory.mktemp(name), {"uns": uns})
    b.start()
    return b


def stop(b):
    b.close_clients()
    b.stop()
    assert not b.health_problems()


@pytest.fixture(scope="module")
def cb(tmp_path_factory):
    b = start(tmp_path_factory, "catalog", UNS)
    p = b.raw_connect("plc-7")
    msgs = [
        ("acme/berlin/press/line1/cell1/temp", '{"timestamp_ms": 1, "value": 20.5}'),
        ("acme/berlin/press/line1/cell1/temp", '{"timestamp_ms": 2, "value": 21.5}'),
        ("acme/berlin/press/line1/cell2/temp", '{"timestamp_ms": 1, "value": 30}'),
        ("acme/berlin/weld/line2/cell1/state", '{"timestamp_ms": 1, "value": "idle"}'),
        ("acme/lyon/press/line1/cell1/temp", '{"value": 3}'),  # breaks ts: observed
        ("other/motor/rpm", "1200"),
    ]
    for i, (t, payload) in enumerate(msgs):
        p.send(raw.publish(t, payload, qos=1, pid=i + 1))
        assert p.expect(raw.PUBACK).rc == 0
    yield b, AdminClient(b.admin_url)
    stop(b)


def metric(text, name):
    values = [line.split(" ", 1)[1] for line in text.splitlines() if line.startswith(name + " ")]
    return values[0] if values else None


def topics(api, query):
    status, body = api.get("/api/v1/topics?" + query)
    assert status == 200, body
    return [i["topic"] for i in body["data"]], body["meta"]


def test_search_by_filter_substring_and_regex(cb):
    b, api = cb
    found, meta = topics(api, "match=" + quote("acme/+/press/#"))
    assert found == ["acme/berlin/press/line1/cell1/temp", "acme/berlin/press/line1/cell2/temp",
                     "acme/lyon/press/line1/cell1/temp"]
    assert meta == {"page": 1, "limit": 100, "count": 3, "hasnext": False}
    assert topics(api, "q=weld")[0] == ["acme/berlin/weld/line2/cell1/state"]
    assert topics(api, "regex=" + quote("^(other|acme/lyon)/"))[0] == ["acme/lyon/press/line1/cell1/temp",
                                                                       "other/motor/rpm"]
    assert topics(api, "status=violating")[0] == ["acme/lyon/press/line1/cell1/temp"]
    assert topics(api, "contract=ts&limit=2&page=2")[0] == ["acme/berlin/weld/line2/cell1/state",
                                                            "acme/lyon/press/line1/cell1/temp"]
    status, body = api.get("/api/v1/topics?regex=" + quote("("))
    assert status == 400


def test_one_topic(cb):
    b, api = cb
    status, t = api.get("/api/v1/topics/" + quote("acme/berlin/press/line1/cell1/temp"))
    assert status == 200, t
    assert (t["messages"], t["value"], t["publisher"], t["qos"], t["retain"]) == \
        (2, '{"timestamp_ms": 2, "value": 21.5}', "plc-7", 1, False)
    assert t["isa95"] == {"enterprise": "acme", "site": "berlin", "area": "press", "line": "line1",
                          "cell": "cell1", "tag": "temp"}
    assert t["contracts"] == ["ts v2024-06"]
    assert t["status"] == "ok"
    status, t = api.get("/api/v1/topics/" + quote("acme/lyon/press/line1/cell1/temp"))
    v = t["last_violation"]
    assert (t["status"], v["contract"], v["kind"], v["pointer"], v["action"], v["client_id"]) == \
        ("violating", "ts", "missing_field", "/timestamp_ms", "observe", "plc-7")
    assert api.get("/api/v1/topics/" + quote("no/such"))[0] == 404


def test_namespace_tree(cb):
    b, api = cb
    status, tree = api.get("/api/v1/namespace?path=acme&depth=2")
    assert status == 200, tree
    assert (tree["path"], tree["topics"], tree["messages"], tree["status"]) == ("acme", 4, 5, "violating")
    sites = {c["name"]: c for c in tree["children"]}
    assert set(sites) == {"berlin", "lyon"}
    assert (sites["berlin"]["topics"], sites["berlin"]["status"]) == (3, "ok")
    assert [c["name"] for c in sites["berlin"]["children"]] == ["press", "weld"]


def test_schema_and_schema_as_contract(cb):
    b, api = cb
    status, s = api.get("/api/v1/topics/" + quote("acme/berlin/press/line1/cell1/temp") + "/schema")
    assert status == 200, s
    assert s["fields"]["/value"] == {"types": "number", "presence": 1.0}
    assert s["fields"]["/timestamp_ms"]["types"] == "integer"
    status, c = api.get("/api/v1/topics/" + quote("acme/berlin/press/line1/cell1/temp") + "/schema?as=contract")
    assert c == {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object",
                 "properties": {"timestamp_ms": {"type": "integer"}, "value": {"type": "number"}},
                 "required": ["timestamp_ms", "value"]}
    # The draft is a contract: test samples against it.
    status, r = api.post("/api/v1/contracts/draft/test",
                         {"schema": c, "samples": [{"timestamp_ms": 5, "value": 1.5}, {"value": 1}, "nope"]})
    assert status == 200, r
    assert r["results"] == [{"valid": True},
                            {"valid": False, "kind": "missing_field", "pointer": "/timestamp_ms", "detail": "required"},
                            {"valid": False, "kind": "not_json", "pointer": "",
                             "detail": "invalid JSON at offset 1: Invalid value."}]


def test_contracts_violations_and_metrics(cb):
    b, api = cb
    status, body = api.get("/api/v1/contracts")
    assert status == 200
    [c] = body["data"]
    assert (c["name"], c["version"], c["action"], c["matched"], c["passed"], c["failed"]) == \
        ("ts", "2024-06", "observe", 5, 4, 1)
    assert c["failed_by_kind"]["missing_field"] == 1
    status, r = api.post("/api/v1/contracts/ts/test", {"samples": ['{"timestamp_ms": 1, "value": true}']})
    assert r["results"] == [{"valid": True}]
    assert api.post("/api/v1/contracts/none/test", {"samples": []})[0] == 404
    status, v = api.get("/api/v1/contracts/violations")
    assert [(x["topic"], x["kind"]) for x in v["data"]] == [("acme/lyon/press/line1/cell1/temp", "missing_field")]
    status, text = api.get("/metrics")
    assert 'strata_uns_contract_checks_total{contract="ts",result="passed"} 4' in text
    assert 'strata_uns_contract_checks_total{contract="ts",result="failed"} 1' in text
    assert metric(text, "strata_uns_catalog_topics") == "5"


def test_eviction_at_the_cap(tmp_path_factory):
    b = start(tmp_path_factory, "evict", {"enabled": True, "catalog_max_topics": 3})
    try:
        api = AdminClient(b.admin_url)
        p = b.raw_connect("evictor")
        for i, t in enumerate(["e/1", "e/2", "e/3", "e/1", "e/4", "e/5"]):
            p.send(raw.publish(t, str(i), qos=1, pid=i + 1))
            assert p.expect(raw.PUBACK).rc == 0
        found, meta = topics(api, "match=" + quote("e/#"))
        assert found == ["e/1", "e/4", "e/5"]  # e/2, then e/3: least recently seen
        status, text = api.get("/metrics")
        assert metric(text, "strata_uns_catalog_evicted_total") == "2"
        assert metric(text, "strata_uns_catalog_topics") == "3"
    finally:
        stop(b)
