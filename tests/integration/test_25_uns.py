"""Unified namespace (Strata): contracts enforced at publish — a v5 QoS 1/2
PUBLISH breaking one is refused with 0x99 and a reason string naming the
contract and the JSON pointer, observe delivers and counts, redirect lands
on the quarantine topic with the strata-contract/-violation properties,
3.1.1 is dropped (or disconnected); model violations; what rules see of the
namespace (msg.uns, msg.json); drift events; the $SYS counters; reload of a
contract with a new version and refusal of a bad schema file with file:line.

One broker for the module (its state is only added to by each test: each
test uses its own topics)."""

import json
import os
import signal
import subprocess
import time

import pytest

import brokerproc
import pahoc
import raw
from common import wait_until

pytestmark = pytest.mark.strata_only

TEMPERATURE = {
    "type": "object",
    "required": ["timestamp_ms", "value", "unit"],
    "properties": {
        "timestamp_ms": {"type": "integer"},
        "value": {"type": "number", "minimum": -50, "maximum": 500},
        "unit": {"enum": ["C", "F"]},
        "quality": {"type": "string"},
        "sensor": {"type": "string"},
    },
    "additionalProperties": False,
}

RULE = """
topics = "acme/+/+/+/+/rule"
function on_message(msg)
  publish("seen/rule", {site = msg.uns.site, cell = msg.uns.cell, tag = msg.uns.tag,
                        ns = msg.uns.namespace, value = msg.json.value})
  return false
end
"""


def uns_config(temperature_version=1):
    return {
        "enabled": True,
        "namespace": [{"prefix": "acme", "level_patterns": {"site": "^[a-z]+$"}}],
        "contract": [
            {"name": "temperature", "filter": "acme/+/+/+/+/temperature", "schema": "temperature.json",
             "version": temperature_version},
            {"name": "count", "filter": "acme/+/+/+/+/count", "shape": "number", "action": "observe"},
            {"name": "status", "filter": "acme/+/+/+/+/status", "shape": "timeseries", "action": "redirect"},
            {"name": "legacy", "filter": "legacy/strict/#", "shape": "number", "reject_disconnect": True},
            {"name": "legacy_soft", "filter": "legacy/soft/#", "shape": "number"},
        ],
    }


@pytest.fixture(scope="module")
def ub(tmp_path_factory):
    work = tmp_path_factory.mktemp("uns")
    with open(os.path.join(str(work), "temperature.json"), "w") as f:
        json.dump(TEMPERATURE, f, indent=2)
    rules_dir = os.path.join(str(work), "rules")
    os.makedirs(rules_dir)
    with open(os.path.join(rules_dir, "uns.lua"), "w") as f:
        f.write(RULE)
    config = {"sys": {"interval": 1}, "rules": {"dir": rules_dir, "reload_interval": 1}, "uns": uns_config()}
    b = brokerproc.Broker(work, config)
    b.start()
    yield b
    b.close_clients()
    b.stop()
    problems = b.health_problems()
    assert not problems, problems


def sub(b, *filters):
    c = pahoc.PahoClient(b.host, b.port, "", pahoc.V5, True)
    b.clients.append(c)
    c.connect()
    for f in filters:
        c.subscribe(f, qos=1)
    return c


def good(value=21.5):
    return json.dumps({"timestamp_ms": 1733400000000, "value": value, "unit": "C", "quality": "good"})


def publish_ack(c, topic, payload, qos=1, pid=1, version=raw.V5):
    c.send(raw.publish(topic, payload, qos=qos, pid=pid, version=version))
    return c.expect(raw.PUBACK if qos == 1 else raw.PUBREC)


def test_v5_qos1_breaking_a_contract_gets_0x99_and_is_not_delivered(ub):
    s = sub(ub, "acme/berlin/press/line1/cell1/#")
    p = ub.raw_connect("dev-temp")
    T = "acme/berlin/press/line1/cell1/temperature"
    cases = [
        (json.dumps({"timestamp_ms": 1, "unit": "C"}), "missing_field at /value"),
        (json.dumps({"timestamp_ms": 1, "value": "hot", "unit": "C"}), "wrong_type at /value"),
        (json.dumps({"timestamp_ms": 1, "value": 900, "unit": "C"}), "out_of_range at /value"),
        (json.dumps({"timestamp_ms": 1, "value": 1, "unit": "C", "extra": 1}), "unexpected_field at "),
        ("not json", "not_json"),
    ]
    for i, (payload, why) in enumerate(cases):
        ack = publish_ack(p, T, payload, pid=i + 1)
        assert (ack.pid, ack.rc) == (i + 1, 0x99)
        reason = ack.props.get("reason_string")
        assert reason.startswith("contract temperature v1: ") and why in reason, reason
    ack = publish_ack(p, T, good(), pid=20)
    assert (ack.pid, ack.rc) == (20, 0)
    # Only the good one arrives, and it is the first message on the topic.
    m = s.wait_message()
    assert (m.topic, m.payload.decode()) == (T, good())
    s.expect_no_message(0.3)


def test_v5_qos2_refused_with_pubrec_0x99_and_the_id_is_free(ub):
    s = sub(ub, "acme/berlin/press/line1/cell2/#")
    p = ub.raw_connect("dev-q2")
    T = "acme/berlin/press/line1/cell2/temperature"
    rec = publish_ack(p, T, "{}", qos=2, pid=7)
    assert (rec.pid, rec.rc) == (7, 0x99)
    assert "missing_field at /timestamp_ms" in rec.props.get("reason_string")
    # The same id is reusable at once: it was not kept awaiting PUBREL.
    rec = publish_ack(p, T, good(22.0), qos=2, pid=7)
    assert (rec.pid, rec.rc) == (7, 0)
    p.send(raw.pubrel(7))
    assert p.expect(raw.PUBCOMP).rc == 0
    m = s.wait_message()
    assert m.payload.decode() == good(22.0)
    s.expect_no_message(0.3)


def test_observe_delivers_and_counts(ub):
    s = sub(ub, "acme/berlin/press/line1/cell3/count")
    mon = sub(ub, "$SYS/uns/contracts/count/#")
    p = ub.raw_connect("dev-count")
    T = "acme/berlin/press/line1/cell3/count"
    for i, payload in enumerate(["12", "twelve", "13"]):
        assert publish_ack(p, T, payload, pid=i + 1).rc == 0
    got = [s.wait_message().payload.decode() for _ in range(3)]
    assert got == ["12", "twelve", "13"]
    seen = {}
    deadline = time.monotonic() + 10
    while not (seen.get("matched") == "3" and seen.get("failed") == "1"):
        m = mon.wait_message(timeout=max(0.1, deadline - time.monotonic()))
        seen[m.topic[len("$SYS/uns/contracts/count/"):]] = m.payload.decode()
    assert seen["passed"] == "2"
    wait_until(lambda: seen.update({m.topic[len("$SYS/uns/contracts/count/"):]: m.payload.decode()
                                    for m in [mon.wait_message()]}) or seen.get("failed/not_json") == "1",
               timeout=5, what="failed/not_json = 1")
    assert seen["version"] == "1"


def test_redirect_lands_on_the_quarantine_topic_with_properties(ub):
    s = sub(ub, "acme/berlin/press/line1/cell4/status", "$uns/quarantine/#")
    p = ub.raw_connect("dev-status")
    T = "acme/berlin/press/line1/cell4/status"
    assert publish_ack(p, T, '{"timestamp_ms": 5, "value": "running"}', pid=1).rc == 0
    assert publish_ack(p, T, '{"timestamp_ms": 5.5, "value": "stopped"}', pid=2).rc == 0
    a, b = s.wait_messages(2)
    assert (a.topic, a.payload.decode()) == (T, '{"timestamp_ms": 5, "value": "running"}')
    assert (b.topic, b.payload.decode()) == ("$uns/quarantine/" + T, '{"timestamp_ms": 5.5, "value": "stopped"}')
    props = dict(b.prop("UserProperty", []))
    assert props["strata-contract"] == "status"
    assert props["strata-contract-version"] == "1"
    assert props["strata-violation"].startswith("contract status v1: wrong_type at /timestamp_ms")
    s.expect_no_message(0.3)


def test_v311_is_dropped_or_disconnected(ub):
    s = sub(ub, "legacy/#")
    soft = ub.raw_connect("old-soft", version=raw.V311)
    ack = publish_ack(soft, "legacy/soft/a", "abc", pid=3, version=raw.V311)
    assert (ack.pid, ack.rc) == (3, 0)  # 3.1.1 cannot say no: acknowledged, dropped
    assert publish_ack(soft, "legacy/soft/a", "42", pid=4, version=raw.V311).pid == 4
    m = s.wait_message()
    assert (m.topic, m.payload.decode()) == ("legacy/soft/a", "42")
    strict = ub.raw_connect("old-strict", version=raw.V311)
    strict.send(raw.publish("legacy/strict/a", "abc", qos=1, pid=5, version=raw.V311))
    strict.expect_closed()
    s.expect_no_message(0.3)


def test_model_violations(ub):
    s = sub(ub, "acme/#")
    p = ub.raw_connect("dev-model")
    ack = publish_ack(p, "acme/berlin/press", "1", pid=1)
    assert ack.rc == 0x99
    assert ack.props.get("reason_string") == \
        "namespace:acme: model (too few levels: 3 of 5 (line is missing))"
    ack = publish_ack(p, "acme/Berlin/press/l1/c1/x", "1", pid=2)
    assert ack.rc == 0x99
    assert "level site 'Berlin' does not match ^[a-z]+$" in ack.props.get("reason_string")
    ack = publish_ack(p, "acme/berlin/press/l 1/c1/x", "1", pid=3)
    assert ack.rc == 0x99
    assert "level line 'l 1' has a character outside [A-Za-z0-9_-]" in ack.props.get("reason_string")
    assert publish_ack(p, "acme/berlin/press/l1/c1/x", "1", pid=4).rc == 0
    m = s.wait_message()
    assert m.topic == "acme/berlin/press/l1/c1/x"
    s.expect_no_message(0.3)


def test_rules_see_the_namespace_and_the_parsed_payload(ub):
    s = sub(ub, "seen/rule")
    p = ub.raw_connect("dev-rule")
    assert publish_ack(p, "acme/hamburg/weld/line2/cell9/rule", '{"value": 7.25}', pid=1).rc == 0
    m = s.wait_message()
    assert json.loads(m.payload) == {"site": "hamburg", "cell": "cell9", "tag": "rule", "ns": "acme", "value": 7.25}


def test_drift_events(ub):
    s = sub(ub, "$uns/drift/#")
    p = ub.raw_connect("dev-drift")
    T = "plant/drift/motor"  # not governed: the catalog still infers its schema
    for i, payload in enumerate(['{"rpm": 1200}', '{"rpm": 1250}', '{"rpm": 1300, "temp": 40.5}',
                                 '{"rpm": "high", "temp": 40.5}', '{"rpm": 1300, "temp": 41.5}']):
        assert publish_ack(p, T, payload, pid=i + 1).rc == 0
    a, b = s.wait_messages(2)
    s.expect_no_message(0.3)  # back to a schema seen before is not drift
    ea, eb = json.loads(a.payload), json.loads(b.payload)
    assert a.topic == b.topic == "$uns/drift/" + T
    assert (ea["topic"], ea["version"], ea["changes"], ea["client_id"]) == (T, 2, "+/temp (number)", "dev-drift")
    assert ea["fields"] == {"": "object", "/rpm": "integer", "/temp": "number"}
    assert (eb["version"], eb["changes"]) == (3, "/rpm: integer -> string")


def run_check_config(path):
    return subprocess.run([brokerproc.strata_bin(), "--check-config", path], capture_output=True, text=True,
                          timeout=20, stdin=subprocess.DEVNULL)


def test_reload_with_a_new_version_and_a_bad_schema_refused_with_file_line(ub):
    p = ub.raw_connect("dev-reload")
    T = "acme/berlin/press/line1/cell5/temperature"
    # v2 of the contract allows up to 1000.
    schema2 = dict(TEMPERATURE, properties=dict(TEMPERATURE["properties"], value={"type": "number", "maximum": 1000}))
    with open(os.path.join(ub.workdir, "temperature2.json"), "w") as f:
        json.dump(schema2, f)
    cfg = dict(ub.config)
    cfg["uns"] = uns_config(temperature_version=2)
    cfg["uns"]["contract"][0]["schema"] = "temperature2.json"
    with open(ub.conf_path, "w") as f:
        f.write(brokerproc.to_toml(cfg))
    assert publish_ack(p, T, good(900), pid=1).rc == 0x99
    ub.proc.send_signal(signal.SIGHUP)
    ub.wait_log("temperature v1 -> v2", timeout=10)

    def accepted():
        ack = publish_ack(p, T, good(900), pid=2)
        return ack.rc == 0
    wait_until(accepted, timeout=5, what="v2 in force on the client's core")
    ack = publish_ack(p, T, good(2000), pid=3)
    assert ack.props.get("reason_string").startswith("contract temperature v2: out_of_range at /value")

    # A bad schema file: refused with file:line, v2 keeps working.
    with open(os.path.join(ub.workdir, "temperature2.json"), "w") as f:
        f.write('{\n  "type": "object",\n  "required": ["value"\n}\n')
    assert run_check_config(ub.conf_path).returncode == 1
    out = run_check_config(ub.conf_path)
    assert os.path.join(ub.workdir, "temperature2.json") + ":4:1: " in out.stderr, out.stderr
    ub.proc.send_signal(signal.SIGHUP)
    ub.wait_log("temperature2.json:4:1: ", timeout=10)
    assert "keeping the running configuration" in ub.log
    assert publish_ack(p, T, good(900), pid=4).rc == 0
    assert publish_ack(p, T, good(2000), pid=5).rc == 0x99
