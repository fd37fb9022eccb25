"""Bridges on the admin API (issue 12): GET /api/v1/bridges and
/api/v1/bridges/{name} with exact counts after a bounded publish, the
config with its password masked, pause (the outbox keeps queueing, the
peer — a real mosquitto — receives nothing) and resume (everything
arrives, in order, exactly once), 403 for a viewer, 404 for an unknown
bridge, and the strata_bridge_* series on /metrics checked by promtool."""

import os
import shutil
import subprocess

import pytest

import brokerproc
import pahoc
from adminhttp import AdminClient
from bridgeload import Subscriber, account
from common import wait_until
from test_24_bridge import bridge, edge_config, start

pytestmark = pytest.mark.skipif(brokerproc.KIND != "strata", reason="bridges are a strata feature")

PASSWD = os.path.join(os.path.dirname(brokerproc.strata_bin() or "."), "strata-passwd")
VIEWER = ("ci", "ci-secret-0123456789")
ADMIN = ("ops", "ops-secret-0123456789")


@pytest.fixture(scope="module")
def peers(tmp_path_factory):
    d = tmp_path_factory.mktemp("bridge-api")
    mosq = start(d, "mosq", {}, kind="mosquitto")
    users = str(d / "admin_users")
    subprocess.run([PASSWD, "--admin", "-c", "-b", users, "root", "root-pass"], check=True)
    keys = d / "api_keys"
    keys.write_text("%s:%s:viewer\n%s:%s:admin\n" % (VIEWER + ADMIN))
    cfg = edge_config([bridge("api", mosq.port, [{"filter": "api/#", "remote": "e/{topic}", "qos": 1}],
                              username="edge", password="s3cret-pass"),
                       bridge("fill", mosq.port, [{"filter": "fill/#", "qos": 1}], max_messages=20,
                              overflow="drop_new", client_id="fill-bridge")])
    cfg["admin"] = {"auth": "login", "users_file": users, "api_keys_file": str(keys)}
    edge = start(d, "edge", cfg)
    yield edge, mosq
    edge.stop()
    mosq.stop()


def get(edge, path, who=VIEWER):
    return AdminClient(edge.admin_url, basic=who).get(path)


def publish(edge, client_id, first, n):
    pub = pahoc.PahoClient(edge.host, edge.port, client_id)
    pub.connect()
    for i in range(first, first + n):
        pub.publish("api/x", b"api:%d" % i, qos=1)  # waits for PUBACK
    pub.close()


def test_bridge_endpoints_pause_resume_and_metrics(peers):
    edge, mosq = peers
    sub = Subscriber(mosq.port, "e/#", "api-sub")
    try:
        wait_until(lambda: get(edge, "/api/v1/bridges/api")[1]["state"] == "connected", 15, what="bridge connected")
        publish(edge, "api-pub", 0, 10)
        wait_until(lambda: sub.count() >= 10 and get(edge, "/api/v1/bridges/api")[1]["acknowledged"] == 10, 15,
                   what="10 forwarded and acknowledged")
        s, one = get(edge, "/api/v1/bridges/api")
        assert s == 200
        assert {k: one[k] for k in ("name", "type", "state", "queued_messages", "queued_bytes",
                                    "oldest_unacknowledged_age_ms", "appended", "sent", "acknowledged", "resent",
                                    "duplicates", "expired", "dead_lettered", "blocking")} == {
            "name": "api", "type": "mqtt", "state": "connected", "queued_messages": 0, "queued_bytes": 0,
            "oldest_unacknowledged_age_ms": 0, "appended": 10, "sent": 10, "acknowledged": 10, "resent": 0,
            "duplicates": 0, "expired": 0, "dead_lettered": 0, "blocking": False}
        assert one["dropped"] == {"oldest": 0, "new": 0, "blocked": 0, "hops": 0, "offline_qos0": 0, "age": 0}
        cfg = one["config"]
        assert (cfg["name"], cfg["type"], cfg["username"], cfg["password"]) == ("api", "mqtt", "edge", "***")
        assert "s3cret-pass" not in str(one)
        assert one["fill_percent"] == 0 and one["fill_warning"] == 0
        assert one["delivery_latency_ms"]["p50"] >= 1 and one["delivery_latency_ms"]["p99"] >= one["delivery_latency_ms"]["p50"]
        s, lst = get(edge, "/api/v1/bridges")
        assert s == 200 and lst["meta"]["count"] == 2 and "config" not in lst["data"][0]
        assert {k: v for k, v in lst["data"][0].items() if k != "oldest_unacknowledged_age_ms"} == \
            {k: v for k, v in one.items() if k not in ("config", "oldest_unacknowledged_age_ms")}

        # Roles and unknown names.
        viewer, admin = AdminClient(edge.admin_url, basic=VIEWER), AdminClient(edge.admin_url, basic=ADMIN)
        s, body = viewer.post("/api/v1/bridges/api/pause")
        assert s == 403 and body["code"] == "FORBIDDEN"
        for path in ("/api/v1/bridges/nope",):
            s, body = viewer.get(path)
            assert s == 404 and body == {"code": "NOT_FOUND", "message": "no bridge 'nope'"}
        s, body = admin.post("/api/v1/bridges/nope/pause")
        assert s == 404 and body["code"] == "NOT_FOUND"

        # Paused: the outbox keeps queueing, the peer receives nothing.
        s, body = admin.post("/api/v1/bridges/api/pause")
        assert s == 200 and body["state"] == "paused"
        publish(edge, "api-pub", 10, 15)
        wait_until(lambda: get(edge, "/api/v1/bridges/api")[1]["queued_messages"] == 15, 10, what="15 queued")
        one = get(edge, "/api/v1/bridges/api")[1]
        assert (one["state"], one["sent"], one["acknowledged"], one["appended"]) == ("paused", 10, 10, 25)
        assert one["queued_bytes"] == sum(len("api/x") + len(b"api:%d" % i) for i in range(10, 25))
        assert sub.count() == 10

        # /metrics: the bridge series, valid for promtool.
        if not shutil.which("promtool"):
            pytest.fail("promtool is not installed (tools/setup.sh installs Debian's prometheus)")
        s, text = AdminClient(edge.admin_url).get("/metrics")
        assert s == 200
        r = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), capture_output=True, timeout=30)
        assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
        lines = dict(line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
        assert lines['strata_bridge_queued_messages{bridge="api"}'] == "15"
        assert lines['strata_bridge_fill_ratio{bridge="api"}'] == "0"  # 15 of the default 10,000,000
        assert float(lines['strata_bridge_delivery_latency_seconds{bridge="api",quantile="0.99"}']) > 0
        assert lines['strata_bridge_sent_total{bridge="api"}'] == "10"
        assert lines['strata_bridge_acknowledged_total{bridge="api"}'] == "10"
        assert lines['strata_bridge_dropped_total{bridge="api",reason="blocked"}'] == "0"
        assert lines['strata_bridge_paused{bridge="api"}'] == "1"
        assert float(lines['strata_bridge_lag_seconds{bridge="api"}']) >= 0

        # Resumed: all of it, in order, exactly once.
        s, body = admin.post("/api/v1/bridges/api/resume")
        assert s == 200 and body["state"] in ("connected", "connecting")
        wait_until(lambda: sub.count() >= 25 and get(edge, "/api/v1/bridges/api")[1]["queued_messages"] == 0, 15,
                   what="25 at the peer")
        r = account("api", set(range(25)), sub.snapshot())
        print("pause/resume:", r)
        assert r["lost"] == [] and r["duplicates"] == 0 and r["order_breaks"] == 0 and r["extra"] == []
        one = get(edge, "/api/v1/bridges/api")[1]
        assert (one["state"], one["sent"], one["acknowledged"], one["resent"]) == ("connected", 25, 25, 0)
    finally:
        sub.close()


def sys_values(edge, prefix, want):
    """Waits until the latest $SYS values under `prefix` are those of `want`
    (the first ones seen are the retained values of an earlier update)."""
    got = {}
    c = pahoc.PahoClient(edge.host, edge.port, "fill-sys")
    c.connect()
    c.subscribe(prefix + "#", qos=0)

    def seen_all():
        got.update((m.topic, m.payload) for m in c.drain())
        return all(got.get(k) == v for k, v in want.items())

    try:
        wait_until(seen_all, 10, what="$SYS %r" % want)
    finally:
        c.close()


def test_fill_warnings_and_strata_ctl_bridges(peers):
    """A paused bridge with max_messages = 20: its fill level passes 50, 80
    and 95 % with one warning each in the log, shows in the API, $SYS and
    strata-ctl; drop_new counts the 5 past the bound; after resume the
    warning clears and the 20 queued arrive."""
    edge, mosq = peers
    ctl = [os.path.join(os.path.dirname(brokerproc.strata_bin()), "strata-ctl"), "--url", edge.admin_url,
           "--api-key", "%s:%s" % ADMIN]
    sub = Subscriber(mosq.port, "fill/#", "fill-sub")
    try:
        wait_until(lambda: get(edge, "/api/v1/bridges/fill")[1]["state"] == "connected", 15, what="fill connected")
        r = subprocess.run(ctl + ["bridges", "pause", "fill"], capture_output=True, text=True, timeout=30)
        assert (r.returncode, r.stdout) == (0, "Paused bridge fill\n"), r.stderr
        pub = pahoc.PahoClient(edge.host, edge.port, "fill-pub")
        pub.connect()
        levels = []
        for i in range(25):
            pub.publish("fill/x", b"fill:%d" % i, qos=1)
            one = get(edge, "/api/v1/bridges/fill")[1]
            levels.append((one["queued_messages"], one["fill_percent"], one["fill_warning"]))
        pub.close()
        assert levels[8] == (9, 45, 0) and levels[9] == (10, 50, 50)
        assert levels[15] == (16, 80, 80) and levels[18] == (19, 95, 95)
        assert levels[19:] == [(20, 100, 95)] * 6
        one = get(edge, "/api/v1/bridges/fill")[1]
        assert one["dropped"]["new"] == 5 and one["state"] == "paused"
        log = edge.log
        for level in (50, 80, 95):
            assert sum(1 for line in log.splitlines() if "outbox fill is" in line and "past %d%%" % level in line) == 1, log
        sys_values(edge, "$SYS/bridges/fill/", {"$SYS/bridges/fill/queued/percent": b"100",
                                                "$SYS/bridges/fill/queued/warning": b"95",
                                                "$SYS/bridges/fill/queued/messages": b"20"})

        r = subprocess.run(ctl + ["bridges", "list"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        header, *rows = r.stdout.splitlines()
        assert header.split()[:6] == ["NAME", "TYPE", "STATE", "QUEUED", "BYTES", "FILL"]
        fill_row = [row.split() for row in rows if row.split()[0] == "fill"]
        assert fill_row and fill_row[0][1:6] == ["mqtt", "paused", "20", str(20 * len("fill/xfill:0") + 10), "100"]
        r = subprocess.run(ctl + ["bridges", "show", "fill"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and "fill_warning: 95" in r.stdout and "password" not in r.stdout, r.stdout
        r = subprocess.run(ctl + ["bridges", "show", "nope"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 1 and "no bridge 'nope'" in r.stderr

        r = subprocess.run(ctl + ["bridges", "resume", "fill"], capture_output=True, text=True, timeout=30)
        assert (r.returncode, r.stdout) == (0, "Resumed bridge fill\n"), r.stderr
        wait_until(lambda: sub.count() >= 20 and get(edge, "/api/v1/bridges/fill")[1]["queued_messages"] == 0, 15,
                   what="20 at the peer")
        acc = account("fill", set(range(20)), sub.snapshot())
        assert acc["lost"] == [] and acc["duplicates"] == 0 and acc["order_breaks"] == 0 and acc["extra"] == []
        one = get(edge, "/api/v1/bridges/fill")[1]
        assert (one["fill_percent"], one["fill_warning"]) == (0, 0)
        falls = [line.split("outbox fill is ")[1] for line in edge.log.splitlines() if "outbox fill is" in line and "past" not in line]
        assert falls == ["80% full: back under the 95% warning", "65% full: back under the 80% warning", "35% full: below 40%"], falls
    finally:
        sub.close()
