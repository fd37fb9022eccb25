"""Clean sessions (Clean Start, Session Expiry 0, no will) that only connect.

Such a session holds nothing until its client subscribes or sends a QoS 2
message, so the broker keeps no session state for it until then (a "bare"
session, broker/core/core.hpp). What a client and an operator see must not
depend on that: a takeover of a clean connection that never subscribed, a
clean client that subscribes or publishes QoS 2 later, and the listings and
counts of the admin API are checked here exactly as they were before.
"""

import re
import time

import pytest

import raw
from adminhttp import AdminClient

pytestmark = pytest.mark.strata_only

ROUNDS = 20


def sessions_metric(api):
    status, text = api.get("/metrics")
    assert status == 200
    m = re.search(r"^strata_sessions (\d+)", text, re.M)
    assert m, "strata_sessions missing from /metrics"
    return int(m.group(1))


def wait_value(fn, want, timeout=5.0):
    """fn() until it returns `want` (counts settle once the broker has
    handled the disconnects); the last value when it does not."""
    deadline = time.monotonic() + timeout
    v = fn()
    while v != want and time.monotonic() < deadline:
        time.sleep(0.02)
        v = fn()
    return v


def roundtrip(broker, sub, topic, payload):
    """A QoS 1 message from a fresh publisher reaches `sub` (subscribed to `topic`)."""
    pub = broker.raw_connect("")
    pub.publish(topic, payload, qos=1, pid=1)
    pub.disconnect()
    p = sub.expect(raw.PUBLISH)
    assert (p.topic, p.payload) == (topic, payload)
    if p.qos == 1:
        sub.send(raw.puback(p.pid))


@pytest.mark.broker_config(broker={"threads": 2})
def test_takeover_of_clean_connections_that_never_subscribed(broker):
    for r in range(ROUNDS):
        cid = "bare-%d" % r
        a = broker.raw_connect(cid)
        assert not a.connack.session_present
        # Clean Start: the old connection is closed with 0x8E and the new
        # session starts empty.
        b = broker.raw_connect(cid)
        assert not b.connack.session_present
        a.expect_disconnect(0x8E)
        # Without Clean Start the session of the open connection is taken
        # over and resumed (Session Present), as for any session.
        c = broker.raw_connect(cid, clean=False)
        assert c.connack.session_present
        b.expect_disconnect(0x8E)
        # The survivor works: it subscribes and receives.
        c.subscribe([("bare/%d" % r, raw.sub_opts(qos=1))])
        roundtrip(broker, c, "bare/%d" % r, b"r%d" % r)
        c.disconnect()
        a.close()
        b.close()


@pytest.mark.broker_config(broker={"threads": 2})
def test_two_clean_connections_at_once(broker):
    """Two CONNECTs with Clean Start for one client id sent together (on
    one core or on both, as the kernel spreads them): the one handled
    second takes over, the other gets CONNACK and then DISCONNECT 0x8E,
    every round."""
    for r in range(ROUNDS):
        cid = "bare-race-%d" % r
        a = raw.RawClient(broker.host, broker.port)
        b = raw.RawClient(broker.host, broker.port)
        a.send(raw.connect(cid))
        b.send(raw.connect(cid))
        for c in (a, b):
            ack = c.expect(raw.CONNACK)
            assert (ack.rc, ack.session_present) == (0, False)
        # Exactly one of them is closed, with 0x8E; the other stays.
        closed = None
        deadline = time.monotonic() + 10
        while closed is None and time.monotonic() < deadline:
            for c in (a, b):
                try:
                    p = c.recv(0.05)
                except raw.Timeout:
                    continue
                assert p.type == raw.DISCONNECT and p.rc == 0x8E, "round %d: %r" % (r, p)
                closed = c
                break
        assert closed is not None, "round %d: neither connection was taken over" % r
        closed.expect_closed()
        survivor = b if closed is a else a
        survivor.subscribe([("race/%d" % r, raw.sub_opts(qos=1))])
        roundtrip(broker, survivor, "race/%d" % r, b"x")
        survivor.disconnect()
        for c in (a, b):
            c.close()


def test_clean_client_that_subscribes_and_publishes_later(broker):
    c = broker.raw_connect("late")
    c.ping()
    # Nothing to unsubscribe, nothing to release.
    c.send(raw.unsubscribe(3, ["never/+"]))
    ack = c.expect(raw.UNSUBACK)
    assert (ack.pid, ack.rcs) == (3, [0x11])
    c.send(raw.pubrel(7))
    comp = c.expect(raw.PUBCOMP)
    assert (comp.pid, comp.rc) == (7, 0x92)
    # It subscribes later and receives.
    c.subscribe([("late/#", raw.sub_opts(qos=1))])
    roundtrip(broker, c, "late/a", b"one")
    # QoS 2 from a clean client: a duplicate is not routed twice.
    other = broker.raw_connect("late-2")
    other.send(raw.publish("late/q2", b"two", qos=2, pid=9))
    assert other.expect(raw.PUBREC).pid == 9
    other.send(raw.publish("late/q2", b"two", qos=2, pid=9, dup=True))
    assert other.expect(raw.PUBREC).pid == 9
    other.send(raw.pubrel(9))
    comp = other.expect(raw.PUBCOMP)
    assert (comp.pid, comp.rc) == (9, 0)
    p = c.expect(raw.PUBLISH)
    assert (p.topic, p.payload) == ("late/q2", b"two")
    c.send(raw.puback(p.pid))
    c.expect_nothing(0.3)
    other.disconnect()
    c.disconnect()


def test_admin_lists_and_counts_clean_connections(broker):
    api = AdminClient(broker.admin_url)
    base = sessions_metric(api)
    idle = [broker.raw_connect("cnt-idle-%d" % i) for i in range(3)]
    busy = broker.raw_connect("cnt-busy")
    busy.subscribe([("cnt/#", raw.sub_opts(qos=0))])
    kept = broker.raw_connect("cnt-kept", clean=False, props={"session_expiry_interval": 300})
    kept.disconnect()
    assert wait_value(lambda: sessions_metric(api), base + 5) == base + 5

    s, body = api.get("/api/v1/sessions?clientid=cnt-")
    assert s == 200 and body["meta"]["count"] == 5
    rows = {x["clientid"]: x for x in body["data"]}
    assert sorted(rows) == ["cnt-busy", "cnt-idle-0", "cnt-idle-1", "cnt-idle-2", "cnt-kept"]
    for cid in ("cnt-idle-0", "cnt-busy"):
        x = rows[cid]
        assert (x["connected"], x["expiry_interval"], x["proto_ver"]) == (True, 0, "5")
        assert x["ip_address"].startswith("127.0.0.1:")
    assert rows["cnt-kept"]["connected"] is False
    s, body = api.get("/api/v1/clients?clientid=cnt-&connected=true")
    assert [x["clientid"] for x in body["data"]] == ["cnt-busy", "cnt-idle-0", "cnt-idle-1", "cnt-idle-2"]
    s, one = api.get("/api/v1/sessions/cnt-idle-1")
    assert s == 200 and one["clientid"] == "cnt-idle-1" and one["connected"] is True
    assert one["subscriptions"] == []

    # Kicked: gone from the lists and the counts at once (expiry 0).
    assert api.delete("/api/v1/clients/cnt-idle-0")[0] == 204
    idle[0].expect_disconnect(0x98)
    assert wait_value(lambda: sessions_metric(api), base + 4) == base + 4
    assert api.get("/api/v1/sessions/cnt-idle-0")[0] == 404
    # Subscribed by the API: it receives like any subscriber.
    s, body = api.post("/api/v1/clients/cnt-idle-1/subscriptions", {"filter": "cnt/x", "qos": 1})
    assert (s, body["qos"]) == (200, 1)
    roundtrip(broker, idle[1], "cnt/x", b"via-api")
    s, body = api.delete("/api/v1/clients/cnt-idle-2/subscriptions?filter=cnt%2Fx")
    assert s == 404
    for c in idle[1:] + [busy]:
        c.disconnect()
    assert wait_value(lambda: sessions_metric(api), base + 1) == base + 1
    s, body = api.get("/api/v1/sessions?clientid=cnt-")
    assert [x["clientid"] for x in body["data"]] == ["cnt-kept"]
