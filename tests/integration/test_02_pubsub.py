"""Publish/subscribe: QoS 0/1/2 flows byte by byte in both directions, QoS
downgrade, ordering, redelivery with DUP, offline queues, clean start,
session expiry."""

import time

import pytest

import raw
from common import STRICT, expect_server_disconnect
from raw import V311, V5


def _sub(broker, cid, topic, qos, version=V5, **kw):
    c = broker.raw_connect(cid, version=version, **kw)
    c.subscribe((topic, qos), expect=[qos])
    return c


# --- exact bytes ------------------------------------------------------------------

def test_v311_qos0_exact_bytes(broker):
    sub = broker.raw_connect("s", version=V311)
    sub.send(raw.subscribe(1, [("a/b", 0)], version=V311))
    assert sub.recv().raw == b"\x90\x03\x00\x01\x00"
    pub = broker.raw_connect("p", version=V311)
    pub.send(b"\x30\x07\x00\x03a/bhi")
    assert sub.recv().raw == b"\x30\x07\x00\x03a/bhi"


def test_v5_qos0_exact_bytes(broker):
    sub = broker.raw_connect("s")
    sub.send(raw.subscribe(1, [("a/b", 0)]))
    assert sub.recv().raw == b"\x90\x04\x00\x01\x00\x00"
    pub = broker.raw_connect("p")
    pub.send(b"\x30\x08\x00\x03a/b\x00hi")
    assert sub.recv().raw == b"\x30\x08\x00\x03a/b\x00hi"


def test_v311_qos1_flow_exact_bytes(broker):
    sub = _sub(broker, "s", "q/1", 1, V311)
    pub = broker.raw_connect("p", version=V311)
    pub.send(b"\x32\x0a\x00\x03q/1\x00\x0apay")
    assert pub.recv().raw == b"\x40\x02\x00\x0a"
    m = sub.expect(raw.PUBLISH)
    assert (m.topic, m.qos, m.dup, m.retain, m.payload) == ("q/1", 1, False, False, b"pay")
    assert m.pid != 0
    assert m.raw == b"\x32\x0a\x00\x03q/1" + m.pid.to_bytes(2, "big") + b"pay"
    sub.send(raw.puback(m.pid, version=V311))
    sub.expect_nothing(0.3)


def test_v5_qos1_flow(broker):
    sub = _sub(broker, "s", "q/1", 1)
    pub = broker.raw_connect("p")
    ack = pub.publish("q/1", b"pay", qos=1, pid=10)
    assert (ack.pid, ack.rc) == (10, 0)
    m = sub.expect(raw.PUBLISH)
    assert (m.topic, m.qos, m.dup, m.payload, len(m.props)) == ("q/1", 1, False, b"pay", 0)
    sub.send(raw.puback(m.pid))
    sub.expect_nothing(0.3)


def test_v311_qos2_flow_exact_bytes(broker):
    sub = _sub(broker, "s", "q/2", 2, V311)
    pub = broker.raw_connect("p", version=V311)
    pub.send(b"\x34\x0a\x00\x03q/2\x00\x07two")
    assert pub.recv().raw == b"\x50\x02\x00\x07"
    pub.send(b"\x62\x02\x00\x07")
    assert pub.recv().raw == b"\x70\x02\x00\x07"
    m = sub.expect(raw.PUBLISH)
    assert (m.topic, m.qos, m.payload) == ("q/2", 2, b"two")
    sub.send(raw.pubrec(m.pid, version=V311))
    assert sub.recv().raw == b"\x62\x02" + m.pid.to_bytes(2, "big")
    sub.send(raw.pubcomp(m.pid, version=V311))
    sub.expect_nothing(0.3)


def test_v5_qos2_flow(broker):
    sub = _sub(broker, "s", "q/2", 2)
    pub = broker.raw_connect("p")
    pub.send(raw.publish("q/2", b"two", qos=2, pid=7))
    rec = pub.expect(raw.PUBREC)
    assert (rec.pid, rec.rc) == (7, 0)
    pub.send(raw.pubrel(7))
    comp = pub.expect(raw.PUBCOMP)
    assert (comp.pid, comp.rc) == (7, 0)
    m = sub.expect(raw.PUBLISH)
    assert (m.topic, m.qos, m.payload) == ("q/2", 2, b"two")
    sub.send(raw.pubrec(m.pid))
    rel = sub.expect(raw.PUBREL)
    assert (rel.pid, rel.rc, rel.flags) == (m.pid, 0, 0x02)
    sub.send(raw.pubcomp(m.pid))
    sub.expect_nothing(0.3)


@pytest.mark.parametrize("version", [V311, V5])
def test_qos2_duplicate_publish_delivered_once(broker, version):
    sub = _sub(broker, "s", "once", 2, version)
    pub = broker.raw_connect("p", version=version)
    pub.send(raw.publish("once", b"1", qos=2, pid=5, version=version))
    assert pub.expect(raw.PUBREC).pid == 5
    # the publisher did not see PUBREC in time and sends the PUBLISH again
    pub.send(raw.publish("once", b"1", qos=2, pid=5, dup=True, version=version))
    assert pub.expect(raw.PUBREC).pid == 5
    pub.send(raw.pubrel(5, version=version))
    assert pub.expect(raw.PUBCOMP).pid == 5
    m = sub.expect(raw.PUBLISH)
    assert m.payload == b"1"
    sub.send(raw.pubrec(m.pid, version=version))
    sub.expect(raw.PUBREL)
    sub.send(raw.pubcomp(m.pid, version=version))
    sub.expect_nothing(0.4)
    # after PUBCOMP the packet id is free: the same id is a new message
    pub.publish("once", b"2", qos=2, pid=5)
    m2 = sub.expect(raw.PUBLISH)
    assert m2.payload == b"2" and not m2.dup


@pytest.mark.mosquitto_deviation("answers PUBCOMP 0x00 for an unknown packet id")
def test_v5_pubrel_for_unknown_id_gets_pubcomp_0x92(broker):
    c = broker.raw_connect("c")
    c.send(raw.pubrel(99))
    comp = c.expect(raw.PUBCOMP)
    assert (comp.pid, comp.rc) == (99, 0x92)


def test_v311_pubrel_for_unknown_id_gets_pubcomp(broker):
    c = broker.raw_connect("c", version=V311)
    c.send(raw.pubrel(99, version=V311))
    assert c.recv().raw == b"\x70\x02\x00\x63"


@pytest.mark.parametrize("version", [V311, V5])
def test_puback_for_unknown_id_is_ignored(broker, version):
    c = broker.raw_connect("c", version=version)
    c.send(raw.puback(1234, version=version))
    c.send(raw.pubcomp(1235, version=version))
    c.ping()


# --- QoS downgrade ------------------------------------------------------------------

@pytest.mark.parametrize("version", [V311, V5])
def test_qos_is_minimum_of_publish_and_subscription(broker, version):
    subs = {q: _sub(broker, "s%d" % q, "down/q", q, version) for q in (0, 1, 2)}
    pub = broker.raw_connect("p", version=version)
    pid = 1
    for pub_qos in (0, 1, 2):
        pub.publish("down/q", b"pub%d" % pub_qos, qos=pub_qos, pid=pid)
        pid += 1
        for sub_qos, sub in subs.items():
            m = sub.expect(raw.PUBLISH)
            assert m.payload == b"pub%d" % pub_qos
            assert m.qos == min(pub_qos, sub_qos), (pub_qos, sub_qos, m)
            if m.qos == 1:
                sub.send(raw.puback(m.pid, version=version))
            elif m.qos == 2:
                sub.send(raw.pubrec(m.pid, version=version))
                sub.expect(raw.PUBREL)
                sub.send(raw.pubcomp(m.pid, version=version))


@pytest.mark.broker_config(limits={"maximum_qos": 1})
def test_maximum_qos_grants_at_most_configured(broker):
    c = broker.raw_connect("c")
    assert c.connack.props.get("maximum_qos") == 1
    c.subscribe([("mq/2", 2), ("mq/1", 1), ("mq/0", 0)], expect=[1, 1, 0])
    v3 = broker.raw_connect("c3", version=V311)
    v3.subscribe(("mq/2", 2), expect=[1])
    pub = broker.raw_connect("p")
    pub.publish("mq/2", b"x", qos=1)
    m = c.expect(raw.PUBLISH)
    assert m.qos == 1


@pytest.mark.broker_config(limits={"maximum_qos": 1})
def test_v5_publish_above_maximum_qos_disconnects_0x9b(broker):
    c = broker.raw_connect("c")
    c.send(raw.publish("mq/x", b"x", qos=2, pid=1))
    expect_server_disconnect(c, 0x9B, required=STRICT)


# --- ordering -------------------------------------------------------------------------

@pytest.mark.parametrize("qos", [0, 1, 2])
def test_order_of_1000_messages(broker, paho, qos):
    sub = _sub(broker, "order-sub", "order/t", qos)
    pub = paho("order-pub")
    pub.connect()
    infos = [pub.publish("order/t", b"%d" % i, qos=qos, wait=False) for i in range(1000)]
    got = []
    deadline = time.monotonic() + 30
    while len(got) < 1000:
        m = sub.recv(max(0.01, deadline - time.monotonic()))
        if m.type != raw.PUBLISH:
            if m.type == raw.PUBREL:
                sub.send(raw.pubcomp(m.pid))
                continue
            raise AssertionError("unexpected %r" % (m,))
        assert m.qos == qos and not m.dup
        got.append(m.payload)
        if qos == 1:
            sub.send(raw.puback(m.pid))
        elif qos == 2:
            sub.send(raw.pubrec(m.pid))
    assert got == [b"%d" % i for i in range(1000)]
    for info in infos[-5:]:
        info.wait_for_publish(5)
        assert info.is_published()


# --- redelivery on reconnect -------------------------------------------------------------

PERSIST = {"session_expiry_interval": 60}


def _connect_persistent(broker, cid, version, clean=False, first=False):
    """A session that outlives the connection. first=True starts a new one
    (v5: Clean Start with an expiry; 3.1.1: clean session 0 on a fresh broker)."""
    if first:
        clean = version == V5
    c = broker.raw(version)
    ack = c.connect(cid, clean=clean, props=PERSIST if version == V5 else None)
    if first:
        assert not ack.session_present
    return c, ack


@pytest.mark.parametrize("version", [V311, V5])
def test_unacked_qos1_qos2_redelivered_with_dup(broker, version):
    sub, _ = _connect_persistent(broker, "redeliver", version, first=True)
    sub.subscribe([("re/1", 1), ("re/2", 2)], expect=[1, 2])
    pub = broker.raw_connect("p", version=version)
    pub.publish("re/1", b"one", qos=1, pid=1)
    pub.publish("re/2", b"two", qos=2, pid=2)
    first = [sub.expect(raw.PUBLISH), sub.expect(raw.PUBLISH)]
    assert [(m.topic, m.qos, m.dup) for m in first] == [("re/1", 1, False), ("re/2", 2, False)]
    sub.abort()  # no acks

    again, ack = _connect_persistent(broker, "redeliver", version)
    assert ack.session_present
    second = [again.expect(raw.PUBLISH), again.expect(raw.PUBLISH)]
    assert [(m.topic, m.qos, m.dup, m.payload, m.pid) for m in second] == [
        ("re/1", 1, True, b"one", first[0].pid), ("re/2", 2, True, b"two", first[1].pid)]
    again.send(raw.puback(second[0].pid, version=version))
    again.send(raw.pubrec(second[1].pid, version=version))
    assert again.expect(raw.PUBREL).pid == second[1].pid
    again.send(raw.pubcomp(second[1].pid, version=version))
    again.expect_nothing(0.3)
    again.disconnect()

    third, ack = _connect_persistent(broker, "redeliver", version)
    assert ack.session_present
    third.expect_nothing(0.4)


@pytest.mark.parametrize("version", [V311, V5])
def test_pubrel_resent_after_reconnect(broker, version):
    sub, _ = _connect_persistent(broker, "rel", version, first=True)
    sub.subscribe(("rel/t", 2), expect=[2])
    pub = broker.raw_connect("p", version=version)
    pub.publish("rel/t", b"x", qos=2, pid=3)
    m = sub.expect(raw.PUBLISH)
    sub.send(raw.pubrec(m.pid, version=version))
    assert sub.expect(raw.PUBREL).pid == m.pid
    sub.abort()  # no PUBCOMP

    again, ack = _connect_persistent(broker, "rel", version)
    assert ack.session_present
    rel = again.expect(raw.PUBREL)
    assert rel.pid == m.pid and rel.flags == 0x02
    again.send(raw.pubcomp(m.pid, version=version))
    again.expect_nothing(0.4)  # the message itself is not sent again


@pytest.mark.parametrize("version", [V311, V5])
def test_incoming_qos2_completed_after_publisher_reconnects(broker, version):
    sub = _sub(broker, "s", "in2/t", 2, version)
    pub, _ = _connect_persistent(broker, "pub2", version, first=True)
    pub.send(raw.publish("in2/t", b"once", qos=2, pid=9, version=version))
    assert pub.expect(raw.PUBREC).pid == 9
    pub.abort()
    pub2, ack = _connect_persistent(broker, "pub2", version)
    assert ack.session_present
    pub2.send(raw.pubrel(9, version=version))
    comp = pub2.expect(raw.PUBCOMP)
    assert (comp.pid, comp.rc) == (9, 0)
    m = sub.expect(raw.PUBLISH)
    assert m.payload == b"once"
    sub.send(raw.pubrec(m.pid, version=version))
    sub.expect(raw.PUBREL)
    sub.send(raw.pubcomp(m.pid, version=version))
    sub.expect_nothing(0.3)


# --- offline queueing, clean start, expiry -------------------------------------------------

@pytest.mark.parametrize("version", [V311, V5])
def test_offline_messages_queued_for_persistent_session(broker, version):
    sub, _ = _connect_persistent(broker, "offline", version, first=True)
    sub.subscribe([("off/#", 2)], expect=[2])
    sub.disconnect()
    pub = broker.raw_connect("p", version=version)
    for i in range(5):
        pub.publish("off/t", b"q1-%d" % i, qos=1, pid=10 + i)
    pub.publish("off/t", b"qos0", qos=0)
    pub.publish("off/t", b"q2", qos=2, pid=20)

    again, ack = _connect_persistent(broker, "offline", version)
    assert ack.session_present
    got = []
    for _ in range(6):
        m = again.expect(raw.PUBLISH)
        got.append((m.payload, m.qos))
        if m.qos == 1:
            again.send(raw.puback(m.pid, version=version))
        else:
            again.send(raw.pubrec(m.pid, version=version))
            again.expect(raw.PUBREL)
            again.send(raw.pubcomp(m.pid, version=version))
    assert got == [(b"q1-%d" % i, 1) for i in range(5)] + [(b"q2", 2)]
    again.expect_nothing(0.4)  # QoS 0 is not queued for offline sessions by default


@pytest.mark.broker_config(limits={"queue_qos0_offline": True})
def test_offline_qos0_queued_when_configured(broker):
    sub, _ = _connect_persistent(broker, "offline0", V5, first=True)
    sub.subscribe(("off0/t", 0), expect=[0])
    sub.disconnect()
    pub = broker.raw_connect("p")
    pub.publish("off0/t", b"a")
    pub.publish("off0/t", b"b")
    pub.ping()
    again, ack = _connect_persistent(broker, "offline0", V5)
    assert ack.session_present
    assert [again.expect(raw.PUBLISH).payload for _ in range(2)] == [b"a", b"b"]


@pytest.mark.parametrize("version", [V311, V5])
def test_clean_start_discards_session_and_queue(broker, version):
    sub, _ = _connect_persistent(broker, "discard", version, first=True)
    sub.subscribe(("disc/t", 1), expect=[1])
    sub.disconnect()
    pub = broker.raw_connect("p", version=version)
    pub.publish("disc/t", b"queued", qos=1)
    fresh, ack = _connect_persistent(broker, "discard", version, clean=True)
    assert not ack.session_present
    fresh.expect_nothing(0.4)
    pub.publish("disc/t", b"live", qos=1, pid=2)
    fresh.expect_nothing(0.3)  # the subscription went with the session


def test_session_expiry_zero_ends_session_at_disconnect(broker):
    c = broker.raw(V5)
    c.connect("exp0", clean=True)  # no Session Expiry Interval: 0
    c.subscribe(("exp0/t", 1), expect=[1])
    c.disconnect()
    again = broker.raw(V5)
    assert not again.connect("exp0", clean=False).session_present


def test_session_expires_after_interval(broker):
    c = broker.raw(V5)
    c.connect("exp1", clean=True, props={"session_expiry_interval": 1})
    c.subscribe(("exp1/t", 1), expect=[1])
    c.disconnect()
    time.sleep(2.2)
    pub = broker.raw_connect("p")
    pub.publish("exp1/t", b"too late", qos=1)
    again = broker.raw(V5)
    assert not again.connect("exp1", clean=False).session_present
    again.expect_nothing(0.3)


def test_session_kept_within_expiry(broker):
    c = broker.raw(V5)
    c.connect("exp5", clean=True, props={"session_expiry_interval": 5})
    c.subscribe(("exp5/t", 1), expect=[1])
    c.disconnect()
    pub = broker.raw_connect("p")
    pub.publish("exp5/t", b"kept", qos=1)
    time.sleep(0.5)
    again = broker.raw(V5)
    assert again.connect("exp5", clean=False, props={"session_expiry_interval": 5}).session_present
    m = again.expect(raw.PUBLISH)
    assert m.payload == b"kept"


def test_disconnect_can_shorten_session_expiry(broker):
    c = broker.raw(V5)
    c.connect("short", clean=True, props={"session_expiry_interval": 60})
    c.subscribe(("short/t", 1), expect=[1])
    c.disconnect(0x00, {"session_expiry_interval": 0})
    again = broker.raw(V5)
    assert not again.connect("short", clean=False).session_present


def test_disconnect_setting_expiry_when_connect_had_zero_is_protocol_error(broker):
    c = broker.raw_connect("zero", clean=True)  # expiry 0
    c.send(raw.disconnect(0x00, {"session_expiry_interval": 30}))
    expect_server_disconnect(c, 0x82, required=STRICT)
    again = broker.raw(V5)
    assert not again.connect("zero", clean=False).session_present


def test_v5_publish_to_no_subscribers(broker):
    c = broker.raw_connect("nobody")
    ack = c.publish("nobody/listens", b"x", qos=1)
    assert ack.rc in (0x00, 0x10)  # Success or No matching subscribers
    c.send(raw.publish("nobody/listens", b"x", qos=2, pid=2))
    rec = c.expect(raw.PUBREC)
    assert rec.rc in (0x00, 0x10)
    c.send(raw.pubrel(2))
    assert c.expect(raw.PUBCOMP).rc == 0


def test_v311_persistent_session_receives_after_reconnect_from_v5_publisher(broker):
    sub, _ = _connect_persistent(broker, "mixed", V311, first=True)
    sub.subscribe(("mix/t", 1), expect=[1])
    sub.disconnect()
    pub = broker.raw_connect("p5")
    pub.publish("mix/t", b"from v5", qos=1, props={"user_property": [("k", "v")]})
    again, ack = _connect_persistent(broker, "mixed", V311)
    assert ack.session_present
    m = again.expect(raw.PUBLISH)
    assert (m.topic, m.payload, m.qos) == ("mix/t", b"from v5", 1)
    # a 3.1.1 PUBLISH has no properties: topic, packet id, payload only
    assert m.raw[2:] == b"\x00\x05mix/t" + m.pid.to_bytes(2, "big") + b"from v5"


# --- many clients, many cores ----------------------------------------------------------------

def _drain_publishes(c, n, timeout=20.0):
    """Receives n PUBLISHes, acknowledging QoS 1/2; returns them."""
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < n:
        m = c.recv(max(0.01, deadline - time.monotonic()))
        if m.type == raw.PUBREL:
            c.send(raw.pubcomp(m.pid, version=c.version))
            continue
        assert m.type == raw.PUBLISH, m
        out.append(m)
        if m.qos == 1:
            c.send(raw.puback(m.pid, version=c.version))
        elif m.qos == 2:
            c.send(raw.pubrec(m.pid, version=c.version))
    return out


def test_fan_out_and_fan_in_keep_per_publisher_order(broker, paho):
    subs = [_sub(broker, "fan-sub%d" % i, "fan/#", 1, V5 if i % 2 else V311) for i in range(12)]
    pubs = []
    for i in range(3):
        p = paho("fan-pub%d" % i)
        p.connect()
        pubs.append(p)
    n = 150
    infos = []
    for k in range(n):
        for i, p in enumerate(pubs):
            infos.append(p.publish("fan/p%d" % i, b"%d:%d" % (i, k), qos=1, wait=False))
    for s in subs:
        got = _drain_publishes(s, 3 * n)
        per = {}
        for m in got:
            i, k = m.payload.split(b":")
            per.setdefault(int(i), []).append(int(k))
            assert m.topic == "fan/p%d" % int(i)
        assert per == {i: list(range(n)) for i in range(3)}
        s.expect_nothing(0.1)
    for info in infos[-3:]:
        info.wait_for_publish(5)
        assert info.is_published()


def test_no_loss_across_repeated_takeovers(broker, paho):
    props = {"session_expiry_interval": 60}
    s = broker.raw_connect("hopper", clean=True, props=props)
    s.subscribe(("hop/t", 1), expect=[1])
    pub = paho("hop-pub")
    pub.connect()
    n, received = 300, set()
    sent = 0
    for round_ in range(5):
        for _ in range(n // 5):
            pub.publish("hop/t", b"%d" % sent, qos=1, wait=False)
            sent += 1
        # take some, then a new connection takes the session over
        for m in _drain_publishes(s, 10):
            received.add(int(m.payload))
        s = broker.raw_connect("hopper", clean=False, props=props)
        assert s.connack.session_present
    pub.publish("hop/t", b"end", qos=1)
    while True:
        m = _drain_publishes(s, 1)[0]
        if m.payload == b"end":
            break
        received.add(int(m.payload))
    assert received == set(range(sent)), sorted(set(range(sent)) - received)[:20]


def test_disconnect_can_lengthen_session_expiry(broker):
    c = broker.raw(V5)
    c.connect("longer", clean=True, props={"session_expiry_interval": 1})
    c.subscribe(("longer/t", 1), expect=[1])
    c.disconnect(0x00, {"session_expiry_interval": 60})
    time.sleep(2.2)
    again = broker.raw(V5)
    assert again.connect("longer", clean=False, props={"session_expiry_interval": 60}).session_present


@pytest.mark.mosquitto_deviation("drops an unacknowledged in-flight message once it expires")
def test_inflight_message_redelivered_even_after_its_expiry(broker):
    # Onward delivery had started: the unacknowledged PUBLISH is resent on
    # reconnect (MQTT 5.0 4.4) even though its expiry interval has passed.
    s = broker.raw(V5)
    s.connect("late-ack", clean=True, props={"session_expiry_interval": 60})
    s.subscribe(("inexp/t", 1), expect=[1])
    p = broker.raw_connect("p")
    p.publish("inexp/t", b"started", qos=1, props={"message_expiry_interval": 1})
    first = s.expect(raw.PUBLISH)
    s.abort()
    time.sleep(2.1)
    again = broker.raw(V5)
    assert again.connect("late-ack", clean=False, props={"session_expiry_interval": 60}).session_present
    m = again.expect(raw.PUBLISH)
    assert (m.payload, m.pid, m.dup) == (b"started", first.pid, True)


@pytest.mark.parametrize("version", [V311, V5])
def test_very_long_topic(broker, version):
    topic = "long/" + "/".join("level%05d" % i for i in range(100)) + "/" + "x" * 50000
    s = broker.raw_connect("s", version=version)
    s.subscribe((topic, 1), expect=[1])
    s2 = broker.raw_connect("s2", version=version)
    s2.subscribe(("long/#", 0), expect=[0])
    p = broker.raw_connect("p", version=version)
    p.publish(topic, b"deep", qos=1)
    m = s.expect(raw.PUBLISH)
    assert (m.topic, m.payload) == (topic, b"deep")
    assert s2.expect(raw.PUBLISH).topic == topic
