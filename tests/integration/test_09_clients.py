"""Interoperability with real clients: mosquitto_pub / mosquitto_sub, paho
and MQTT.js, MQTT 3.1.1 and 5.0, exact payloads both ways."""

import base64

import pytest

import pahoc
import raw
from extclients import MosquittoSub, MqttJs, b64, mosquitto_pub
from raw import V311, V5

CLI_VERSIONS = [("mqttv311", V311), ("mqttv5", V5)]


# --- mosquitto_pub / mosquitto_sub ------------------------------------------------------

@pytest.mark.parametrize("cli,version", CLI_VERSIONS, ids=["v311", "v5"])
@pytest.mark.parametrize("qos", [0, 1, 2])
def test_mosquitto_pub_to_raw_subscriber(broker, cli, version, qos):
    s = broker.raw_connect("s", version=version)
    s.subscribe(("cli/pub", 2), expect=[2])
    mosquitto_pub(broker, "cli/pub", "hello from mosquitto_pub \u00e9", version=cli, qos=qos)
    m = s.expect(raw.PUBLISH)
    assert (m.topic, m.payload, m.qos, m.retain) == (
        "cli/pub", "hello from mosquitto_pub \u00e9".encode(), qos, False)


@pytest.mark.parametrize("cli,version", CLI_VERSIONS, ids=["v311", "v5"])
@pytest.mark.parametrize("qos", [0, 1, 2])
def test_raw_publisher_to_mosquitto_sub(broker, cli, version, qos):
    sub = MosquittoSub(broker, "cli/sub/#", version=cli, qos=qos)
    sub.wait_subscribed()
    p = broker.raw_connect("p", version=version)
    p.publish("cli/sub/a", b"payload-1", qos=qos, pid=1)
    p.publish("cli/sub/b", b"payload 2", qos=qos, pid=2)
    assert sub.message() == b"cli/sub/a|%d|0|payload-1" % qos
    assert sub.message() == b"cli/sub/b|%d|0|payload 2" % qos


@pytest.mark.parametrize("pub_cli,sub_cli", [("mqttv311", "mqttv5"), ("mqttv5", "mqttv311"),
                                             ("mqttv5", "mqttv5"), ("mqttv311", "mqttv311")])
def test_mosquitto_pub_to_mosquitto_sub(broker, pub_cli, sub_cli):
    sub = MosquittoSub(broker, "cli/x", version=sub_cli, qos=2)
    sub.wait_subscribed()
    for qos in (0, 1, 2):
        mosquitto_pub(broker, "cli/x", "m%d" % qos, version=pub_cli, qos=qos)
    assert [sub.message() for _ in range(3)] == [b"cli/x|0|0|m0", b"cli/x|1|0|m1", b"cli/x|2|0|m2"]


@pytest.mark.parametrize("cli", ["mqttv311", "mqttv5"])
def test_mosquitto_retained(broker, cli):
    mosquitto_pub(broker, "cli/ret", "kept", version=cli, qos=1, retain=True)
    sub = MosquittoSub(broker, "cli/ret", version=cli, qos=1, count=1, extra=["-W", "5"])
    sub.wait_subscribed()
    assert sub.message() == b"cli/ret|1|1|kept"
    assert sub.wait(5) == 0
    mosquitto_pub(broker, "cli/ret", version=cli, qos=1, retain=True, null=True)
    s = broker.raw_connect("check")
    s.subscribe(("cli/ret", 1), expect=[1])
    s.expect_nothing(0.4)


def test_mosquitto_v5_properties(broker):
    s = broker.raw_connect("s")
    s.subscribe(("cli/props", 1), expect=[1])
    sub = MosquittoSub(broker, "cli/props", version="mqttv5", qos=1, fmt="%P|%C|%E|%p")
    sub.wait_subscribed()
    mosquitto_pub(broker, "cli/props", "with props", version="mqttv5", qos=1, props=[
        ("publish", "user-property", "site", "plant-1"),
        ("publish", "user-property", "line", "7"),
        ("publish", "content-type", "text/plain"),
        ("publish", "message-expiry-interval", "3600"),
    ])
    m = s.expect(raw.PUBLISH)
    assert m.payload == b"with props"
    assert m.props.all("user_property") == [("site", "plant-1"), ("line", "7")]
    assert m.props.get("content_type") == "text/plain"
    assert 3599 <= m.props.get("message_expiry_interval") <= 3600
    line = sub.message()
    user, ctype, expiry, payload = line.split(b"|")
    assert user.split() == [b"site:plant-1", b"line:7"]
    assert (ctype, payload) == (b"text/plain", b"with props")
    assert 3599 <= int(expiry) <= 3600


def test_mosquitto_sub_v5_sees_raw_user_properties(broker):
    sub = MosquittoSub(broker, "cli/up", version="mqttv5", qos=0, fmt="%P|%p")
    sub.wait_subscribed()
    p = broker.raw_connect("p")
    p.publish("cli/up", b"x", props={"user_property": [("k1", "v1"), ("k2", "v2")]})
    assert sub.message() == b"k1:v1 k2:v2|x"


def test_mosquitto_sub_will(broker):
    sub = MosquittoSub(broker, "cli/will", version="mqttv5", qos=1)
    sub.wait_subscribed()
    o = broker.raw(V5)
    o.connect("dies", will_topic="cli/will", will_payload=b"it died", will_qos=1)
    o.abort()
    assert sub.message() == b"cli/will|1|0|it died"


# --- paho -------------------------------------------------------------------------------------

ALL_BYTES = bytes(range(256)) * 4


@pytest.mark.parametrize("version", [pahoc.V311, pahoc.V5], ids=["v311", "v5"])
@pytest.mark.parametrize("qos", [0, 1, 2])
def test_paho_round_trip_binary_payload(paho, version, qos):
    sub = paho("paho-sub", version=version)
    sub.connect()
    sub.subscribe("paho/bin", qos=qos, expect=[qos])
    pub = paho("paho-pub", version=version)
    pub.connect()
    pub.publish("paho/bin", ALL_BYTES, qos=qos)
    pub.publish("paho/bin", b"", qos=qos)
    m1, m2 = sub.wait_messages(2)
    assert (m1.topic, m1.payload, m1.qos) == ("paho/bin", ALL_BYTES, qos)
    assert (m2.payload, m2.qos) == (b"", qos)


def test_paho_large_payload(paho):
    payload = bytes((i * 7) % 251 for i in range(512 * 1024))
    sub = paho("big-sub")
    sub.connect()
    sub.subscribe("paho/big", qos=1, expect=[1])
    pub = paho("big-pub")
    pub.connect()
    pub.publish("paho/big", payload, qos=1, timeout=10)
    m = sub.wait_message(10)
    assert m.payload == payload


def test_paho_v5_properties_round_trip(paho):
    sub = paho("p5-sub")
    sub.connect()
    sub.subscribe("paho/props", qos=1, expect=[1])
    pub = paho("p5-pub")
    pub.connect()
    props = pahoc.props(ContentType="application/json", ResponseTopic="paho/reply",
                        CorrelationData=b"\x01\x02", PayloadFormatIndicator=1,
                        MessageExpiryInterval=120,
                        UserProperty=[("a", "1"), ("b", "2"), ("a", "3")])
    pub.publish("paho/props", b'{"x":1}', qos=1, properties=props)
    m = sub.wait_message()
    assert m.payload == b'{"x":1}'
    assert m.prop("ContentType") == "application/json"
    assert m.prop("ResponseTopic") == "paho/reply"
    assert m.prop("CorrelationData") == b"\x01\x02"
    assert m.prop("PayloadFormatIndicator") == 1
    assert 119 <= m.prop("MessageExpiryInterval") <= 120
    assert m.prop("UserProperty") == [("a", "1"), ("b", "2"), ("a", "3")]


def test_paho_v311_and_v5_interoperate(paho):
    s3 = paho("s3", version=pahoc.V311)
    s3.connect()
    s3.subscribe("mix/#", qos=2, expect=[2])
    s5 = paho("s5")
    s5.connect()
    s5.subscribe("mix/#", qos=2, expect=[2])
    p3 = paho("p3", version=pahoc.V311)
    p3.connect()
    p5 = paho("p5")
    p5.connect()
    p3.publish("mix/from3", b"three", qos=2)
    p5.publish("mix/from5", b"five", qos=2)
    for s in (s3, s5):
        got = sorted((m.topic, m.payload, m.qos) for m in s.wait_messages(2))
        assert got == [("mix/from3", b"three", 2), ("mix/from5", b"five", 2)]


# --- MQTT.js ------------------------------------------------------------------------------------

@pytest.mark.parametrize("pv", [4, 5], ids=["v311", "v5"])
def test_mqttjs_subscriber_receives(broker, pv):
    js = MqttJs(broker, {"protocolVersion": pv, "clientId": "js-sub",
                         "subscribe": [{"topic": "js/in/#", "qos": 2}], "expect": 3, "timeoutMs": 8000})
    ev = js.until("subscribed")
    assert ev[0]["event"] == "connack" and ev[-1]["granted"] == [2]
    p = broker.raw_connect("p", version=V5 if pv == 5 else V311)
    for qos in (0, 1, 2):
        p.publish("js/in/q%d" % qos, b"\x00js payload %d\xff" % qos, qos=qos, pid=qos + 1)
    msgs = [e for e in js.until("done") if e["event"] == "message"]
    assert [(m["topic"], base64.b64decode(m["payload_b64"]), m["qos"], m["retain"]) for m in msgs] == [
        ("js/in/q%d" % q, b"\x00js payload %d\xff" % q, q, False) for q in (0, 1, 2)]
    assert js.wait(5) == 0


@pytest.mark.parametrize("pv", [4, 5], ids=["v311", "v5"])
def test_mqttjs_publisher_sends(broker, pv):
    s = broker.raw_connect("s")
    s.subscribe(("js/out/#", 2), expect=[2])
    js = MqttJs(broker, {"protocolVersion": pv, "clientId": "js-pub", "publish": [
        {"topic": "js/out/a", "payload_b64": b64(b"first"), "qos": 0},
        {"topic": "js/out/b", "payload_b64": b64(b"second"), "qos": 1},
        {"topic": "js/out/c", "payload_b64": b64(b"third"), "qos": 2, "retain": True},
    ]})
    js.until("done")
    assert js.wait(5) == 0
    got = []
    for _ in range(3):
        m = s.expect(raw.PUBLISH)
        got.append((m.topic, m.payload, m.qos, m.retain))
        if m.qos == 1:
            s.send(raw.puback(m.pid))
        elif m.qos == 2:
            s.send(raw.pubrec(m.pid))
            s.expect(raw.PUBREL)
            s.send(raw.pubcomp(m.pid))
    assert got == [("js/out/a", b"first", 0, False), ("js/out/b", b"second", 1, False),
                   ("js/out/c", b"third", 2, False)]
    late = MqttJs(broker, {"protocolVersion": pv, "clientId": "js-late",
                           "subscribe": [{"topic": "js/out/c", "qos": 1}], "expect": 1})
    msgs = [e for e in late.until("done") if e["event"] == "message"]
    assert [(m["topic"], base64.b64decode(m["payload_b64"]), m["qos"], m["retain"]) for m in msgs] == [
        ("js/out/c", b"third", 1, True)]


def test_mqttjs_v5_properties_both_ways(broker):
    sub = MqttJs(broker, {"protocolVersion": 5, "clientId": "js5-sub",
                          "subscribe": [{"topic": "js5/p", "qos": 1, "properties": {"subscriptionIdentifier": 42}}],
                          "expect": 1, "timeoutMs": 8000})
    sub.until("subscribed")
    pub = MqttJs(broker, {"protocolVersion": 5, "clientId": "js5-pub", "publish": [{
        "topic": "js5/p", "payload_b64": b64(b"props"), "qos": 1,
        "properties": {"contentType": "text/plain", "responseTopic": "js5/reply",
                       "correlationData": {"__b64": b64(b"\x00corr")},
                       "userProperties": {"plant": "north", "cell": "3"},
                       "messageExpiryInterval": 300, "payloadFormatIndicator": True}}]})
    pub.until("done")
    msgs = [e for e in sub.until("done") if e["event"] == "message"]
    assert len(msgs) == 1
    m = msgs[0]
    props = m["properties"]
    assert base64.b64decode(m["payload_b64"]) == b"props"
    assert props["contentType"] == "text/plain"
    assert props["responseTopic"] == "js5/reply"
    assert base64.b64decode(props["correlationData"]["__b64"]) == b"\x00corr"
    assert props["userProperties"] == {"plant": "north", "cell": "3"}
    assert 299 <= props["messageExpiryInterval"] <= 300
    assert props["payloadFormatIndicator"] is True
    assert props["subscriptionIdentifier"] in (42, [42])


def test_mqttjs_to_paho_and_back(broker, paho):
    ps = paho("paho-s")
    ps.connect()
    ps.subscribe("bridge/js2paho", qos=1, expect=[1])
    js = MqttJs(broker, {"protocolVersion": 5, "clientId": "js-both",
                         "subscribe": [{"topic": "bridge/paho2js", "qos": 1}],
                         "publish": [{"topic": "bridge/js2paho", "payload_b64": b64(b"from js"), "qos": 1}],
                         "expect": 1, "timeoutMs": 8000})
    js.until("published")
    m = ps.wait_message()
    assert (m.topic, m.payload, m.qos) == ("bridge/js2paho", b"from js", 1)
    pp = paho("paho-p")
    pp.connect()
    pp.publish("bridge/paho2js", b"from paho", qos=1)
    msgs = [e for e in js.until("done") if e["event"] == "message"]
    assert [(e["topic"], base64.b64decode(e["payload_b64"])) for e in msgs] == [("bridge/paho2js", b"from paho")]
