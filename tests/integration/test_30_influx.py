"""MQTT -> time series: the influx bridge against a real InfluxDB 1.x
(influxd) and a real VictoriaMetrics, both started here on free ports with
their own directories. Points are read back through each server's HTTP
API and compared exactly (measurement, tags, fields, timestamps).

Outage tests publish at QoS 1, count what the broker acknowledged and
assert every acknowledged point arrived (InfluxDB keeps one point per
series and time, so a re-sent point is not a second row: duplicates cannot
show and are not counted here)."""

import json
import os
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from adminhttp import AdminClient  # noqa: E402
import brokerproc  # noqa: E402
import pahoc  # noqa: E402
from common import wait_until  # noqa: E402
from tsdbpeer import Influxd, VictoriaMetrics  # noqa: E402

pytestmark = pytest.mark.strata_only


def influx_bridge(url, name, filt, **keys):
    b = {"name": name, "type": "influx", "url": url, "database": "plant",
         "route": [{"direction": "out", "filter": filt}], "batch_ms": 50}
    b.update(keys)
    return b


def start_broker(tmp_path, bridges, durability="batch"):
    return brokerproc.Broker(tmp_path, {"store": {"durability": durability}, "bridge": bridges}).start()


def client(broker, cid):
    c = pahoc.PahoClient(broker.host, broker.port, client_id=cid)
    c.connect()
    return c


@pytest.fixture(scope="module")
def influxd(tmp_path_factory):
    d = Influxd(tmp_path_factory.mktemp("influxd")).start()
    d.create_database("plant")
    yield d
    d.stop()


def test_points_arrive_exactly(tmp_path, influxd):
    b = start_broker(tmp_path, [influx_bridge(
        influxd.url, "tsdb", "acme/#", measurement="{-1}", topic_levels=["enterprise", "site", "_", "line"],
        int_fields=["count"], timestamp_field="ts", timestamp_unit="ms", precision="ms")])
    try:
        c = client(b, "pub-exact")
        c.publish("acme/lyon/press/l2/motor", json.dumps(
            {"ts": 1765000000123, "temp": 61.5, "count": 7, "running": True, "mode": "auto",
             "vib": {"x": 0.25, "y": 0.5}}).encode(), qos=1)
        c.publish("acme/lyon/press/l2/motor", b'{"ts": 1765000001000, "temp": 62}', qos=1)
        c.publish("acme/lyon/press/l2/motor", b"not a point", qos=1)     # skipped, counted
        c.publish("acme/lyon/press/l3/speed", b"1450.5", qos=1)          # plain number: value, receive time
        rows = wait_until(lambda: len(influxd.rows("motor")) == 2 and influxd.rows("speed") and influxd.rows("motor"),
                          timeout=15, what="points in influxd")
        assert rows == [
            {"time": 1765000000123, "enterprise": "acme", "site": "lyon", "line": "l2", "temp": 61.5, "count": 7,
             "running": True, "mode": "auto", "vib.x": 0.25, "vib.y": 0.5},
            {"time": 1765000001000, "enterprise": "acme", "site": "lyon", "line": "l2", "temp": 62, "count": None,
             "running": None, "mode": None, "vib.x": None, "vib.y": None},
        ]
        speed = influxd.rows("speed")
        assert len(speed) == 1 and speed[0]["value"] == 1450.5 and speed[0]["line"] == "l3"
        assert abs(speed[0]["time"] - time.time() * 1000) < 60_000
        assert b.wait_log("gives no point (not_mappable)", timeout=5)
        # Counted by reason on the admin API and /metrics.
        s, one = AdminClient(b.admin_url).get("/api/v1/bridges/tsdb")
        assert s == 200 and one["skipped"] == {"not_mappable": 1, "no_fields": 0, "no_measurement": 0,
                                               "bad_timestamp": 0}
        s, text = AdminClient(b.admin_url).get("/metrics")
        assert 'strata_bridge_skipped_total{bridge="tsdb",reason="not_mappable"} 1' in text.splitlines()
    finally:
        b.stop()


@pytest.mark.long_outage
def test_influxd_stopped_under_load_loses_nothing(tmp_path, influxd):
    b = start_broker(tmp_path, [influx_bridge(influxd.url, "outage", "outage/#", measurement="outage",
                                              timestamp_field="ts", retry_min=50, retry_max=1000, timeout=2000)])
    try:
        c = client(b, "pub-influx-outage")
        acked = []
        infos = []
        for i in range(3000):
            infos.append((i, c.client.publish("outage/s%d" % (i % 5), b'{"seq": %d, "ts": %d}' % (i, 1765000000000 + i), 1)))
            if i == 1000:
                influxd.stop()  # for the next 1000 messages, 20 s or more: the bridge backs off and keeps them
            if i == 2000:
                wait_until(lambda: b.log.count("write failed") >= 1, timeout=10, what="a failed write")
                influxd.start()
            time.sleep(0.02 if 1000 <= i < 2000 else 0.0002)
        for i, info in infos:
            info.wait_for_publish(10)
            if info.is_published():
                acked.append(i)
        assert len(acked) == 3000
        wait_until(lambda: influxd.count("outage", "seq") >= 3000, timeout=30, what="3000 points")
        rows = influxd.rows("outage")
        seqs = sorted(int(r["seq"]) for r in rows)
        assert seqs == list(range(3000)), "lost: %r" % sorted(set(range(3000)) - set(seqs))[:20]
        print("acknowledged %d, arrived %d" % (len(acked), len(seqs)))
    finally:
        b.stop()


def test_type_conflict_dead_letters_just_those_lines(tmp_path, influxd):
    b = start_broker(tmp_path, [influx_bridge(influxd.url, "conflict", "conflict/#", measurement="conflict",
                                              timestamp_field="ts", tags={"sensor": "{2}"})])
    try:
        c = client(b, "pub-conflict")
        c.publish("conflict/a", b'{"ts": 1765000000000, "v": 1.5}', qos=1)
        wait_until(lambda: influxd.rows("conflict"), timeout=10, what="the first point")
        for i in range(1, 11):
            v = '"text"' if i in (4, 8) else str(i + 0.5)
            c.publish("conflict/a", ('{"ts": %d, "v": %s}' % (1765000000000 + i, v)).encode(), qos=1)
        wait_until(lambda: b.log.count("to the dead letters") >= 1 and len(influxd.rows("conflict")) == 9,
                   timeout=15, what="9 points and the dead letters")
        time.sleep(0.3)
        rows = influxd.rows("conflict")
        assert [r["time"] - 1765000000000 for r in rows] == [0, 1, 2, 3, 5, 6, 7, 9, 10]
        assert "field type conflict" in b.log
    finally:
        b.stop()


def test_too_large_writes_are_split(tmp_path):
    # influxd answers 413 to a body over max-body-size; the bridge splits the
    # write in halves until each is taken. (VictoriaMetrics 1.79 as Debian
    # ships it reads line protocol as a stream with no request size limit.)
    small = Influxd(tmp_path / "small", max_body_size=4000).start()
    small.create_database("plant")
    b = start_broker(tmp_path, [influx_bridge(small.url, "split", "split/#", measurement="split",
                                              batch_ms=500, timestamp_field="ts")])
    try:
        c = client(b, "pub-split")
        for i in range(400):
            c.publish("split/x", b'{"ts": %d, "v": %d}' % (1765000000000 + i, i), qos=1, wait=False)
        wait_until(lambda: small.count("split", "v") == 400, timeout=20, what="400 points")
        assert sorted(r["v"] for r in small.rows("split")) == list(range(400))
    finally:
        b.stop()
        small.stop()


def test_victoria_metrics_points(tmp_path):
    vm = VictoriaMetrics(tmp_path).start()
    now = int(time.time() * 1000) // 1000 * 1000
    b = start_broker(tmp_path, [influx_bridge(vm.url, "vm", "vm/#", measurement="{2}", tags={"line": "{3}"},
                                              timestamp_field="ts")])
    try:
        c = client(b, "pub-vm")
        for i in range(5):
            c.publish("vm/press/l%d" % (i % 2), ('{"ts": %d, "temp": %d.5, "ok": true}' % (now + i, i)).encode(), qos=1)
        got = wait_until(lambda: (lambda e: e if sum(len(v) for v in e.values()) == 10 else None)(vm.export('{__name__=~"press_.*"}')),
                         timeout=15, what="10 samples in victoria-metrics")
        assert got == {
            ("press_temp", (("db", "plant"), ("line", "l0"))): [(now, 0.5), (now + 2, 2.5), (now + 4, 4.5)],
            ("press_temp", (("db", "plant"), ("line", "l1"))): [(now + 1, 1.5), (now + 3, 3.5)],
            ("press_ok", (("db", "plant"), ("line", "l0"))): [(now, 1), (now + 2, 1), (now + 4, 1)],
            ("press_ok", (("db", "plant"), ("line", "l1"))): [(now + 1, 1), (now + 3, 1)],
        }
    finally:
        b.stop()
        vm.stop()


def test_bad_influx_section_stops_start_up_with_file_and_line(tmp_path):
    conf = tmp_path / "bad.toml"
    conf.write_text('[[bridge]]\nname = "t"\ntype = "influx"\nurl = "http://127.0.0.1:1"\n'
                    'database = "d"\nint_fields = "count"\n')
    r = subprocess.run([brokerproc.strata_bin(), "--check-config", str(conf)], capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.startswith("%s:6:14: " % conf), r.stderr
