"""Unified namespace (Strata): the catalog survives a restart. A real
publisher (raw MQTT 5, QoS 1, every PUBACK checked) fills the catalog; the
broker is stopped gracefully (SIGTERM: snapshot at stop) and started again
on the same data directory: /api/v1/topics gives back exactly the same
topics, message counts, last payloads, publishers, user and other
properties (content type, response topic, correlation data, expiry, payload
format), the last violation of an observed contract, and times, /api/v1/topics/{topic}/schema the same history of schema versions
(a topic that drifted twice keeps its three), and the rates are still
there (not above what they were: they decay while the broker is down). Then more
topics, a periodic snapshot committed (strata_uns_catalog_snapshots_total
goes up) and kill -9: after the restart the snapshot's topics are back."""

import json

import pytest

import brokerproc
import raw
from adminhttp import AdminClient
from common import wait_until

pytestmark = pytest.mark.strata_only

UNS = {"enabled": True, "namespace": [{"prefix": "acme"}], "snapshot_interval": 1,
       "contract": [{"name": "rpm", "filter": "acme/+/+/+/+/rpm", "shape": "number", "action": "observe"}]}
KEYS = ("topic", "messages", "value", "publisher", "qos", "retain", "first_seen_ms", "last_seen_ms", "size",
        "violations", "user_properties", "properties", "last_violation", "schema_versions")
OBSERVED = "acme/berlin/press/line9/cell1/rpm"
DRIFT = "acme/berlin/press/line9/cell1/drift"


def catalog(api):
    status, body = api.get("/api/v1/topics?limit=1000")
    assert status == 200, body
    out = {}
    for t in body["data"]:
        status, one = api.get("/api/v1/topics/" + t["topic"].replace("/", "%2F"))
        assert status == 200, one
        status, schema = api.get("/api/v1/topics/" + t["topic"].replace("/", "%2F") + "/schema")
        assert status == 200, schema
        out[t["topic"]] = (tuple(json.dumps(one.get(k)) for k in KEYS), json.dumps(schema, sort_keys=True))
    return out


def rates(api, topic):
    status, one = api.get("/api/v1/topics/" + topic.replace("/", "%2F"))
    assert status == 200, one
    return one["rate_per_s"], one["rate_per_min"]


def metric(api, name):
    status, text = api.get("/metrics")
    assert status == 200
    text = text if isinstance(text, str) else text.decode()
    return int(float([l.split(" ", 1)[1] for l in text.splitlines() if l.startswith(name + " ")][0]))


def publish(b, client_id, msgs):
    p = b.raw_connect(client_id)
    for i, m in enumerate(msgs):
        t, payload, props = m if len(m) == 3 else (m[0], m[1], None)
        p.send(raw.publish(t, payload, qos=1, pid=i + 1, props=props))
        assert p.expect(raw.PUBACK).rc == 0
    p.close()


def test_catalog_survives_sigterm_and_kill(tmp_path):
    b = brokerproc.Broker(tmp_path, {"uns": UNS})
    b.start()
    api = AdminClient(b.admin_url)
    msgs = []
    for i in range(20):
        t = "acme/berlin/press/line%d/cell1/temp" % (i % 5) if i < 10 else "other/m%d/rpm" % i
        t = t if i < 5 or i >= 10 else t.replace("temp", "t%d" % i)
        msgs += [(t, '{"timestamp_ms": %d, "value": %d}' % (n, i * 10 + n)) for n in range(1 + i % 3)]
    # Two drifts (value's type, then a field more), the last message with
    # user properties.
    msgs += [(DRIFT, '{"value": 1}'), (DRIFT, '{"value": "one"}'),
             (DRIFT, '{"value": 2, "unit": "C"}', [("user_property", ("unit", "C")), ("user_property", ("line", "9")),
                                                  ("content_type", "application/json"), ("response_topic", "r/9"),
                                                  ("correlation_data", b"\x00\x07"),
                                                  ("message_expiry_interval", 600), ("payload_format_indicator", 1)])]
    # An observed contract: delivered, and the topic keeps its last violation.
    msgs += [(OBSERVED, "fast")]
    publish(b, "plc-1", msgs)
    before = catalog(api)
    assert len(before) == 22 and sum(int(v[0][1]) for v in before.values()) == len(msgs)
    assert json.loads(before[DRIFT][0][KEYS.index("user_properties")]) == [["unit", "C"], ["line", "9"]]
    assert json.loads(before[DRIFT][0][KEYS.index("properties")]) == {
        "payload_format_indicator": 1, "message_expiry_interval": 600, "content_type": "application/json",
        "response_topic": "r/9", "correlation_data_base64": "AAc="}
    violation = json.loads(before[OBSERVED][0][KEYS.index("last_violation")])
    assert (violation["contract"], violation["client_id"], violation["kind"]) == ("rpm", "plc-1", "not_json"), violation
    history = json.loads(before[DRIFT][1])["versions"]
    assert [(v["messages"], sorted(v["fields"].items())) for v in history] == [
        (1, [("", "object"), ("/value", "integer")]),
        (1, [("", "object"), ("/value", "string")]),
        (1, [("", "object"), ("/unit", "string"), ("/value", "integer")])]
    rate_before = rates(api, DRIFT)
    assert rate_before[0] > 0 and rate_before[1] > 0

    assert b.stop() == 0
    b.start()
    api = AdminClient(b.admin_url)
    assert catalog(api) == before
    rate_after = rates(api, DRIFT)
    assert 0 < rate_after[0] <= rate_before[0] and 0 < rate_after[1] <= rate_before[1], (rate_before, rate_after)
    assert metric(api, "strata_uns_catalog_restored_topics") == 22
    assert metric(api, "strata_uns_catalog_snapshot_damaged_total") == 0

    # Five more topics, a periodic snapshot committed after them, then kill -9.
    publish(b, "plc-2", [("acme/lyon/weld/line1/cell%d/state" % i, '"run"') for i in range(5)])
    after = catalog(api)
    assert len(after) == 27
    base = metric(api, "strata_uns_catalog_snapshots_total")
    wait_until(lambda: metric(api, "strata_uns_catalog_snapshots_total") >= base + 2, timeout=30)
    b.kill()
    b.start()
    api = AdminClient(b.admin_url)
    assert catalog(api) == after
    assert metric(api, "strata_uns_catalog_restored_topics") == 27
    b.close_clients()
    assert b.stop() == 0
    assert b.health_problems() == []
