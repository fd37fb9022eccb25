"""Will messages: when they are sent and when not, will delay interval,
will properties, will retain and QoS."""

import time

import pytest

import raw
from raw import V311, V5


def _watch(broker, topic="will/#", qos=2, version=V5, cid="watcher"):
    w = broker.raw_connect(cid, version=version)
    w.subscribe((topic, qos), expect=[qos])
    return w


def _owner(broker, cid="owner", version=V5, will_props=None, props=None, clean=True,
           will_qos=0, will_retain=False, keepalive=60, payload=b"gone"):
    c = broker.raw(version)
    c.connect(cid, clean=clean, keepalive=keepalive, props=props, will_topic="will/" + cid,
              will_payload=payload, will_qos=will_qos, will_retain=will_retain,
              will_props=will_props)
    return c


def _expect_will(w, cid="owner", payload=b"gone", timeout=5.0):
    m = w.expect(raw.PUBLISH, timeout)
    assert (m.topic, m.payload) == ("will/" + cid, payload), m
    return m


@pytest.mark.parametrize("version", [V311, V5])
def test_will_sent_on_connection_loss(broker, version):
    w = _watch(broker, version=version)
    o = _owner(broker, version=version)
    o.abort()
    m = _expect_will(w)
    assert (m.qos, m.retain) == (0, False)


def test_v311_will_exact_bytes(broker):
    w = broker.raw_connect("w", version=V311)
    w.subscribe(("will/#", 0), expect=[0])
    o = _owner(broker, "o", version=V311, payload=b"bye")
    o.close()
    assert w.recv().raw == b"\x30\x0b\x00\x06will/obye"


def test_v5_will_sent_on_disconnect_0x04(broker):
    w = _watch(broker)
    o = _owner(broker)
    o.disconnect(0x04)
    _expect_will(w)


@pytest.mark.parametrize("version", [V311, V5])
def test_will_not_sent_on_normal_disconnect(broker, version):
    w = _watch(broker, version=version)
    o = _owner(broker, version=version)
    o.disconnect(0x00 if version == V5 else None)
    w.expect_nothing(0.6)


def test_will_sent_after_protocol_error(broker):
    w = _watch(broker)
    o = _owner(broker)
    o.send(b"\x00\x00")  # packet type 0 is reserved: malformed
    o.recv_until_closed()
    _expect_will(w)


@pytest.mark.mosquitto_deviation("checks keep-alive only every few seconds")
def test_will_sent_on_keep_alive_timeout(broker):
    w = _watch(broker)
    t0 = time.monotonic()
    _owner(broker, keepalive=1)
    _expect_will(w, timeout=15.0)
    assert time.monotonic() - t0 >= 1.4  # not before 1.5 times the keep alive


@pytest.mark.parametrize("version", [V311, V5])
def test_will_sent_on_takeover_without_delay(broker, version):
    w = _watch(broker, version=version)
    _owner(broker, version=version)
    new = broker.raw(version)
    assert new.connect("owner").rc == 0
    _expect_will(w)


def test_will_qos_and_retain(broker):
    w = _watch(broker, qos=2)
    o = _owner(broker, will_qos=1, will_retain=True)
    o.abort()
    m = _expect_will(w)
    assert (m.qos, m.retain) == (1, False)
    w.send(raw.puback(m.pid))
    late = broker.raw_connect("late")
    late.subscribe(("will/owner", 2), expect=[2])
    r = late.expect(raw.PUBLISH)
    assert (r.payload, r.qos, r.retain) == (b"gone", 1, True)


def test_will_properties_forwarded(broker):
    will_props = [
        ("payload_format_indicator", 1),
        ("message_expiry_interval", 100),
        ("content_type", "application/json"),
        ("response_topic", "will/reply"),
        ("correlation_data", b"\x00\x01corr"),
        ("user_property", ("z", "last")),
        ("user_property", ("a", "first")),
        ("user_property", ("z", "again")),
    ]
    w = _watch(broker)
    o = _owner(broker, will_props=will_props, payload=b'{"state":"gone"}')
    o.abort()
    m = _expect_will(w, payload=b'{"state":"gone"}')
    assert m.props.get("payload_format_indicator") == 1
    assert 98 <= m.props.get("message_expiry_interval", -1) <= 100
    assert m.props.get("content_type") == "application/json"
    assert m.props.get("response_topic") == "will/reply"
    assert m.props.get("correlation_data") == b"\x00\x01corr"
    assert m.props.all("user_property") == [("z", "last"), ("a", "first"), ("z", "again")]


def test_will_delay_interval(broker):
    w = _watch(broker)
    o = _owner(broker, will_props={"will_delay_interval": 2},
               props={"session_expiry_interval": 30})
    t0 = time.monotonic()
    o.abort()
    _expect_will(w, timeout=15.0)
    elapsed = time.monotonic() - t0
    assert elapsed >= 1.8, "will after %.2fs, delay was 2s" % elapsed


def test_will_delay_cancelled_by_reconnect(broker):
    # A 4 s delay leaves a busy machine time to reconnect before it passes.
    w = _watch(broker)
    o = _owner(broker, will_props={"will_delay_interval": 4},
               props={"session_expiry_interval": 30})
    o.abort()
    time.sleep(0.3)
    again = broker.raw(V5)
    ack = again.connect("owner", clean=False, props={"session_expiry_interval": 30})
    assert ack.session_present
    w.expect_nothing(4.5)


def test_will_sent_when_session_ends_before_delay(broker):
    w = _watch(broker)
    o = _owner(broker, will_props={"will_delay_interval": 30},
               props={"session_expiry_interval": 1})
    t0 = time.monotonic()
    o.abort()
    _expect_will(w, timeout=15.0)
    assert time.monotonic() - t0 >= 0.8  # the session's end (1 s), not the delay (30 s)


def test_will_delay_takeover_of_live_connection_keeps_session_and_no_will(broker):
    w = _watch(broker)
    _owner(broker, will_props={"will_delay_interval": 5},
           props={"session_expiry_interval": 30})
    again = broker.raw(V5)
    assert again.connect("owner", clean=False, props={"session_expiry_interval": 30}).session_present
    w.expect_nothing(1.0)


def test_v5_disconnect_0x04_with_will_delay_waits(broker):
    w = _watch(broker)
    o = _owner(broker, will_props={"will_delay_interval": 1},
               props={"session_expiry_interval": 30})
    t0 = time.monotonic()
    o.disconnect(0x04)
    _expect_will(w, timeout=3.0)
    assert time.monotonic() - t0 >= 0.8
