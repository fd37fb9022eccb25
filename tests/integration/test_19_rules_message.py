"""Lua rules (Strata): what a rule sees of a message — topic and levels,
payload and JSON (msg.json and json.decode), QoS, retain, MQTT 5 properties and user properties,
client id, username, receive time, hops — and the time helpers, read from
messages real clients publish; and the MQTT 5 properties a rule sets, as a
real subscriber receives them."""

import json
import time

import pytest

import pahoc
from extclients import mosquitto_pub
from rulesbroker import rules_broker  # noqa: F401 (a fixture)

pytestmark = pytest.mark.strata_only

FIELDS = """
topics = "fields/#"
local function or_null(v) if v == nil then return json.null end return v end
function on_message(msg)
  local decoded, decode_error = json.decode(msg.payload)
  publish("seen", {
    decoded = or_null(decoded), decode_error = or_null(decode_error),
    topic = msg.topic, levels = msg.levels, payload = msg.payload, qos = msg.qos, retain = msg.retain,
    content_type = or_null(msg.content_type), response_topic = or_null(msg.response_topic),
    correlation_data = or_null(msg.correlation_data), expiry = or_null(msg.expiry),
    user_properties = msg.user_properties, client_id = msg.client_id, username = msg.username,
    hops = msg.hops, json = or_null(msg.json), json_error = or_null(msg.json_error),
    received = msg.received, now = now(), os_time = os.time(),
  })
  return false
end
"""


def test_message_fields_from_real_clients(rules_broker):
    rb = rules_broker({"fields.lua": FIELDS})
    sub = rb.subscriber("seen", "fields/#")
    pub = pahoc.PahoClient(rb.broker.host, rb.broker.port, "dev-1", pahoc.V5, True)
    rb.broker.clients.append(pub)
    pub.connect(username="alice", password="secret")
    before = time.time()
    pub.publish("fields/site/line3", b'{"v": 21.5, "ok": true, "tags": ["a", "b"]}', qos=1, retain=True,
                properties=pahoc.props(ContentType="application/json", ResponseTopic="reply/dev-1",
                                       CorrelationData=b"corr-7", MessageExpiryInterval=120,
                                       UserProperty=[("site", "berlin"), ("line", "3")]))
    seen = json.loads(sub.wait_message().payload)
    after = time.time()
    received = seen.pop("received")
    assert before * 1000 - 1 <= received <= after * 1000 + 1
    assert received <= seen.pop("now") <= after * 1000 + 1
    assert int(before) <= seen.pop("os_time") <= int(after) + 1
    assert seen.pop("expiry") in (119, 120)  # seconds left, rounded up
    assert seen == {
        "topic": "fields/site/line3", "levels": ["fields", "site", "line3"],
        "payload": '{"v": 21.5, "ok": true, "tags": ["a", "b"]}', "qos": 1, "retain": True,
        "content_type": "application/json", "response_topic": "reply/dev-1", "correlation_data": "corr-7",
        "user_properties": {"site": "berlin", "line": "3"}, "client_id": "dev-1", "username": "alice",
        "hops": 0, "json": {"v": 21.5, "ok": True, "tags": ["a", "b"]}, "json_error": None,
        "decoded": {"v": 21.5, "ok": True, "tags": ["a", "b"]}, "decode_error": None,
    }
    # MQTT 3.1.1, no properties, a payload that is not JSON.
    mosquitto_pub(rb.broker, "fields/x", "21,5", qos=0, extra=["-i", "plc-9"])
    seen = json.loads(sub.wait_message().payload)
    for k in ("received", "now", "os_time"):
        seen.pop(k)
    assert seen == {
        "topic": "fields/x", "levels": ["fields", "x"], "payload": "21,5", "qos": 0, "retain": False,
        "content_type": None, "response_topic": None, "correlation_data": None, "expiry": None,
        "user_properties": {}, "client_id": "plc-9", "username": "", "hops": 0, "json": None,
        "json_error": "invalid JSON at offset 2: The document root must not be followed by other values.",
        "decoded": None,
        "decode_error": "invalid JSON at offset 2: The document root must not be followed by other values.",
    }
    sub.expect_no_message(0.3)  # the rule dropped both: nothing on fields/#, nothing retained


PROPERTIES = """
topics = "props/in"
function on_message(msg)
  msg.topic = "props/out"
  msg.response_topic = "reply/" .. msg.client_id
  msg.correlation_data = "req-" .. msg.payload
  msg.content_type = nil                 -- removed
  msg.user_properties.drop_me = nil      -- removed
  msg.user_properties.added = "yes"
  msg.qos = 0
  msg.retain = true
end
"""


def test_rule_sets_mqtt5_properties_a_subscriber_receives(rules_broker):
    rb = rules_broker({"props.lua": PROPERTIES})
    sub = rb.subscriber("props/#")
    pub = rb.client("sender")
    pub.publish("props/in", b"42", qos=1,
                properties=pahoc.props(ContentType="text/plain", UserProperty=[("keep", "1"), ("drop_me", "2")]))
    m = sub.wait_message()
    assert (m.topic, m.payload, m.qos) == ("props/out", b"42", 0)
    assert m.prop("ResponseTopic") == "reply/sender"
    assert m.prop("CorrelationData") == b"req-42"
    assert m.prop("ContentType") is None
    assert m.prop("UserProperty") == [("keep", "1"), ("added", "yes")]
    # retain = true: a new subscriber gets it as a retained message.
    late = rb.subscriber("props/out")
    r = late.wait_message()
    assert (r.topic, r.payload, r.retain) == ("props/out", b"42", True)
    assert r.prop("CorrelationData") == b"req-42"


REPEATED = """
topics = "rep/#"
function on_message(msg)
  msg.payload = "first k=" .. msg.user_properties.k
  if msg.topic == "rep/change" then msg.user_properties.added = "1" end
end
"""


def test_repeated_user_properties_pass_unless_the_rule_changes_them(rules_broker):
    rb = rules_broker({"repeated.lua": REPEATED})
    sub = rb.subscriber("rep/#")
    pub = rb.client()
    props = [("k", "1"), ("other", "x"), ("k", "2")]
    pub.publish("rep/keep", b"", qos=1, properties=pahoc.props(UserProperty=props))
    m = sub.wait_message()
    assert (m.payload, m.prop("UserProperty")) == (b"first k=1", props)
    pub.publish("rep/change", b"", qos=1, properties=pahoc.props(UserProperty=props))
    m = sub.wait_message()
    assert (m.payload, m.prop("UserProperty")) == (b"first k=1", [("k", "1"), ("other", "x"), ("added", "1")])
