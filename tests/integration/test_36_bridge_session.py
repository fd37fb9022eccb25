"""Bridge sessions (issue 12, "pull must be as lossless as push"): a
persistent session named by [[bridge_session]] queues in an outbox log on
disk instead of the in-memory session queue, so a peer that pulls from this
edge and is away gets every message of its time away, in order, past
max_queued_messages, across a kill -9 of the edge under durability sync.

Each test counts what the edge acknowledged to its publishers against what
arrived at the puller, per publisher, in order, and reports duplicates."""

import os
import subprocess
import time

import pytest

import brokerproc
import pahoc
from adminhttp import AdminClient
from bridgeload import Publisher, Subscriber, account
from common import wait_until

pytestmark = pytest.mark.skipif(brokerproc.KIND != "strata", reason="bridge sessions are a strata feature")

MAX_QUEUED = 1000   # the edge's max_queued_messages: the backlog is far past it
PER_PUBLISHER = 5000


def edge_config():
    return {"store": {"durability": "sync"}, "sys": {"interval": 1},
            "limits": {"max_queued_messages": MAX_QUEUED},
            "bridge_session": [{"client_id": "factory-*", "max_messages": 1000000}]}


def publish_batch(edge, tags):
    """PER_PUBLISHER QoS 1 messages from each of `tags` (one client each,
    in parallel); returns {tag: acknowledged sequence numbers}."""
    pubs = [Publisher(edge.port, "plant/%s/temp" % tag, tag, rate=100000, count=PER_PUBLISHER, seconds=60)
            for tag in tags]
    for p in pubs:
        p.start()
    acked = {}
    for p in pubs:
        p.join(60)
        acked[p.tag] = p.wait_acked(60)
        p.close()
    return acked


def report(acked, payloads):
    out = {tag: account(tag, a, payloads) for tag, a in acked.items()}
    for tag, r in out.items():
        print("%s: acked %d arrived %d lost %d duplicates %d order breaks %d extra %d"
              % (tag, r["acked"], r["arrived"], len(r["lost"]), r["duplicates"], r["order_breaks"], len(r["extra"])))
    return out


@pytest.mark.long_outage
def test_pull_after_outage_and_kill_gets_everything(tmp_path):
    edge = brokerproc.Broker(str(tmp_path), edge_config()).start()
    sub = None
    try:
        # The puller subscribes with a persistent session, then goes away.
        sub = Subscriber(edge.port, "plant/#", "factory-1")
        sub.close()
        sub = None
        # Messages queue while it is away: some, a kill -9 of the edge, more.
        acked = publish_batch(edge, ["a1", "b1"])
        assert all(len(a) == PER_PUBLISHER for a in acked.values()), "the edge refused messages"
        edge.kill()
        edge.start()
        acked.update(publish_batch(edge, ["a2", "b2"]))
        total = sum(len(a) for a in acked.values())
        assert total == 4 * PER_PUBLISHER > MAX_QUEUED
        # All of it is in the session's log (API and $SYS say so).
        api = AdminClient(edge.admin_url)
        status, page = api.get("/api/v1/sessions?clientid=factory-1")
        assert status == 200, page
        [s] = [x for x in page["data"] if x["clientid"] == "factory-1"]
        assert s["bridge_session"] is True and s["queued"] == total, s
        watcher = pahoc.PahoClient(edge.host, edge.port, "t36-sys")
        watcher.connect()
        watcher.subscribe("$SYS/bridge_sessions/factory-1/queued/messages", 0)
        deadline = time.monotonic() + 10
        while watcher.wait_message(10).payload != str(total).encode():
            assert time.monotonic() < deadline, "$SYS/bridge_sessions/factory-1/queued/messages never said %d" % total
        watcher.close()
        # The puller comes back; the edge is killed again while it drains.
        sub = Subscriber(edge.port, "plant/#", "factory-1")
        wait_until(lambda: sub.count() >= total // 3, 60, what="a third of the backlog")
        edge.kill()
        edge.start()
        # paho reconnects by itself (same session); the rest arrives.
        wait_until(lambda: len({p for p in sub.snapshot()}) >= total, 120,
                   what="every acknowledged message at the puller")
        payloads = sub.snapshot()
        out = report(acked, payloads)
        for tag, r in out.items():
            assert r["lost"] == [], (tag, r["lost"][:10])
            assert r["order_breaks"] == 0, (tag, r)
            assert r["extra"] == [], (tag, r["extra"][:10])
        # Nothing else arrived.
        prefixes = tuple((t + ":").encode() for t in acked)
        assert all(p.startswith(prefixes) for p in payloads)
        # Once drained the log is empty.
        wait_until(lambda: api.get("/api/v1/sessions?clientid=factory-1")[1]["data"][0]["queued"] == 0, 20,
                   what="an empty log")
        status, text = api.get("/metrics")
        assert status == 200
        assert 'strata_bridge_session_queued_messages{client_id="factory-1"} 0\n' in text, text[-2000:]
    finally:
        if sub is not None:
            sub.close()
        edge.stop()
    assert edge.health_problems() == []


def test_strata_pulling_with_an_in_bridge_gets_its_time_away(tmp_path):
    """The real use: a second strata (the factory) pulls plant/# from the
    edge with an `in` bridge whose client id the edge's [[bridge_session]]
    names. The factory goes away while the edge queues more than its
    max_queued_messages for it, then comes back: its local subscriber gets
    every message the edge acknowledged, in order per publisher."""
    edge = brokerproc.Broker(os.path.join(str(tmp_path), "edge"), edge_config()).start()
    factory_cfg = {
        "store": {"durability": "sync"},
        "limits": {"max_queued_messages": 100000},
        "bridge": [{"name": "edge1", "type": "mqtt", "url": "tcp://127.0.0.1:%d" % edge.port, "client_id": "factory-2",
                    "keep_alive": 2, "reconnect_min": 100, "reconnect_max": 500, "session_expiry": 3600}],
        "bridge.route": [{"direction": "in", "filter": "plant/#", "local": "fromedge/{topic}", "qos": 1}],
    }
    os.makedirs(os.path.join(str(tmp_path), "factory"))
    factory = brokerproc.Broker(os.path.join(str(tmp_path), "factory"), factory_cfg).start()
    local = None
    api = AdminClient(edge.admin_url)

    def edge_session():
        status, page = api.get("/api/v1/sessions?clientid=factory-2")
        assert status == 200, page
        found = [x for x in page["data"] if x["clientid"] == "factory-2"]
        return found[0] if found else None

    try:
        local = Subscriber(factory.port, "fromedge/#", "t36-local")
        wait_until(lambda: (edge_session() or {}).get("subscriptions_count", 0) >= 1, 20,
                   what="the factory's bridge subscribed on the edge")
        assert edge_session()["bridge_session"] is True
        factory.stop()  # the factory goes away; its local subscriber keeps trying
        wait_until(lambda: edge_session()["connected"] is False, 20, what="the edge sees the factory gone")
        acked = publish_batch(edge, ["x", "y"])
        total = sum(len(a) for a in acked.values())
        assert total == 2 * PER_PUBLISHER > MAX_QUEUED
        assert edge_session()["queued"] == total
        factory.start()
        wait_until(lambda: all(account(t, a, local.snapshot())["lost"] == [] for t, a in acked.items()), 120,
                   what="every acknowledged message at the factory's subscriber")
        payloads = local.snapshot()
        out = report(acked, payloads)
        for tag, r in out.items():
            assert r["lost"] == [] and r["order_breaks"] == 0 and r["extra"] == [], (tag, r)
        assert all(p.startswith((b"x:", b"y:")) for p in payloads)
        wait_until(lambda: edge_session()["queued"] == 0, 20, what="the edge's log emptied")
    finally:
        if local is not None:
            local.close()
        factory.stop()
        edge.stop()
    assert edge.health_problems() == [] and factory.health_problems() == []


def test_bad_bridge_session_stops_start_up_with_file_and_line(tmp_path):
    conf = os.path.join(str(tmp_path), "bad.toml")
    with open(conf, "w") as f:
        f.write('[[bridge_session]]\nclient_id = "factory-*"\noverflow = "spill"\n')
    binary = brokerproc.strata_bin()
    r = subprocess.run([binary, "--check-config", conf], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "bad.toml:3:12: bridge_session.overflow 'spill' is not valid" in r.stderr, r.stderr
    r = subprocess.run([binary, "-c", conf, "--data-dir", str(tmp_path)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1
    assert "bad.toml:3:12: bridge_session.overflow 'spill' is not valid" in r.stderr, r.stderr
    with open(conf, "w") as f:
        f.write('[[bridge_session]]\nclient_id = "factory-*"\nmax_messages = 5000000\n')
    r = subprocess.run([binary, "--check-config", conf], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
