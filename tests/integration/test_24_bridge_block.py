"""Bridges: overflow = "block" (the default) holds publishers and never
drops what it acknowledged (issue 12). An edge strata bridges to a peer
strata that is down, so the outboxes fill (small max_messages); byte-level
clients count exactly what the edge acknowledged (PUBACK 0x00), what it
refused (0x97, or for MQTT 3.1.1 a closed connection without PUBACK), and
then what the peer's subscriber receives once the peer is back: every
acknowledged message, none of the refused ones, duplicates reported."""

import pytest

import brokerproc
import raw
from adminhttp import AdminClient
from bridgeload import Subscriber, V5
from common import wait_until
from test_24_bridge import bridge, edge_config, start

pytestmark = pytest.mark.skipif(brokerproc.KIND != "strata", reason="bridges are a strata feature")

QUOTA_EXCEEDED = 0x97


def publish_one(c, topic, payload, qos, pid, timeout=10):
    """Sends one PUBLISH and returns its acknowledgement's reason code."""
    c.send(raw.publish(topic, payload, qos=qos, pid=pid, version=c.version))
    return c.expect(raw.PUBACK if qos == 1 else raw.PUBREC, timeout).rc


def bridges_of(edge):
    s, body = AdminClient(edge.admin_url).get("/api/v1/bridges")
    assert s == 200, body
    return {b["name"]: b for b in body["data"]}


@pytest.mark.parametrize("durability", ["batch", "sync"])
def test_block_holds_refuses_after_timeout_and_loses_nothing(tmp_path, durability):
    peer = start(tmp_path, "peer", {})
    Subscriber(peer.port, "#", "blk-sub").close()  # a persistent session waits on the peer
    peer.stop()
    edge = start(tmp_path, "edge", edge_config([
        bridge("blk", peer.port, [{"filter": "blk/#"}], max_messages=20, block_timeout=1),
        bridge("hold", peer.port, [{"filter": "hold/#"}], max_messages=5, block_timeout=120),
    ], durability=durability))
    sub = None
    try:
        # v5 QoS 1: the first 20 fill the outbox and are acknowledged; the
        # next ones are held for block_timeout and refused with 0x97.
        c5 = edge.raw_connect("blk-v5")
        rcs = [publish_one(c5, "blk/a", b"v5:%d" % i, 1, i + 1) for i in range(22)]
        assert rcs == [0] * 20 + [QUOTA_EXCEEDED] * 2
        # QoS 2: PUBREC 0x97; the id is forgotten, so a resend is routed again.
        assert publish_one(c5, "blk/a", b"q2:0", 2, 100) == QUOTA_EXCEEDED
        assert publish_one(c5, "blk/a", b"q2:0", 2, 100) == QUOTA_EXCEEDED
        # QoS 0 under block: dropped and counted, the connection goes on.
        c5.send(raw.publish("blk/a", b"q0:0", qos=0))
        c5.send(raw.pingreq())
        c5.expect(raw.PINGRESP)
        # MQTT 3.1.1 cannot refuse: the connection is closed without PUBACK.
        c3 = edge.raw(raw.V311)
        c3.connect("blk-v311", clean=False)
        c3.send(raw.publish("blk/a", b"v311:0", qos=1, pid=7, version=raw.V311))
        assert [p for p in c3.expect_closed(10) if p.type == raw.PUBACK] == []

        # A publisher held while the outbox is full gets its PUBACK once the
        # outbox has room again: the peer comes back and the bridge drains.
        ch = edge.raw_connect("hold-v5")
        assert [publish_one(ch, "hold/a", b"hold:%d" % i, 1, i + 1) for i in range(5)] == [0] * 5
        ch.send(raw.publish("hold/a", b"hold:5", qos=1, pid=6))
        ch.expect_nothing(0.5)  # held: no PUBACK, nothing read
        b = bridges_of(edge)
        assert (b["hold"]["queued_messages"], b["hold"]["blocking"]) == (5, True)
        assert (b["blk"]["queued_messages"], b["blk"]["blocking"]) == (20, True)
        peer.start()
        assert ch.expect(raw.PUBACK, 60).rc == 0
        wait_until(lambda: bridges_of(edge)["blk"]["queued_messages"] == 0, 30, what="blk drained")
        # The 3.1.1 client sends its unacknowledged message again (DUP).
        c3 = edge.raw(raw.V311)
        c3.connect("blk-v311", clean=False)
        c3.send(raw.publish("blk/a", b"v311:0", qos=1, pid=7, dup=True, version=raw.V311))
        assert c3.expect(raw.PUBACK, 10).rc == 0

        acked = {b"v5:%d" % i for i in range(20)} | {b"v311:0"} | {b"hold:%d" % i for i in range(6)}
        refused = {b"v5:20", b"v5:21", b"q2:0", b"q0:0"}
        sub = Subscriber(peer.port, "#", "blk-sub")
        wait_until(lambda: acked <= set(sub.snapshot()), 30, what="every acknowledged message at the peer")
        wait_until(lambda: all(x["queued_messages"] == 0 for x in bridges_of(edge).values()), 30,
                   what="outboxes empty")
        got = sub.snapshot()
        duplicates = len(got) - len(set(got))
        print("block (%s): acknowledged %d, refused %d, arrived %d, duplicates %d"
              % (durability, len(acked), len(refused), len(set(got)), duplicates))
        assert set(got) == acked  # every acknowledged message, none of the refused ones
        for tag, n in (("v5", 20), ("hold", 6)):
            seq = [int(p.split(b":")[1]) for p in got if p.startswith(tag.encode() + b":")]
            assert sorted(set(seq)) == list(range(n)) and seq == sorted(seq), (tag, seq)
        b = bridges_of(edge)
        # v5 QoS 1 x2, QoS 2 x2, QoS 0, the 3.1.1 close: 6 refusals counted.
        assert b["blk"]["dropped"]["blocked"] == 6
        assert b["hold"]["dropped"]["blocked"] == 0
        assert b["blk"]["acknowledged"] == 21 and b["hold"]["acknowledged"] == 6
    finally:
        if sub:
            sub.close()
        edge.stop()
        peer.stop()
