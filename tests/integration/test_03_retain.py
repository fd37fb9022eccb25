"""Retained messages: store, replace, delete, RETAIN flag on delivery,
retain handling 0/1/2, retain as published, retain not available."""

import time

import pytest

import raw
from common import STRICT, collect_publishes, expect_server_disconnect
from raw import V311, V5, sub_opts


def _retain(broker, topic, payload, qos=0, props=None, version=V5):
    p = broker.raw_connect("retainer-%d" % time.monotonic_ns(), version=version)
    p.publish(topic, payload, qos=qos, retain=True, props=props, pid=1)
    if qos == 0:
        p.ping()  # the broker handled the PUBLISH before the PINGREQ
    p.disconnect()


def test_v311_retained_delivered_on_subscribe_exact_bytes(broker):
    _retain(broker, "ret/a", b"kept", version=V311)
    sub = broker.raw_connect("s", version=V311)
    sub.send(raw.subscribe(1, [("ret/a", 0)], version=V311))
    assert sub.recv().raw == b"\x90\x03\x00\x01\x00"
    assert sub.recv().raw == b"\x31\x0b\x00\x05ret/akept"


@pytest.mark.parametrize("version", [V311, V5])
def test_retain_flag_set_on_subscribe_cleared_on_live_forward(broker, version):
    sub = broker.raw_connect("live", version=version)
    sub.subscribe(("ret/live", 0), expect=[0])
    pub = broker.raw_connect("p", version=version)
    pub.publish("ret/live", b"v1", retain=True)
    m = sub.expect(raw.PUBLISH)
    assert (m.payload, m.retain) == (b"v1", False)
    late = broker.raw_connect("late", version=version)
    late.subscribe(("ret/live", 0), expect=[0])
    m2 = late.expect(raw.PUBLISH)
    assert (m2.payload, m2.retain) == (b"v1", True)


def test_retained_replaced(broker):
    _retain(broker, "ret/r", b"first")
    _retain(broker, "ret/r", b"second")
    sub = broker.raw_connect("s")
    sub.subscribe(("ret/r", 0), expect=[0])
    got = collect_publishes(sub)
    assert [(m.payload, m.retain) for m in got] == [(b"second", True)]


@pytest.mark.parametrize("version", [V311, V5])
def test_retained_deleted_by_empty_payload(broker, version):
    _retain(broker, "ret/d", b"doomed", version=version)
    watcher = broker.raw_connect("w", version=version)
    watcher.subscribe(("ret/d", 0), expect=[0])
    assert watcher.expect(raw.PUBLISH).payload == b"doomed"
    _retain(broker, "ret/d", b"", version=version)
    # the empty retained message is forwarded as a normal message
    m = watcher.expect(raw.PUBLISH)
    assert (m.topic, m.payload, m.retain) == ("ret/d", b"", False)
    sub = broker.raw_connect("s", version=version)
    sub.subscribe(("ret/d", 0), expect=[0])
    sub.expect_nothing(0.4)


def test_wildcard_subscription_gets_every_matching_retained(broker):
    for t in ("w/a", "w/b/c", "w/b/d", "other/x"):
        _retain(broker, t, t.encode())
    sub = broker.raw_connect("s")
    sub.subscribe(("w/#", 0), expect=[0])
    got = collect_publishes(sub)
    assert sorted((m.topic, m.payload, m.retain) for m in got) == [
        ("w/a", b"w/a", True), ("w/b/c", b"w/b/c", True), ("w/b/d", b"w/b/d", True)]
    sub2 = broker.raw_connect("s2")
    sub2.subscribe(("w/+/c", 0), expect=[0])
    assert [(m.topic, m.retain) for m in collect_publishes(sub2)] == [("w/b/c", True)]


def test_retained_qos_is_minimum_of_stored_and_granted(broker):
    _retain(broker, "ret/q", b"q1", qos=1)
    s0 = broker.raw_connect("s0")
    s0.subscribe(("ret/q", 0), expect=[0])
    m0 = s0.expect(raw.PUBLISH)
    assert (m0.qos, m0.retain) == (0, True)
    s2 = broker.raw_connect("s2")
    s2.subscribe(("ret/q", 2), expect=[2])
    m2 = s2.expect(raw.PUBLISH)
    assert (m2.qos, m2.retain, m2.payload) == (1, True, b"q1")
    s2.send(raw.puback(m2.pid))
    s2.expect_nothing(0.3)


def test_retain_handling_0_sends_on_every_subscribe(broker):
    _retain(broker, "rh/0", b"x")
    c = broker.raw_connect("c")
    c.subscribe(("rh/0", sub_opts(rh=0)), pid=1, expect=[0])
    assert c.expect(raw.PUBLISH).retain
    c.subscribe(("rh/0", sub_opts(rh=0)), pid=2, expect=[0])
    m = c.expect(raw.PUBLISH)
    assert (m.payload, m.retain) == (b"x", True)


def test_retain_handling_1_sends_only_for_new_subscription(broker):
    _retain(broker, "rh/1", b"x")
    c = broker.raw_connect("c")
    c.subscribe(("rh/1", sub_opts(rh=1)), pid=1, expect=[0])
    assert c.expect(raw.PUBLISH).payload == b"x"
    c.subscribe(("rh/1", sub_opts(rh=1)), pid=2, expect=[0])
    c.expect_nothing(0.4)
    # after unsubscribing it is new again
    c.unsubscribe(["rh/1"], pid=3)
    c.subscribe(("rh/1", sub_opts(rh=1)), pid=4, expect=[0])
    assert c.expect(raw.PUBLISH).payload == b"x"


def test_retain_handling_2_never_sends(broker):
    _retain(broker, "rh/2", b"x")
    c = broker.raw_connect("c")
    c.subscribe(("rh/2", sub_opts(rh=2)), expect=[0])
    c.expect_nothing(0.4)
    # live messages still flow
    p = broker.raw_connect("p")
    p.publish("rh/2", b"live")
    m = c.expect(raw.PUBLISH)
    assert (m.payload, m.retain) == (b"live", False)


@pytest.mark.mosquitto_deviation("answers 0x81; the spec calls Retain Handling 3 a Protocol Error")
def test_retain_handling_3_is_protocol_error(broker):
    c = broker.raw_connect("c")
    c.send(raw.subscribe(1, [("rh/3", 0x30)]))
    expect_server_disconnect(c, 0x82, required=STRICT)  # MQTT 5.0 3.8.3.1


def test_retain_as_published(broker):
    rap = broker.raw_connect("rap")
    rap.subscribe(("rap/t", sub_opts(rap=True)), expect=[0])
    plain = broker.raw_connect("plain")
    plain.subscribe(("rap/t", sub_opts(rap=False)), expect=[0])
    p = broker.raw_connect("p")
    p.publish("rap/t", b"r", retain=True)
    p.publish("rap/t", b"n", retain=False)
    assert [(m.payload, m.retain) for m in (rap.expect(raw.PUBLISH), rap.expect(raw.PUBLISH))] == [
        (b"r", True), (b"n", False)]
    assert [(m.payload, m.retain) for m in (plain.expect(raw.PUBLISH), plain.expect(raw.PUBLISH))] == [
        (b"r", False), (b"n", False)]


def test_retain_as_published_still_flags_retained_on_subscribe(broker):
    _retain(broker, "rap/s", b"stored")
    c = broker.raw_connect("c")
    c.subscribe(("rap/s", sub_opts(rap=True)), expect=[0])
    m = c.expect(raw.PUBLISH)
    assert (m.payload, m.retain) == (b"stored", True)


def test_retained_message_keeps_properties(broker):
    props = [("payload_format_indicator", 1), ("content_type", "text/plain"),
             ("user_property", ("a", "1")), ("user_property", ("b", "2"))]
    _retain(broker, "ret/props", b"with props", qos=1, props=props)
    c = broker.raw_connect("c")
    c.subscribe(("ret/props", 1), expect=[1])
    m = c.expect(raw.PUBLISH)
    assert m.retain and m.payload == b"with props"
    assert m.props.get("payload_format_indicator") == 1
    assert m.props.get("content_type") == "text/plain"
    assert m.props.all("user_property") == [("a", "1"), ("b", "2")]


def test_retained_message_expires(broker):
    _retain(broker, "ret/exp", b"short lived", qos=1, props={"message_expiry_interval": 1})
    before_keep = time.monotonic()
    _retain(broker, "ret/keep", b"long lived", qos=1, props={"message_expiry_interval": 60})
    after_keep = time.monotonic()
    time.sleep(2.1)
    c = broker.raw_connect("c")
    before_sub = time.monotonic()
    c.subscribe(("ret/+", 1), expect=[1])
    got = collect_publishes(c)
    after_got = time.monotonic()
    assert [(m.topic, m.payload) for m in got] == [("ret/keep", b"long lived")]
    left = got[0].props.get("message_expiry_interval")
    # the interval left is 60 minus the time it was stored, give or take rounding
    assert left is not None
    assert 60 - (after_got - before_keep) - 1 <= left <= 60 - (before_sub - after_keep) + 1, left


@pytest.mark.broker_config(limits={"retain_available": False})
def test_retain_not_available_publish_disconnects_0x9a(broker):
    c = broker.raw_connect("c")
    assert c.connack.props.get("retain_available") == 0
    c.send(raw.publish("noret", b"x", retain=True))
    expect_server_disconnect(c, 0x9A, required=STRICT)


def test_retained_only_for_matching_filters(broker):
    _retain(broker, "visible/x", b"shown")
    _retain(broker, "visible/y/z", b"deeper")
    c = broker.raw_connect("c")
    c.subscribe(("+/x", 0), expect=[0])
    assert [(m.topic, m.payload) for m in collect_publishes(c)] == [("visible/x", b"shown")]
    c2 = broker.raw_connect("c2")
    c2.subscribe(("visible/y", 0), expect=[0])
    c2.expect_nothing(0.3)
