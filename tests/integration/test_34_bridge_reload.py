"""Bridges on reload (issue 12): [[bridge]] tables re-read on SIGHUP. One
strata edge and one real mosquitto peer for the module; the tests run in
file order, each rewriting the edge's file with the bridges it wants:
- a bridge added by SIGHUP delivers, and the running one is not touched
  (its connection stays up);
- a bridge changed (its remote topic template) while its peer is hung
  (SIGSTOP) and 200 messages are queued: all of them arrive under the new
  template once the peer is back, none lost, duplicates reported;
- a bridge changed under a steady QoS 1 load: every acknowledged message
  arrives (under the old template or the new), duplicates reported;
- a bridge removed with 30 messages queued: listed as "removed" with its
  count, across a restart too; added again, the 30 arrive;
- a removed bridge's outbox purged with strata-ctl (exact count), gone
  after a restart; 409 for a configured bridge, 404 once gone;
- a broken [[bridge]] table: the reload says file:line and what was kept,
  and the running bridges go on."""

import os
import signal
import subprocess

import pytest

import brokerproc
import pahoc
from adminhttp import AdminClient
from bridgeload import Publisher, Subscriber, account
from common import wait_until
from test_24_bridge import bridge, edge_config, start

pytestmark = pytest.mark.skipif(brokerproc.KIND != "strata", reason="bridges are a strata feature")


@pytest.fixture(scope="module")
def peers(tmp_path_factory):
    d = tmp_path_factory.mktemp("bridge-reload")
    mosq = start(d, "mosq", {"limits": {"max_queued_messages": 100000}}, kind="mosquitto")
    edge = start(d, "edge", edge_config([keep(mosq)]))
    yield edge, mosq
    assert edge.stop() == 0
    assert edge.health_problems() == []  # sanitizer reports, crashes
    mosq.stop()


def keep(mosq):
    return bridge("keep", mosq.port, [{"filter": "keep/#", "remote": "k/{topic}", "qos": 1}])


def chg(mosq, template):
    return bridge("chg", mosq.port, [{"filter": "chg/#", "remote": template, "qos": 1}], client_id="edge-chg")


def rm(mosq):
    return bridge("rm", mosq.port, [{"filter": "rm/#", "qos": 1}], client_id="edge-rm")


def reload(edge, bridges, extra=""):
    """Rewrites the edge's file with `bridges` (and `extra` text) and sends
    SIGHUP; returns once the edge logged the [[bridge]] part of the reload."""
    before = edge.log.count("reload: [[bridge]]")
    edge.config["__bridges__"] = bridges
    edge.command()  # writes the file (Strata.command appends the tables)
    if extra:
        with open(edge.conf_path, "a") as f:
            f.write(extra)
    edge.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: edge.log.count("reload: [[bridge]]") > before, 10, what="the [[bridge]] reload")


def api(edge):
    return AdminClient(edge.admin_url)


def one(edge, name):
    status, body = api(edge).get("/api/v1/bridges/" + name)
    assert status == 200, body
    return body


def listed(edge):
    status, body = api(edge).get("/api/v1/bridges")
    assert status == 200, body
    return {b["name"]: b for b in body["data"]}


def publish(edge, topic, tag, first, n):
    pub = pahoc.PahoClient(edge.host, edge.port, "pub-" + tag)
    pub.connect()
    for i in range(first, first + n):
        pub.publish(topic, b"%s:%d" % (tag.encode(), i), qos=1)  # waits for the edge's PUBACK
    pub.close()


def ctl(edge, *args):
    binary = os.path.join(os.path.dirname(brokerproc.strata_bin()), "strata-ctl")
    return subprocess.run([binary, "--url", edge.admin_url] + list(args), capture_output=True, text=True, timeout=30)


def test_added_bridge_delivers_and_the_running_one_stays_up(peers):
    edge, mosq = peers
    wait_until(lambda: one(edge, "keep")["state"] == "connected", 15, what="keep connected")
    sub = Subscriber(mosq.port, "+/chg/#", "t34-chg-sub")
    try:
        reload(edge, [keep(mosq), chg(mosq, "v1/{topic}")])
        wait_until(lambda: one(edge, "chg")["state"] == "connected", 15, what="chg connected")
        publish(edge, "chg/x", "chg", 0, 20)
        wait_until(lambda: sub.count() >= 20, 15, what="20 messages over the added bridge")
        r = account("chg", set(range(20)), sub.snapshot())
        assert r["lost"] == [] and r["order_breaks"] == 0 and r["duplicates"] == 0, r
        assert {m.topic for m in sub.messages} == {"v1/chg/x"}
        # The unchanged bridge kept its one connection.
        assert edge.log.count("keep: connected to") == 1
        assert one(edge, "keep")["connection_failures"] == 0
        assert "[[bridge]]: added chg, unchanged keep" in edge.log
    finally:
        sub.close()


def test_changed_bridge_keeps_its_queue_and_uses_the_new_template(peers):
    edge, mosq = peers
    sub = Subscriber(mosq.port, "+/chg/#", "t34-chg-sub")  # the persistent session of the test above
    try:
        mosq.proc.send_signal(signal.SIGSTOP)  # hung: the bridge loses it by keep-alive (2 s)
        try:
            wait_until(lambda: one(edge, "chg")["state"] != "connected", 15, what="chg sees its peer hung")
            publish(edge, "chg/x", "chg", 20, 200)
            # Acknowledged by the edge once routed; the append may follow on another core.
            wait_until(lambda: one(edge, "chg")["queued_messages"] == 200, 10, what="200 queued")
            reload(edge, [keep(mosq), chg(mosq, "v2/{topic}")])
            assert "chg: restarted with its new settings" in edge.log
            changed = one(edge, "chg")
            assert changed["queued_messages"] == 200
            assert changed["config"]["route"][0]["remote"] == "v2/{topic}"
        finally:
            mosq.proc.send_signal(signal.SIGCONT)
        wait_until(lambda: sub.count() >= 200, 30, what="the 200 queued messages")
        wait_until(lambda: one(edge, "chg")["queued_messages"] == 0, 15, what="chg's outbox empty")
        r = account("chg", set(range(20, 220)), sub.snapshot())
        print("changed bridge: %d acknowledged, %d arrived, %d duplicates" % (r["acked"], r["arrived"], r["duplicates"]))
        assert r["lost"] == [] and r["order_breaks"] == 0 and r["extra"] == [], r
        late = [m for m in sub.messages if int(m.payload.split(b":")[1]) >= 20]
        assert {m.topic for m in late} == {"v2/chg/x"}
    finally:
        sub.close()


def test_bridge_changed_under_load_loses_nothing(peers):
    """A steady QoS 1 publisher (400 msg/s, at most 4 s) while the bridge's
    template changes by SIGHUP: its routes swap in one step per core and
    the new bridge sends again what the old one left unconfirmed, so every
    acknowledged message arrives, under the old template or the new."""
    edge, mosq = peers
    sub = Subscriber(mosq.port, "+/live/#", "t34-live-sub")
    live = lambda t: bridge("live", mosq.port, [{"filter": "live/#", "remote": t, "qos": 1}], client_id="edge-live")
    try:
        reload(edge, [keep(mosq), chg(mosq, "v2/{topic}"), live("a/{topic}")])
        wait_until(lambda: one(edge, "live")["state"] == "connected", 15, what="live connected")
        pub = Publisher(edge.port, "live/x", "live", rate=400, count=1600, seconds=4).start()
        try:
            wait_until(lambda: sub.count() >= 200, 15, what="200 messages before the change")
            reload(edge, [keep(mosq), chg(mosq, "v2/{topic}"), live("b/{topic}")])
            pub.join(30)
            acked = pub.wait_acked()
        finally:
            pub.close()
        want = set(range(pub.sent))
        assert acked == want, "the edge acknowledged %d of %d" % (len(acked), len(want))
        wait_until(lambda: account("live", acked, sub.snapshot())["lost"] == [], 30, what="every acknowledged message")
        r = account("live", acked, sub.snapshot())
        print("changed under load: %d acknowledged, %d arrived, %d duplicates, %d out of order"
              % (r["acked"], r["arrived"], r["duplicates"], r["order_breaks"]))
        assert r["lost"] == [] and r["extra"] == [], r
        topics = {m.topic for m in sub.messages}
        assert topics == {"a/live/x", "b/live/x"}, topics
        assert sub.messages[-1].topic == "b/live/x"
        # Removed with an empty outbox, purged: the later tests do not see it.
        reload(edge, [keep(mosq), chg(mosq, "v2/{topic}")])
        assert api(edge).delete("/api/v1/bridges/live/outbox") == (200, {"name": "live", "purged": 0})
    finally:
        sub.close()


def test_removed_bridge_keeps_its_outbox_across_a_restart_and_resumes(peers):
    edge, mosq = peers
    sub = Subscriber(mosq.port, "rm/#", "t34-rm-sub")
    try:
        reload(edge, [keep(mosq), chg(mosq, "v2/{topic}"), rm(mosq)])
        wait_until(lambda: one(edge, "rm")["state"] == "connected", 15, what="rm connected")
        assert api(edge).post("/api/v1/bridges/rm/pause")[0] == 200
        publish(edge, "rm/x", "rm", 0, 30)
        wait_until(lambda: one(edge, "rm")["queued_messages"] == 30, 10, what="30 queued")
        reload(edge, [keep(mosq), chg(mosq, "v2/{topic}")])
        assert "[[bridge]]: removed (outbox kept) rm, unchanged keep,chg" in edge.log
        gone = listed(edge)["rm"]
        assert (gone["state"], gone["type"], gone["queued_messages"]) == ("removed", "mqtt", 30)
        assert one(edge, "rm")["state"] == "removed"
        r = ctl(edge, "bridges", "list")
        row = [l.split() for l in r.stdout.splitlines() if l.startswith("rm ")]
        assert r.returncode == 0 and row and row[0][:4] == ["rm", "mqtt", "removed", "30"], (r.stdout, r.stderr)
        publish(edge, "rm/x", "rm", 1000, 1)  # no route any more: not queued
        assert one(edge, "rm")["queued_messages"] == 30
        # The outbox is on disk: found again at start-up.
        assert edge.stop() == 0
        edge.start()
        gone = listed(edge)["rm"]
        assert (gone["state"], gone["queued_messages"]) == ("removed", 30)
        reload(edge, [keep(mosq), chg(mosq, "v2/{topic}"), rm(mosq)])
        wait_until(lambda: sub.count() >= 30, 20, what="the 30 kept messages")
        wait_until(lambda: one(edge, "rm")["queued_messages"] == 0, 15, what="rm's outbox empty")
        r = account("rm", set(range(30)), sub.snapshot())
        print("removed and re-added: %d acknowledged, %d arrived, %d duplicates" % (r["acked"], r["arrived"], r["duplicates"]))
        assert r["lost"] == [] and r["order_breaks"] == 0 and r["extra"] == [], r
    finally:
        sub.close()


def test_purge_deletes_a_removed_bridges_outbox(peers):
    edge, mosq = peers
    sub = Subscriber(mosq.port, "rm/#", "t34-rm-sub")
    try:
        before = sub.count()
        wait_until(lambda: one(edge, "rm")["state"] == "connected", 15, what="rm connected")
        assert api(edge).post("/api/v1/bridges/rm/pause")[0] == 200
        publish(edge, "rm/x", "rm", 100, 7)
        wait_until(lambda: one(edge, "rm")["queued_messages"] == 7, 10, what="7 queued")
        reload(edge, [keep(mosq), chg(mosq, "v2/{topic}")])
        assert listed(edge)["rm"]["queued_messages"] == 7
        r = ctl(edge, "bridges", "purge", "chg")
        assert r.returncode != 0 and "chg' is configured" in r.stderr, (r.stdout, r.stderr)
        r = ctl(edge, "bridges", "purge", "rm")
        assert (r.returncode, r.stdout) == (0, "Purged the outbox of removed bridge rm (7 messages)\n"), r.stderr
        assert "rm" not in listed(edge)
        assert api(edge).get("/api/v1/bridges/rm")[0] == 404
        r = ctl(edge, "bridges", "purge", "rm")
        assert r.returncode != 0 and "no kept outbox 'rm'" in r.stderr, (r.stdout, r.stderr)
        status, body = api(edge).delete("/api/v1/bridges/keep/outbox")
        assert status == 409 and body["code"] == "CONFLICT", body
        # Gone from disk: not found at start-up; added again, it starts empty.
        assert edge.stop() == 0
        edge.start()
        assert "rm" not in listed(edge)
        reload(edge, [keep(mosq), chg(mosq, "v2/{topic}"), rm(mosq)])
        assert one(edge, "rm")["queued_messages"] == 0
        publish(edge, "rm/x", "rm", 200, 1)
        wait_until(lambda: sub.count() >= before + 1, 15, what="the marker after the purge")
        # The outbox is FIFO: had the 7 purged ones survived, they would come first.
        assert sub.snapshot()[before:] == [b"rm:200"]
    finally:
        sub.close()


def test_broken_bridge_table_keeps_the_running_bridges(peers):
    edge, mosq = peers
    sub = Subscriber(mosq.port, "k/#", "t34-keep-sub")
    try:
        wait_until(lambda: one(edge, "keep")["state"] == "connected", 15, what="keep connected")
        edge.config["__bridges__"] = [keep(mosq), chg(mosq, "v3/{topic}"), rm(mosq)]
        edge.command()
        with open(edge.conf_path, "a") as f:
            f.write('\n[[bridge]]\nname = "bad"\ntype = "mqtt"\nurl = "tcp://127.0.0.1:1"\noverflow = "sometimes"\n')
        lines = open(edge.conf_path).read().split("\n")
        line = next(i + 1 for i, s in enumerate(lines) if s.startswith("overflow = \"sometimes\""))
        status, body = api(edge).post("/api/v1/reload")
        assert status == 200 and body["ok"] is True, body
        refused = [s for s in body["not_reloaded"] if "bridge.overflow" in s]
        assert len(refused) == 1 and ("strata.toml:%d:" % line) in refused[0], body
        assert "keeping the running configuration" in refused[0]
        assert ("strata.toml:%d:" % line) in edge.log
        # Nothing changed: chg still sends with v2, no "bad", keep delivers.
        assert set(listed(edge)) == {"keep", "chg", "rm"}
        assert one(edge, "chg")["config"]["route"][0]["remote"] == "v2/{topic}"
        publish(edge, "keep/x", "keep", 0, 10)
        wait_until(lambda: sub.count() >= 10, 15, what="10 messages over the running bridge")
        r = account("keep", set(range(10)), sub.snapshot())
        assert r["lost"] == [] and r["order_breaks"] == 0 and r["duplicates"] == 0, r
    finally:
        sub.close()
