"""Malformed, truncated and random input on the raw socket: the offending
connection is closed with the right reason code (v5) or just closed (3.1.1),
and a client connected alongside keeps receiving publishes."""

import random
import struct
import time

import pytest

import raw
from common import STRICT, check_alive, write_through_close
from raw import V311, V5


class Bystander:
    """A subscriber connected before the bad input; it must keep working."""

    def __init__(self, broker):
        self.broker = broker
        self.sub = broker.raw_connect("bystander")
        self.sub.subscribe(("bystander/t", 1), expect=[1])
        self.n = 0

    def check(self):
        self.n += 1
        pub = self.broker.raw_connect("bystander-pub-%d" % self.n)
        payload = b"ok %d" % self.n
        pub.publish("bystander/t", payload, qos=1)
        m = self.sub.expect(raw.PUBLISH)
        assert (m.topic, m.payload) == ("bystander/t", payload)
        self.sub.send(raw.puback(m.pid))
        pub.disconnect()


@pytest.fixture
def bystander(broker):
    return Bystander(broker)


def _expect_closed_with(c, rcs, required=STRICT):
    """v5: DISCONNECT with a reason in rcs (required when STRICT) then close.
    3.1.1: close with nothing sent."""
    got = c.recv_until_closed(5.0)
    if c.version == V311:
        assert got == [], "3.1.1 client got %r before close" % (got,)
        return
    discs = [p for p in got if p.type == raw.DISCONNECT]
    assert len(discs) == len(got), "non-DISCONNECT packets before close: %r" % (got,)
    if required:
        assert len(discs) == 1, "expected one DISCONNECT in %s, got %r" % (
            ["0x%02x" % r for r in rcs], got)
    if discs:
        assert discs[0].rc in rcs, "DISCONNECT 0x%02x, expected %s" % (
            discs[0].rc, ["0x%02x" % r for r in rcs])


def _prop(name, value):
    return raw.encode_props([(name, value)])[1:]  # without the length


def _publish_raw(topic_bytes, body_after_topic, flags=0x0):
    body = struct.pack("!H", len(topic_bytes)) + topic_bytes + body_after_topic
    return raw.fixed(raw.PUBLISH, flags, body)


# name -> (bytes for v5, accepted v5 reasons)
V5_CASES = {
    "remaining_length_5_bytes": (b"\x30\xff\xff\xff\xff\x7f", [0x81]),
    "publish_qos_3": (b"\x36\x07\x00\x03a/b\x00\x01\x00", [0x81]),
    "publish_wildcard_plus": (raw.publish("a/+", b"x"), [0x90]),
    "publish_wildcard_hash": (raw.publish("a/#", b"x"), [0x90]),
    "publish_invalid_utf8_topic": (_publish_raw(b"a/\xc3\x28", b"\x00x"), [0x81]),
    "publish_surrogate_topic": (_publish_raw(b"a/\xed\xa0\x80", b"\x00x"), [0x81]),
    "publish_nul_in_topic": (_publish_raw(b"a/\x00/b", b"\x00x"), [0x81]),
    "publish_topic_longer_than_packet": (b"\x30\x05\x00\x10abc", [0x81]),
    "publish_property_length_too_long": (_publish_raw(b"a/b", b"\x09\x01\x01"), [0x81]),
    "publish_unknown_property": (_publish_raw(b"a/b", b"\x02\x7f\x00x"), [0x81]),
    "publish_connect_only_property": (_publish_raw(b"a/b", b"\x05" + _prop("session_expiry_interval", 1)), [0x81, 0x82]),
    "publish_duplicate_property": (
        _publish_raw(b"a/b", b"\x04" + _prop("payload_format_indicator", 1) * 2 + b"x"), [0x82]),
    "publish_qos1_packet_id_0": (raw.publish("a/b", b"x", qos=1, pid=0), [0x81, 0x82]),
    "publish_qos0_dup": (raw.publish("a/b", b"x", qos=0, dup=True), [0x81, 0x82]),
    "subscribe_flags_0": (raw.subscribe(1, [("a/b", 0)], flags=0x0), [0x81]),
    "subscribe_flags_3": (raw.subscribe(1, [("a/b", 0)], flags=0x3), [0x81]),
    "subscribe_no_filters": (raw.subscribe(1, []), [0x82]),
    "subscribe_options_reserved_bits": (raw.subscribe(1, [("a/b", 0xC0)]), [0x81]),
    "subscribe_options_qos_3": (raw.subscribe(1, [("a/b", 0x03)]), [0x82]),  # 3.8.3.1: Protocol Error
    "subscribe_nul_in_filter": (raw.subscribe(1, [("a/\u0000", 0)]), [0x81]),
    "subscribe_packet_id_0": (raw.subscribe(0, [("a/b", 0)]), [0x81, 0x82]),
    "unsubscribe_flags_0": (raw.unsubscribe(1, ["a/b"], flags=0x0), [0x81]),
    "unsubscribe_no_filters": (raw.unsubscribe(1, []), [0x82]),
    "pubrel_flags_0": (raw.pubrel(1, flags=0x0), [0x81]),
    "puback_flags_1": (b"\x41\x02\x00\x01", [0x81]),
    "pingreq_with_body": (b"\xc1\x00", [0x81]),
    "pingreq_remaining_length_1": (b"\xc0\x01\x00", [0x81]),
    "disconnect_flags_1": (b"\xe1\x00", [0x81]),
    "reserved_type_0": (b"\x00\x00", [0x81, 0x82]),
    "connack_from_client": (b"\x20\x03\x00\x00\x00", [0x81, 0x82]),
    "suback_from_client": (b"\x90\x04\x00\x01\x00\x00", [0x81, 0x82]),
}

MOSQ_LENIENT = {
    # what Mosquitto 2.0.11 lets through; Strata must not
    "publish_wildcard_plus", "publish_wildcard_hash", "publish_connect_only_property",
    "publish_duplicate_property", "publish_qos0_dup", "subscribe_options_reserved_bits",
    "connack_from_client", "suback_from_client", "puback_flags_1", "disconnect_flags_1",
    "publish_surrogate_topic", "pingreq_with_body", "pingreq_remaining_length_1",
}
MOSQ_OTHER_REASON = {"subscribe_no_filters", "unsubscribe_no_filters",
                     "subscribe_options_qos_3"}  # 0x81, the spec says 0x82


def _v5_params():
    out = []
    for name in V5_CASES:
        marks = []
        if name in MOSQ_LENIENT:
            marks.append(pytest.mark.mosquitto_deviation("does not reject %s" % name))
        elif name in MOSQ_OTHER_REASON:
            marks.append(pytest.mark.mosquitto_deviation("answers %s with 0x81" % name))
        out.append(pytest.param(name, marks=marks, id=name))
    return out


@pytest.mark.parametrize("case", _v5_params())
def test_v5_malformed_packet_closes_with_reason(broker, bystander, case):
    data, rcs = V5_CASES[case]
    c = broker.raw_connect("bad")
    c.send(data)
    _expect_closed_with(c, rcs)
    bystander.check()


@pytest.mark.strata_only
@pytest.mark.parametrize("version", [V311, V5])
def test_malformed_packet_close_reaches_a_client_still_sending(broker, version):
    """The client goes on publishing behind the malformed packet: it reads
    DISCONNECT 0x81 (v5) and an orderly close, not a reset."""
    c = broker.raw_connect("bad-sender", version=version)
    more = raw.publish("mal/t", b"x" * 100, version=version)
    write_through_close(c, 0x81, chunk=more, first=b"\x30\xff\xff\xff\xff\x7f" + more * 80)


V311_CASES = {
    "remaining_length_5_bytes": b"\x30\xff\xff\xff\xff\x7f",
    "publish_qos_3": b"\x36\x05\x00\x03a/bx",
    "publish_wildcard": raw.publish("a/+", b"x", version=V311),
    "publish_invalid_utf8_topic": _publish_raw(b"a/\xc3\x28", b"x"),
    "publish_nul_in_topic": _publish_raw(b"a/\x00/b", b"x"),
    "subscribe_flags_0": raw.subscribe(1, [("a/b", 0)], flags=0x0, version=V311),
    "subscribe_no_filters": raw.subscribe(1, [], version=V311),
    "subscribe_options_reserved_bits": raw.subscribe(1, [("a/b", 0x04)], version=V311),
    "unsubscribe_flags_0": raw.unsubscribe(1, ["a/b"], flags=0x0, version=V311),
    "pubrel_flags_0": raw.pubrel(1, flags=0x0, version=V311),
    "pingreq_with_body": b"\xc1\x00",
    "reserved_type_0": b"\x00\x00",
    "auth_in_v311": b"\xf0\x00",
}
V311_MOSQ_LENIENT = {"publish_wildcard", "subscribe_options_reserved_bits", "pingreq_with_body"}


@pytest.mark.parametrize("case", [
    pytest.param(n, id=n, marks=[pytest.mark.mosquitto_deviation("does not reject %s" % n)]
                 if n in V311_MOSQ_LENIENT else []) for n in V311_CASES])
def test_v311_malformed_packet_closes(broker, bystander, case):
    c = broker.raw_connect("bad3", version=V311)
    c.send(V311_CASES[case])
    _expect_closed_with(c, [])
    bystander.check()


@pytest.mark.parametrize("version", [V311, V5])
@pytest.mark.parametrize("first", [
    raw.publish("a/b", b"x"), raw.subscribe(1, [("a/b", 0)], version=V311), raw.pingreq(),
    b"\xe0\x00",
], ids=["publish", "subscribe", "pingreq", "disconnect"])
def test_packet_before_connect_closes(broker, bystander, version, first):
    c = broker.raw(version)
    c.send(first)
    assert c.recv_until_closed(5.0) == []
    bystander.check()


def test_connect_with_trailing_bytes_is_malformed(broker, bystander):
    c = broker.raw(V5)
    c.send(raw.connect("trail", extra=b"\x00\x01z"))
    got = c.recv_until_closed(5.0)
    assert all(p.type == raw.CONNACK and p.rc == 0x81 for p in got), got
    if STRICT:
        assert len(got) == 1
    bystander.check()


@pytest.mark.parametrize("version", [V311, V5])
@pytest.mark.parametrize("packet", ["connect", "publish", "subscribe"])
def test_truncated_packet_then_close(broker, bystander, version, packet):
    if packet == "connect":
        c = broker.raw(version)
        data = raw.connect("trunc", version=version, will_topic="will/trunc", will_payload=b"w")
    else:
        c = broker.raw_connect("trunc", version=version)
        data = (raw.publish("trunc/t", b"x" * 100, qos=1, pid=1, version=version) if packet == "publish"
                else raw.subscribe(1, [("trunc/#", 1)], version=version))
    c.send(data[:len(data) // 2])
    time.sleep(0.1)
    c.abort()
    bystander.check()
    check_alive(broker, version)


def test_truncated_publish_is_never_delivered(broker, bystander):
    s = broker.raw_connect("s")
    s.subscribe(("half/t", 0), expect=[0])
    c = broker.raw_connect("c")
    data = raw.publish("half/t", b"y" * 50)
    c.send(data[:-10])
    c.expect_nothing(0.3)
    c.abort()
    s.expect_nothing(0.3)
    bystander.check()


def test_packet_split_into_single_bytes_is_fine(broker):
    s = broker.raw_connect("s")
    s.subscribe(("split/t", 1), expect=[1])
    c = broker.raw(V5)
    for b in raw.connect("split"):
        c.send(bytes([b]))
    assert c.expect(raw.CONNACK).rc == 0
    for b in raw.publish("split/t", b"byte by byte", qos=1, pid=3):
        c.send(bytes([b]))
        time.sleep(0.001)
    assert c.expect(raw.PUBACK).pid == 3
    assert s.expect(raw.PUBLISH).payload == b"byte by byte"


def test_many_packets_in_one_write(broker):
    s = broker.raw_connect("s")
    s.subscribe(("batch/t", 0), expect=[0])
    c = broker.raw_connect("c")
    c.send(b"".join(raw.publish("batch/t", b"%d" % i) for i in range(200)) + raw.pingreq())
    c.expect(raw.PINGRESP)
    got = [s.expect(raw.PUBLISH).payload for _ in range(200)]
    assert got == [b"%d" % i for i in range(200)]


def test_random_bytes_after_connect(broker, bystander):
    rng = random.Random(20240611)
    for i in range(40):
        version = V5 if i % 2 else V311
        c = broker.raw_connect("rnd%d" % i, version=version)
        n = rng.randint(1, 300)
        c.send(bytes(rng.getrandbits(8) for _ in range(n)))
        try:
            c.recv_until_closed(0.15)
        except AssertionError:
            pass  # the garbage may look like the start of a long packet
        c.abort()
    bystander.check()
    check_alive(broker, V5)
    check_alive(broker, V311)


def test_random_bytes_instead_of_connect(broker, bystander):
    rng = random.Random(7)
    for i in range(40):
        c = broker.raw(V5)
        first = rng.choice([b for b in range(256) if b >> 4 != raw.CONNECT])
        data = bytes([first]) + bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 200)))
        c.send(data)
        # the first packet is not a CONNECT: the broker closes without answering
        got = c.recv_until_closed(3.0)
        assert got == [], (data[:8], got)
    bystander.check()


def test_random_connect_bodies(broker, bystander):
    rng = random.Random(99)
    for i in range(40):
        c = broker.raw(V5)
        body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 60)))
        c.send(raw.fixed(raw.CONNECT, 0, body))
        got = c.recv_until_closed(3.0)
        assert all(p.type == raw.CONNACK and p.rc != 0 for p in got), got
    bystander.check()


def test_flood_of_bad_connections_does_not_affect_others(broker, bystander):
    conns = []
    for i in range(30):
        c = broker.raw_connect("flood%d" % i)
        c.send(b"\x30\xff\xff\xff\xff\x7f")
        conns.append(c)
    for c in conns:
        _expect_closed_with(c, [0x81])
    bystander.check()
