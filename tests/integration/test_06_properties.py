"""MQTT 5 properties: message expiry, publish properties forwarded untouched,
request/response and problem information, topic aliases both ways."""

import time

import pytest

import raw
from common import STRICT, collect_publishes, expect_server_disconnect
from raw import V311, V5


PERSIST = {"session_expiry_interval": 60}


# --- message expiry ------------------------------------------------------------------

def test_message_expiry_forwarded_live(broker):
    s = broker.raw_connect("s")
    s.subscribe(("exp/live", 1), expect=[1])
    p = broker.raw_connect("p")
    p.publish("exp/live", b"x", qos=1, props={"message_expiry_interval": 60})
    p.publish("exp/live", b"y", qos=1, pid=2)
    a, b = s.expect(raw.PUBLISH), s.expect(raw.PUBLISH)
    assert 59 <= a.props.get("message_expiry_interval") <= 60
    assert "message_expiry_interval" not in b.props


def test_message_expiry_remaining_interval_after_queueing(broker):
    s = broker.raw(V5)
    s.connect("expq", clean=True, props=PERSIST)
    s.subscribe(("exp/q", 1), expect=[1])
    s.disconnect()
    p = broker.raw_connect("p")
    t0 = time.monotonic()
    p.publish("exp/q", b"ten", qos=1, props={"message_expiry_interval": 10})
    time.sleep(2.1)
    again = broker.raw(V5)
    assert again.connect("expq", clean=False, props=PERSIST).session_present
    m = again.expect(raw.PUBLISH)
    waited = time.monotonic() - t0
    assert m.payload == b"ten"
    left = m.props.get("message_expiry_interval", -1)
    assert 10 - waited - 1 <= left <= 10 - waited + 0.5, (left, waited)


@pytest.mark.parametrize("version", [V311, V5])
def test_expired_message_not_delivered_to_offline_session(broker, version):
    s = broker.raw(version)
    s.connect("expo", clean=version == V5, props=PERSIST if version == V5 else None)
    s.subscribe(("exp/o", 1), expect=[1])
    s.disconnect()
    p = broker.raw_connect("p")
    p.publish("exp/o", b"short", qos=1, props={"message_expiry_interval": 1})
    p.publish("exp/o", b"long", qos=1, pid=2, props={"message_expiry_interval": 30})
    p.publish("exp/o", b"forever", qos=1, pid=3)
    time.sleep(2.1)  # brokers may count whole seconds
    again = broker.raw(version)
    assert again.connect("expo", clean=False, props=PERSIST if version == V5 else None).session_present
    assert [m.payload for m in collect_publishes(again, ack=True)] == [b"long", b"forever"]


# --- publish properties forwarded untouched ---------------------------------------------------

FORWARDED = [
    ("payload_format_indicator", 1),
    ("content_type", "application/json; charset=utf-8"),
    ("response_topic", "reply/to/me"),
    ("correlation_data", b"\x00\xffcorr-42"),
    ("user_property", ("b", "2")),
    ("user_property", ("a", "1")),
    ("user_property", ("b", "3")),
    ("user_property", ("", "")),
    ("user_property", ("\u6e29\u5ea6", "23.5 \u00b0C")),
]


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_publish_properties_forwarded_in_order(broker, qos):
    s = broker.raw_connect("s")
    s.subscribe(("props/t", 2), expect=[2])
    p = broker.raw_connect("p")
    p.publish("props/t", b'{"v":1}', qos=qos, props=FORWARDED)
    m = s.expect(raw.PUBLISH)
    assert m.payload == b'{"v":1}' and m.qos == qos
    assert m.props.get("payload_format_indicator") == 1
    assert m.props.get("content_type") == "application/json; charset=utf-8"
    assert m.props.get("response_topic") == "reply/to/me"
    assert m.props.get("correlation_data") == b"\x00\xffcorr-42"
    assert m.props.all("user_property") == [v for k, v in FORWARDED if k == "user_property"]
    names = [n for n in m.props.names() if n != "user_property"]
    assert sorted(names) == sorted(["payload_format_indicator", "content_type", "response_topic",
                                    "correlation_data"])


def test_payload_format_indicator_zero_forwarded_or_omitted(broker):
    s = broker.raw_connect("s")
    s.subscribe(("pfi/t", 0), expect=[0])
    p = broker.raw_connect("p")
    p.publish("pfi/t", b"\xff\xfe", props={"payload_format_indicator": 0})
    m = s.expect(raw.PUBLISH)
    assert m.payload == b"\xff\xfe"
    assert m.props.get("payload_format_indicator", 0) == 0


def test_v311_subscriber_gets_no_properties(broker):
    s = broker.raw_connect("s3", version=V311)
    s.subscribe(("props/v3", 0), expect=[0])
    p = broker.raw_connect("p")
    p.publish("props/v3", b"plain", props=FORWARDED)
    assert s.recv().raw == b"\x30\x0f\x00\x08props/v3plain"


def test_request_response_via_response_topic(broker):
    responder = broker.raw_connect("responder")
    responder.subscribe(("svc/req", 1), expect=[1])
    requester = broker.raw_connect("requester")
    requester.subscribe(("svc/resp/requester", 1), expect=[1])
    requester.publish("svc/req", b"ping?", qos=1,
                      props={"response_topic": "svc/resp/requester", "correlation_data": b"id-7"})
    req = responder.expect(raw.PUBLISH)
    responder.send(raw.puback(req.pid))
    responder.publish(req.props.get("response_topic"), b"pong!", qos=1,
                      props={"correlation_data": req.props.get("correlation_data")})
    resp = requester.expect(raw.PUBLISH)
    assert (resp.topic, resp.payload, resp.props.get("correlation_data")) == (
        "svc/resp/requester", b"pong!", b"id-7")


@pytest.mark.parametrize("qos", [0, 2])
@pytest.mark.parametrize("response_topic", ["pp/+/#", "+"])
def test_response_topic_with_wildcards_is_protocol_error(broker, qos, response_topic):
    """[MQTT-3.3.2-14]: a Response Topic is a topic name; the server may not
    change it (3.3.2-15), so the only answer is DISCONNECT 0x82, and nothing
    is delivered."""
    sub = broker.raw_connect("rt-sub")
    sub.subscribe(("rt/t", 1), expect=[1])
    c = broker.raw_connect("rt-pub")
    c.send(raw.publish("rt/t", b"x", qos=qos, pid=1 if qos else None,
                       props={"response_topic": response_topic}))
    expect_server_disconnect(c, 0x82)
    sub.expect_nothing(0.2)


@pytest.mark.parametrize("response_topic", ["pp/+/#", "#"])
def test_will_response_topic_with_wildcards_refused_0x82(broker, response_topic):
    sub = broker.raw_connect("wrt-sub")
    sub.subscribe(("wrt/will", 1), expect=[1])
    c = broker.raw()
    c.send(raw.connect("wrt", will_topic="wrt/will", will_payload=b"gone",
                       will_props={"response_topic": response_topic}))
    ack = c.expect(raw.CONNACK)
    assert ack.rc == 0x82, ack
    c.expect_closed()
    sub.expect_nothing(0.2)  # refused at CONNECT: no will either


# --- request response / problem information ---------------------------------------------------

def test_no_response_information_unless_requested(broker):
    c = broker.raw(V5)
    assert "response_information" not in c.connect("rri0").props
    c2 = broker.raw(V5)
    assert "response_information" not in c2.connect("rri0b", props={"request_response_information": 0}).props


@pytest.mark.strata_only
def test_response_information_when_requested(broker):
    c = broker.raw(V5)
    ack = c.connect("rri1", props={"request_response_information": 1})
    info = ack.props.get("response_information")
    assert isinstance(info, str) and info
    # it is a topic prefix the client may use for responses: usable and valid
    c.subscribe((info.rstrip("/") + "/#", 1), expect=[1])


def test_request_problem_information_0_suppresses_reason_strings(broker):
    c = broker.raw(V5)
    c.connect("rpi0", props={"request_problem_information": 0})
    ack = c.unsubscribe(["never/subscribed"])
    assert ack.rcs == [0x11]
    assert "reason_string" not in ack.props and "user_property" not in ack.props
    c.send(raw.pubrel(4321))
    comp = c.expect(raw.PUBCOMP)
    assert "reason_string" not in comp.props and "user_property" not in comp.props


@pytest.mark.strata_only
def test_reason_string_on_protocol_error_disconnect(broker):
    c = broker.raw_connect("rs")
    c.send(raw.connect("rs"))  # second CONNECT
    d = c.expect_disconnect(0x82)
    rs = d.props.get("reason_string")
    assert isinstance(rs, str) and rs


# --- topic aliases: client to broker ----------------------------------------------------------

ALIASES = {"limits": {"topic_alias_maximum": 5}}


@pytest.mark.broker_config(**ALIASES)
def test_client_topic_alias_set_and_used(broker):
    s = broker.raw_connect("s")
    s.subscribe(("ta/#", 1), expect=[1])
    c = broker.raw_connect("c")
    assert c.connack.props.get("topic_alias_maximum") == 5
    c.publish("ta/x", b"1", qos=1, pid=1, props={"topic_alias": 1})
    c.publish("", b"2", qos=1, pid=2, props={"topic_alias": 1})
    c.publish("ta/y", b"3", qos=1, pid=3, props={"topic_alias": 5})
    c.publish("", b"4", qos=0, props={"topic_alias": 5})
    c.publish("ta/z", b"5", qos=1, pid=4, props={"topic_alias": 1})  # remap alias 1
    c.publish("", b"6", qos=1, pid=5, props={"topic_alias": 1})
    c.publish("ta/w", b"7", qos=1, pid=6)  # no alias at all
    got = collect_publishes(s, ack=True)
    assert [(m.topic, m.payload) for m in got] == [
        ("ta/x", b"1"), ("ta/x", b"2"), ("ta/y", b"3"), ("ta/y", b"4"), ("ta/z", b"5"), ("ta/z", b"6"),
        ("ta/w", b"7")]
    # the subscriber did not allow aliases: none are sent to it
    assert all("topic_alias" not in m.props for m in got)


@pytest.mark.broker_config(**ALIASES)
@pytest.mark.parametrize("alias", [
    pytest.param(0, marks=pytest.mark.mosquitto_deviation("answers alias 0 with 0x81")), 6, 65535])
def test_client_topic_alias_out_of_range_disconnects_0x94(broker, alias):
    s = broker.raw_connect("s")
    s.subscribe(("ta/#", 0), expect=[0])
    c = broker.raw_connect("c")
    c.send(raw.publish("ta/bad", b"x", props={"topic_alias": alias}))
    expect_server_disconnect(c, 0x94)
    s.expect_nothing(0.3)


@pytest.mark.broker_config(limits={"topic_alias_maximum": 0})
def test_client_topic_alias_when_none_allowed_disconnects_0x94(broker):
    c = broker.raw_connect("c")
    assert c.connack.props.get("topic_alias_maximum", 0) == 0
    c.send(raw.publish("ta/bad", b"x", props={"topic_alias": 1}))
    expect_server_disconnect(c, 0x94)


@pytest.mark.broker_config(**ALIASES)
def test_unknown_topic_alias_is_protocol_error(broker):
    c = broker.raw_connect("c")
    c.send(raw.publish("", b"x", props={"topic_alias": 3}))
    expect_server_disconnect(c, 0x82, required=STRICT)


@pytest.mark.broker_config(**ALIASES)
def test_topic_aliases_do_not_survive_reconnect(broker):
    props = {"session_expiry_interval": 60}
    c = broker.raw_connect("c", clean=True, props=props)
    c.publish("ta/x", b"1", qos=1, props={"topic_alias": 2})
    c.disconnect()
    again = broker.raw(V5)
    again.connect("c", clean=False, props=props)
    again.send(raw.publish("", b"x", props={"topic_alias": 2}))
    expect_server_disconnect(again, 0x82, required=STRICT)


def test_empty_topic_without_alias_is_protocol_error(broker):
    c = broker.raw_connect("c")
    c.send(raw.publish("", b"x"))
    expect_server_disconnect(c, 0x82, required=STRICT)


# --- topic aliases: broker to client (Strata assigns them) -------------------------------------

def _resolve(msgs, maximum):
    aliases, out = {}, []
    for m in msgs:
        alias = m.props.get("topic_alias")
        if alias is not None:
            assert 1 <= alias <= maximum, "alias %d outside 1..%d" % (alias, maximum)
            if m.topic:
                aliases[alias] = m.topic
            else:
                assert alias in aliases, "alias %d used before it was set" % alias
        else:
            assert m.topic, "empty topic without alias"
        out.append((m.topic or aliases[alias], m.payload))
    return out


@pytest.mark.strata_only
def test_broker_assigns_topic_alias(broker):
    s = broker.raw_connect("s", props={"topic_alias_maximum": 10})
    s.subscribe(("out/#", 1), expect=[1])
    p = broker.raw_connect("p")
    sent = [("out/long/topic/name/a", b"%d" % i) for i in range(3)] + [("out/b", b"b")]
    for i, (t, pl) in enumerate(sent):
        p.publish(t, pl, qos=1, pid=i + 1)
    got = collect_publishes(s, ack=True)
    assert _resolve(got, 10) == sent
    first, second, third, other = got
    a = first.props.get("topic_alias")
    assert first.topic == "out/long/topic/name/a" and a is not None
    assert (second.topic, second.props.get("topic_alias")) == ("", a)
    assert (third.topic, third.props.get("topic_alias")) == ("", a)
    assert other.props.get("topic_alias") != a


@pytest.mark.strata_only
def test_broker_alias_assignment_with_few_aliases(broker):
    s = broker.raw_connect("s", props={"topic_alias_maximum": 1})
    s.subscribe(("few/#", 0), expect=[0])
    p = broker.raw_connect("p")
    sent = [("few/%s" % t, b"%d" % i) for i, t in enumerate("abababba")]
    for t, pl in sent:
        p.publish(t, pl)
    got = collect_publishes(s, ack=True)
    assert _resolve(got, 1) == sent


def test_no_broker_aliases_without_client_maximum(broker):
    s = broker.raw_connect("s")
    s.subscribe(("noal/#", 0), expect=[0])
    p = broker.raw_connect("p")
    for i in range(3):
        p.publish("noal/t", b"%d" % i)
    got = collect_publishes(s, ack=True)
    assert [(m.topic, "topic_alias" in m.props) for m in got] == [("noal/t", False)] * 3


@pytest.mark.strata_only
def test_broker_aliases_reset_on_reconnect(broker):
    props = {"topic_alias_maximum": 5, "session_expiry_interval": 60}
    s = broker.raw_connect("s", clean=True, props=props)
    s.subscribe(("rst/t", 1), expect=[1])
    p = broker.raw_connect("p")
    p.publish("rst/t", b"1", qos=1)
    p.publish("rst/t", b"2", qos=1, pid=2)
    assert _resolve(collect_publishes(s, ack=True), 5) == [("rst/t", b"1"), ("rst/t", b"2")]
    s.disconnect()
    again = broker.raw_connect("s", clean=False, props=props)
    p.publish("rst/t", b"3", qos=1, pid=3)
    m = again.expect(raw.PUBLISH)
    # a new connection starts with no aliases: the topic must be sent in full
    assert m.topic == "rst/t" and m.payload == b"3"


def test_reason_string_never_makes_packet_exceed_client_maximum(broker):
    # MQTT 5.0 3.14.2.2.2: no Reason String if it would exceed Maximum Packet Size
    c = broker.raw(V5)
    c.connect("tiny", props={"maximum_packet_size": 16})
    c.send(raw.connect("tiny"))  # protocol error
    got = c.recv_until_closed()
    assert all(len(p.raw) <= 16 for p in got), got


def test_subscription_identifier_on_retained_delivery(broker):
    p = broker.raw_connect("p")
    p.publish("sidret/t", b"stored", qos=1, retain=True)
    c = broker.raw_connect("c")
    c.subscribe(("sidret/+", 1), props={"subscription_identifier": 77}, expect=[1])
    m = c.expect(raw.PUBLISH)
    assert (m.payload, m.retain, m.props.all("subscription_identifier")) == (b"stored", True, [77])


@pytest.mark.strata_only
def test_payload_not_matching_format_indicator_refused_0x99(broker):
    s = broker.raw_connect("s")
    s.subscribe(("pfi/#", 1), expect=[1])
    c = broker.raw_connect("c")
    c.send(raw.publish("pfi/bad", b"\xff\xfe not utf-8", qos=1, pid=1,
                       props={"payload_format_indicator": 1}))
    p = c.recv()
    assert (p.type, p.rc) in ((raw.PUBACK, 0x99), (raw.DISCONNECT, 0x99)), p
    s.expect_nothing(0.3)


def test_topic_with_bom_and_non_ascii_kept_exactly(broker):
    # MQTT-1.5.4-3: U+FEFF must not be skipped or stripped
    topic = "\ufeffbom/\u00e9t\u00e9/\U0001f600"
    s = broker.raw_connect("s")
    s.subscribe([(topic, 0), ("bom/#", 0)], expect=[0, 0])
    p = broker.raw_connect("p")
    p.publish(topic, b"x")
    m = s.expect(raw.PUBLISH)
    assert m.topic == topic
    s.expect_nothing(0.3)  # "bom/#" does not match: U+FEFF is part of the level


@pytest.mark.strata_only
def test_request_problem_information_0_on_error_acks(broker):
    c = broker.raw(V5)
    c.connect("rpi0e", props={"request_problem_information": 0})
    ack = c.subscribe([("ok/t", 0), ("bad/#/x", 0)])
    assert ack.rcs == [0, 0x8F]
    assert "reason_string" not in ack.props and "user_property" not in ack.props
    c.send(raw.publish("pfi/bad", b"\xff", qos=1, pid=5, props={"payload_format_indicator": 1}))
    p = c.recv()
    if p.type == raw.PUBACK:
        assert p.rc == 0x99
        assert "reason_string" not in p.props and "user_property" not in p.props

