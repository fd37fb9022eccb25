"""Flow control: receive maximum both ways, maximum packet size both ways,
inflight and queue limits."""

import socket
import threading
import time

import pytest

import raw
from common import STRICT, collect_publishes, expect_server_disconnect
from raw import V311, V5


# --- the client's Receive Maximum --------------------------------------------------------

@pytest.mark.mosquitto_deviation("refills more than one slot per PUBACK and exceeds the client's Receive Maximum")
def test_client_receive_maximum_respected_qos1(broker):
    s = broker.raw_connect("s", props={"receive_maximum": 3})
    s.subscribe(("rm/t", 1), expect=[1])
    p = broker.raw_connect("p")
    for i in range(10):
        p.publish("rm/t", b"%d" % i, qos=1, pid=i + 1)
    first = collect_publishes(s, 0.5)
    assert [m.payload for m in first] == [b"0", b"1", b"2"]
    s.send(raw.puback(first[0].pid))
    nxt = collect_publishes(s, 0.5)
    assert [m.payload for m in nxt] == [b"3"]
    for m in first[1:] + nxt:
        s.send(raw.puback(m.pid))
    rest = []
    deadline = time.monotonic() + 5
    while len(rest) < 6 and time.monotonic() < deadline:
        m = s.expect(raw.PUBLISH)
        rest.append(m)
        s.send(raw.puback(m.pid))
    assert [m.payload for m in rest] == [b"%d" % i for i in range(4, 10)]
    s.expect_nothing(0.3)


@pytest.mark.mosquitto_deviation("exceeds the client's Receive Maximum after PUBCOMP")
def test_client_receive_maximum_counts_qos2_until_pubcomp(broker):
    s = broker.raw_connect("s", props={"receive_maximum": 2})
    s.subscribe(("rm2/t", 2), expect=[2])
    p = broker.raw_connect("p")
    for i in range(5):
        p.publish("rm2/t", b"%d" % i, qos=2, pid=i + 1)
    first = collect_publishes(s, 0.5)
    assert [m.payload for m in first] == [b"0", b"1"]
    s.send(raw.pubrec(first[0].pid))
    assert s.expect(raw.PUBREL).pid == first[0].pid
    s.expect_nothing(0.4)  # still in flight until PUBCOMP
    s.send(raw.pubcomp(first[0].pid))
    m = s.expect(raw.PUBLISH)
    assert m.payload == b"2"
    s.expect_nothing(0.3)


def test_qos0_not_limited_by_receive_maximum(broker):
    s = broker.raw_connect("s", props={"receive_maximum": 1})
    s.subscribe([("rm0/q1", 1), ("rm0/q0", 0)], expect=[1, 0])
    p = broker.raw_connect("p")
    p.publish("rm0/q1", b"a", qos=1, pid=1)
    p.publish("rm0/q1", b"b", qos=1, pid=2)
    held = s.expect(raw.PUBLISH)
    assert held.payload == b"a"
    for i in range(3):
        p.publish("rm0/q0", b"%d" % i)
    got = collect_publishes(s, 0.5)
    assert [(m.topic, m.payload) for m in got] == [("rm0/q0", b"0"), ("rm0/q0", b"1"), ("rm0/q0", b"2")]


@pytest.mark.broker_config(limits={"max_inflight_messages": 2})
@pytest.mark.mosquitto_deviation("refills more than one slot per PUBACK and exceeds max_inflight_messages")
@pytest.mark.parametrize("version", [V311, V5])
def test_broker_max_inflight_messages(broker, version):
    s = broker.raw_connect("s", version=version,
                           props={"receive_maximum": 100} if version == V5 else None)
    s.subscribe(("mi/t", 1), expect=[1])
    p = broker.raw_connect("p")
    for i in range(6):
        p.publish("mi/t", b"%d" % i, qos=1, pid=i + 1)
    first = collect_publishes(s, 0.5)
    assert [m.payload for m in first] == [b"0", b"1"]
    for m in first:
        s.send(raw.puback(m.pid, version=version))
    second = collect_publishes(s, 0.5)
    assert [m.payload for m in second] == [b"2", b"3"]


# --- the broker's Receive Maximum ----------------------------------------------------------

@pytest.mark.strata_only
@pytest.mark.broker_config(limits={"receive_maximum": 2})
def test_client_exceeding_receive_maximum_disconnected_0x93(broker):
    s = broker.raw_connect("s")
    s.subscribe(("rx/t", 2), expect=[2])
    c = broker.raw_connect("c")
    assert c.connack.props.get("receive_maximum") == 2
    c.send(raw.publish("rx/t", b"1", qos=2, pid=1))
    c.send(raw.publish("rx/t", b"2", qos=2, pid=2))
    assert [c.expect(raw.PUBREC).pid, c.expect(raw.PUBREC).pid] == [1, 2]
    c.send(raw.publish("rx/t", b"3", qos=2, pid=3))  # a third unacknowledged QoS 2
    expect_server_disconnect(c, 0x93)


@pytest.mark.broker_config(limits={"receive_maximum": 2})
def test_client_within_receive_maximum_keeps_going(broker):
    c = broker.raw_connect("c")
    for i in range(6):
        c.publish("rxok/t", b"%d" % i, qos=2, pid=i % 2 + 1)
    c.ping()


# --- the client's Maximum Packet Size ------------------------------------------------------

def _size(topic, payload, qos, version=V5):
    return len(raw.publish(topic, payload, qos=qos, pid=1, version=version))


def _payload_for(topic, qos, total, fill=b"a", version=V5):
    """A payload making the whole PUBLISH exactly `total` bytes."""
    n = total - _size(topic, b"", qos, version)
    while n > 0 and _size(topic, fill * n, qos, version) > total:
        n -= 1
    payload = fill * n
    assert _size(topic, payload, qos, version) == total
    return payload


@pytest.mark.mosquitto_deviation("sends a packet one fixed header larger than the client's Maximum Packet Size")
@pytest.mark.parametrize("qos", [0, 1])
def test_broker_drops_packets_larger_than_client_maximum(broker, qos):
    limit = 100
    s = broker.raw_connect("s", props={"maximum_packet_size": limit})
    s.subscribe(("mps/t", qos), expect=[qos])
    p = broker.raw_connect("p")
    fits = _payload_for("mps/t", qos, limit, b"f")
    too_big = _payload_for("mps/t", qos, limit + 1, b"x")
    p.publish("mps/t", too_big, qos=qos, pid=1)
    p.publish("mps/t", fits, qos=qos, pid=2)
    p.publish("mps/t", b"x" * 5000, qos=qos, pid=3)
    p.publish("mps/t", b"small", qos=qos, pid=4)
    got = collect_publishes(s, 0.5)
    assert [m.payload for m in got] == [fits, b"small"]
    assert all(len(m.raw) <= limit for m in got)


@pytest.mark.mosquitto_deviation("counts a dropped oversized message as in flight")
def test_dropped_oversized_qos1_does_not_use_receive_maximum(broker):
    s = broker.raw_connect("s", props={"maximum_packet_size": 64, "receive_maximum": 1})
    s.subscribe(("mpsr/t", 1), expect=[1])
    p = broker.raw_connect("p")
    for i in range(3):
        p.publish("mpsr/t", b"x" * 200, qos=1, pid=i + 1)
    p.publish("mpsr/t", b"ok", qos=1, pid=9)
    m = s.expect(raw.PUBLISH)
    assert m.payload == b"ok"


def test_oversized_retained_not_sent_on_subscribe(broker):
    p = broker.raw_connect("p")
    p.publish("mpsret/big", b"x" * 500, qos=1, retain=True, pid=1)
    p.publish("mpsret/small", b"y", qos=1, retain=True, pid=2)
    s = broker.raw_connect("s", props={"maximum_packet_size": 100})
    s.subscribe(("mpsret/#", 1), expect=[1])
    assert [(m.topic, m.retain) for m in collect_publishes(s, 0.5)] == [("mpsret/small", True)]


# --- the broker's Maximum Packet Size ------------------------------------------------------

SMALL = {"limits": {"max_packet_size": 1000}}


@pytest.mark.broker_config(**SMALL)
def test_packet_at_broker_maximum_accepted(broker):
    s = broker.raw_connect("s")
    s.subscribe(("big/t", 1), expect=[1])
    c = broker.raw_connect("c")
    assert c.connack.props.get("maximum_packet_size") == 1000
    payload = _payload_for("big/t", 1, 1000)
    c.publish("big/t", payload, qos=1)
    assert s.expect(raw.PUBLISH).payload == payload


@pytest.mark.broker_config(**SMALL)
@pytest.mark.parametrize("version", [V311, V5])
@pytest.mark.parametrize("size", [
    pytest.param(1001, marks=pytest.mark.mosquitto_deviation(
        "compares the remaining length, not the whole packet, with max_packet_size")),
    5000])
def test_oversized_incoming_packet_disconnects_0x95(broker, version, size):
    s = broker.raw_connect("s")
    s.subscribe(("big/#", 0), expect=[0])
    c = broker.raw_connect("c", version=version)
    payload = _payload_for("big/t", 1, size, version=version)
    pkt = raw.publish("big/t", payload, qos=1, pid=1, version=version)
    c.send(pkt)
    expect_server_disconnect(c, 0x95, required=STRICT)
    s.expect_nothing(0.3)


@pytest.mark.broker_config(**SMALL)
def test_oversized_declared_length_rejected_before_body(broker):
    # Only the fixed header of a 200 MB PUBLISH: the broker must not wait for it.
    c = broker.raw_connect("c")
    # Waiting for the body would keep the connection open until keep alive
    # (60 s) runs out; the refusal comes from the header alone.
    c.send(b"\x30" + raw.varint(200 * 1024 * 1024))
    expect_server_disconnect(c, 0x95, required=STRICT, timeout=20.0)


# --- queue limits ------------------------------------------------------------------------------

@pytest.mark.broker_config(limits={"max_queued_messages": 5, "max_inflight_messages": 1})
def test_max_queued_messages_per_offline_session(broker):
    props = {"session_expiry_interval": 60}
    s = broker.raw_connect("q", clean=True, props=props)
    s.subscribe(("mq/t", 1), expect=[1])
    s.disconnect()
    p = broker.raw_connect("p")
    for i in range(20):
        p.publish("mq/t", b"%d" % i, qos=1, pid=i + 1)
    again = broker.raw_connect("q", clean=False, props=props)
    got = [m.payload for m in collect_publishes(again, ack=True)]
    # the first messages are kept, later ones dropped; 5 queued (+1 in flight at most)
    assert 5 <= len(got) <= 6, got
    assert got == [b"%d" % i for i in range(len(got))]


def test_acks_in_any_order(broker):
    s = broker.raw_connect("s", props={"receive_maximum": 5})
    s.subscribe(("ooo/t", 1), expect=[1])
    p = broker.raw_connect("p")
    for i in range(10):
        p.publish("ooo/t", b"%d" % i, qos=1, pid=i + 1)
    first = collect_publishes(s, 0.5)
    assert [m.payload for m in first] == [b"0", b"1", b"2", b"3", b"4"]
    for m in reversed(first):
        s.send(raw.puback(m.pid))
    second = collect_publishes(s, 0.5)
    assert [m.payload for m in second] == [b"5", b"6", b"7", b"8", b"9"]
    assert len({m.pid for m in first + second}) >= 5


@pytest.mark.mosquitto_deviation("refills more than one slot per PUBACK and exceeds the client's Receive Maximum")
def test_queued_messages_respect_receive_maximum_of_new_connection(broker):
    props = {"session_expiry_interval": 60}
    s = broker.raw_connect("q", clean=True, props=dict(props, receive_maximum=50))
    s.subscribe(("rq/t", 1), expect=[1])
    s.disconnect()
    p = broker.raw_connect("p")
    for i in range(8):
        p.publish("rq/t", b"%d" % i, qos=1, pid=i + 1)
    again = broker.raw_connect("q", clean=False, props=dict(props, receive_maximum=2))
    first = collect_publishes(again, 0.5)
    assert [m.payload for m in first] == [b"0", b"1"]
    again.send(raw.puback(first[0].pid))
    assert [m.payload for m in collect_publishes(again, 0.5)] == [b"2"]


# --- slow consumers and many clients ---------------------------------------------------------------

@pytest.mark.strata_only  # reads $SYS/broker/messages/dropped
@pytest.mark.broker_config(sys={"interval": 1})
def test_slow_consumer_does_not_stall_others(broker):
    """A subscriber that reads nothing costs the others nothing: the publisher
    is still read and served, a subscriber that keeps reading gets every
    message in order, and the stuck one loses QoS 0 messages once its
    outgoing buffer is full (max_outgoing_bytes) — exactly as many as the
    broker counts as dropped, the rest arriving in order when it reads again.

    The reading subscriber reads on its own thread and the publisher sends a
    batch only once that subscriber is at most two batches behind, so its
    backlog stays far under max_outgoing_bytes however slow this machine is:
    what is asserted does not depend on speed."""
    monitor = broker.raw_connect("monitor")
    monitor.subscribe(("$SYS/broker/messages/dropped", 0), expect=[0])
    # The stuck subscriber's receive buffer is fixed before it connects, so
    # the kernel cannot autotune it to absorb the flood (tcp_rmem may allow
    # 32 MB), yet stays larger than the loopback MSS, so that reading later
    # reopens the window at once instead of through the sender's backed-off
    # zero-window probes.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 256 << 10)
    sock.settimeout(30.0)
    sock.connect((broker.host, broker.port))
    slow = raw.RawClient.over(sock)
    broker.clients.append(slow)
    slow.connack = slow.connect("slow", keepalive=0)  # it sends nothing for a while
    slow.subscribe(("flood/t", 0), expect=[0])
    fast = broker.raw_connect("fast")
    fast.subscribe(("flood/t", 0), expect=[0])
    pub = broker.raw(timeout=30.0)
    pub.connack = pub.connect("pub")

    # 4 KB each, 16 MB: more than the stuck subscriber's socket buffers (the
    # broker's send buffer at most net.ipv4.tcp_wmem's 4 MB, its receive
    # buffer 512 KB) and max_outgoing_bytes (4 MiB) hold together.
    n, per_batch = 4000, 100
    pad = b"f" * 3994

    def payload(i):
        return b"%06d" % i + pad

    received = []          # sequence numbers the reading subscriber got, in order
    progress = threading.Condition()
    failure = []

    def read_fast():
        try:
            while len(received) < n:
                m = fast.recv(60.0)
                assert m.type == raw.PUBLISH and m.payload[6:] == pad, m
                with progress:
                    received.append(int(m.payload[:6]))
                    progress.notify()
        except BaseException as e:  # reported by the main thread
            failure.append(e)
            with progress:
                progress.notify()

    reader = threading.Thread(target=read_fast, daemon=True)
    reader.start()
    for b in range(n // per_batch):
        with progress:
            ok = progress.wait_for(lambda: failure or len(received) >= (b - 2) * per_batch, timeout=60)
        assert ok and not failure, (failure, len(received))
        # sendall times out (30 s) if the broker stops reading the publisher
        pub.send(b"".join(raw.publish("flood/t", payload(i)) for i in range(b * per_batch, (b + 1) * per_batch)))
    pub.ping(timeout=30.0)  # the publisher is still served
    reader.join(120)
    assert not reader.is_alive() and not failure, (failure, len(received))
    assert received == list(range(n))  # every message, in order, none dropped

    # Now the stuck subscriber reads: what it gets plus what was dropped is
    # everything. Its PINGRESP comes after every delivery queued before it.
    slow.send(raw.pingreq())
    late = []
    while True:
        m = slow.recv(30.0)
        if m.type == raw.PINGRESP:
            break
        assert m.type == raw.PUBLISH and m.payload[6:] == pad, m
        late.append(int(m.payload[:6]))
    assert late == sorted(late) and len(set(late)) == len(late)
    # The broker's count, from a $SYS update made after the PINGRESP: the
    # second update to arrive from now on (the first may predate it).
    updates = []
    deadline = time.monotonic() + 30
    while len(updates) < 2 and time.monotonic() < deadline:
        try:
            m = monitor.recv(max(0.0, deadline - time.monotonic()))
        except raw.Timeout:
            break
        if not m.retain:
            updates.append(int(m.payload))
    assert len(updates) == 2, updates
    dropped = updates[-1]
    assert dropped > 0, "12 MB to a subscriber that reads nothing must overflow max_outgoing_bytes"
    assert len(late) + dropped == n, (len(late), dropped)
    other = broker.raw_connect("other")
    other.ping()


def test_many_concurrent_clients(broker):
    clients = []
    for i in range(200):
        c = broker.raw_connect("many-%d" % i, version=V5 if i % 2 else V311)
        c.send(raw.subscribe(1, [("crowd/t", 1)], version=c.version))
        clients.append(c)
    for c in clients:
        assert c.expect(raw.SUBACK).rcs == [1]
    pub = broker.raw_connect("crowd-pub")
    pub.publish("crowd/t", b"to everyone", qos=1)
    for c in clients:
        m = c.expect(raw.PUBLISH)
        assert (m.topic, m.payload, m.qos) == ("crowd/t", b"to everyone", 1)
        c.send(raw.puback(m.pid, version=c.version))
