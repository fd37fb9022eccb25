"""The edge -> factory -> corporate chain of etc/examples/chain (issue 12):
three strata processes running the example's local/*.toml and its rule
rules/edge_forward.lua, with only the loopback ports, data directories and
rules directory replaced, and the rule's window shortened from 60 s to 2 s
(its WINDOW_SECONDS constant) so the test does not wait minutes.

Eight sensors publish readings QoS 1 on one connection at 320 msg/s for
40 s; every tenth reading is above the rule's threshold (80). After 5 s the
factory is killed with SIGKILL and restarted 30 s later, while the load goes
on: the edge queues, reconnects and re-sends. At corporate, after
de-duplication, every threshold reading the edge acknowledged arrives
exactly once and in order per sensor, and every window's average arrives
exactly once and in order; the averages, counted readings, first and last
readings of the windows are checked against the acknowledged readings
(the payload carries the window's start, so the windows at the test's start
and end need no guessing). While the factory is down the edge shows the lag
in GET /api/v1/bridges/factory and $SYS/bridges/factory/lag_ms.

The example's sinks run too (issue 13): the factory writes every average and
threshold reading to a real VictoriaMetrics through its influx bridge, and
corporate produces everything it gets to librdkafka's mock Kafka cluster.
Corporate is never down, so Kafka holds exactly what corporate received,
duplicates included, each MQTT topic's messages in their order under its key;
VictoriaMetrics, fed by the factory that was killed, has every window (on its
start time) and every threshold reading of the edge, re-sent copies counted."""

import json
import os
import threading
import time
import urllib.request

import paho.mqtt.client as mqtt
import pytest

import brokerproc
from bridgeload import Subscriber, V5
from common import wait_until
from kafkapeer import KafkaMock
from tsdbpeer import VictoriaMetrics

pytestmark = pytest.mark.skipif(brokerproc.KIND != "strata", reason="bridges are a strata feature")

EXAMPLE = os.path.join(brokerproc.REPO, "etc", "examples", "chain")
WINDOW_S = 2
THRESHOLD = 80
SENSORS = ["s%d" % i for i in range(1, 9)]
TOPIC = "acme/berlin/press/line1/%s/temperature"
PER_SENSOR = 1600         # readings per sensor at most
RATE = 320                # readings per second, all sensors together
SECONDS = 40              # the publisher stops after this, whatever it sent
OUTAGE_S = 30


def value_of(i):
    """Reading i of a sensor: every tenth above the threshold; all distinct,
    so a window's first/last readings name their place in the sequence."""
    return (100 if i % 10 == 7 else 20) + i / 1000.0


def index_of(v):
    """The i of value_of(i)."""
    return int(round(v * 1000)) - (100000 if v >= 100 else 20000)


class ChainNode(brokerproc.Broker):
    """A strata on etc/examples/chain/local/<name>.toml, the file's text with
    `replace` applied; listener, data directory and admin URL come from
    brokerproc's --listen, --data-dir and --admin."""

    def __init__(self, workdir, name):
        super().__init__(workdir, {})
        self.name = name
        self.replace = []

    def command(self):
        cmd = super().command()
        with open(os.path.join(EXAMPLE, "local", self.name + ".toml")) as f:
            text = f.read()
        for old, new in self.replace:
            assert old in text, "%s.toml has no %r" % (self.name, old)
            text = text.replace(old, new)
        with open(self.conf_path, "w") as f:
            f.write(text)
        return cmd


class Readings:
    """Publishes value_of(i) for every sensor, round robin, QoS 1 on one
    connection (a sensor's readings must meet one core's window); records
    which were acknowledged. Bounded by PER_SENSOR per sensor and SECONDS."""

    def __init__(self, port):
        self.sent = {s: 0 for s in SENSORS}
        self._mids = {}
        self._acked = set()
        self._lock = threading.Lock()
        self.c = mqtt.Client(client_id="chain-sensors", protocol=V5)
        self.c.max_inflight_messages_set(1000)
        self.c.max_queued_messages_set(0)
        self.c.on_publish = self._on_publish
        self.c.connect("127.0.0.1", port, 60)
        self.c.loop_start()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _on_publish(self, client, userdata, mid):
        with self._lock:
            self._acked.add(mid)

    def _run(self):
        begin = time.monotonic()
        n = 0
        for i in range(PER_SENSOR):
            for s in SENSORS:
                due = begin + n / RATE
                now = time.monotonic()
                if now - begin > SECONDS:
                    return
                if due > now:
                    time.sleep(due - now)
                info = self.c.publish(TOPIC % s, b"%.3f" % value_of(i), 1)
                with self._lock:
                    self._mids[info.mid] = (s, i)
                self.sent[s] = i + 1
                n += 1

    def acked(self, timeout=30):
        """{sensor: [i, ...]} acknowledged, once all sent are (or timeout)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                done = len(self._acked) >= len(self._mids)
                if done or time.monotonic() > deadline:
                    out = {s: [] for s in SENSORS}
                    for mid, (s, i) in self._mids.items():
                        if mid in self._acked:
                            out[s].append(i)
                    return {s: sorted(v) for s, v in out.items()}
            time.sleep(0.05)

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def bridge_info(node, name):
    with urllib.request.urlopen(node.admin_url + "/api/v1/bridges/" + name, timeout=5) as r:
        body = json.loads(r.read())
    return body.get("data", body)


def messages(sub):
    with sub._lock:
        return [(m.topic, m.payload) for m in sub.messages]


def split(msgs):
    """Corporate's arrivals per sensor: threshold readings (values) and
    window summaries (dicts), each in arrival order, duplicates included."""
    hot = {s: [] for s in SENSORS}
    avg = {s: [] for s in SENSORS}
    for topic, payload in msgs:
        levels = topic.split("/")
        s = levels[4]
        if topic.endswith("/avg"):
            avg[s].append(json.loads(payload))
        else:
            hot[s].append(float(payload))
    return hot, avg


def dedup(items, key):
    """(first occurrences in order, duplicates, distinct items with differing copies)."""
    seen = {}
    out, dups, differing = [], 0, 0
    for x in items:
        k = key(x)
        if k in seen:
            dups += 1
            differing += seen[k] != x
            continue
        seen[k] = x
        out.append(x)
    return out, dups, differing


def windows_complete(sub, acked):
    _, avg = split(messages(sub))
    for s in SENSORS:
        firsts, _, _ = dedup(avg[s], lambda w: w["start"])
        if sum(w["n"] for w in firsts) < len(acked[s]):
            return False
    return True


@pytest.mark.long_outage
def test_chain_factory_killed_under_load_loses_nothing(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    with open(os.path.join(EXAMPLE, "rules", "edge_forward.lua")) as f:
        rule = f.read()
    assert "local WINDOW_SECONDS = 60" in rule and "local THRESHOLD = %d" % THRESHOLD in rule
    (rules / "edge_forward.lua").write_text(rule.replace("local WINDOW_SECONDS = 60",
                                                         "local WINDOW_SECONDS = %d" % WINDOW_S))
    corporate = ChainNode(tmp_path / "corporate", "corporate")
    factory = ChainNode(tmp_path / "factory", "factory")
    edge = ChainNode(tmp_path / "edge", "edge")
    kafka = KafkaMock()
    vm = None
    factory.replace = [("tcp://127.0.0.1:1885", "tcp://127.0.0.1:%d" % corporate.port)]
    corporate.replace = [('brokers = "127.0.0.1:9092"', 'brokers = "%s"' % kafka.bootstrap)]
    edge.replace = [("tcp://127.0.0.1:1884", "tcp://127.0.0.1:%d" % factory.port),
                    ('dir = "etc/examples/chain/rules"', 'dir = "%s"' % rules)]
    nodes = [corporate, factory, edge]
    subs = []
    readings = None
    sysc = None
    sys_seen = []             # lag_ms / queued values while the factory is down
    down = threading.Event()
    try:
        kafka.cmd("topic acme.temperature 4 3")
        vm = VictoriaMetrics(tmp_path).start()
        factory.replace.append(('url = "http://127.0.0.1:8428"', 'url = "%s"' % vm.url))
        for n in nodes:
            n.start()
        wait_until(lambda: "factory: connected" in edge.log and "corporate: connected" in factory.log, 15,
                   what="both bridges connected")
        at_corporate = Subscriber(corporate.port, "acme/#", "corporate-sub")
        subs.append(at_corporate)
        raw_at_edge = Subscriber(edge.port, "acme/+/+/+/+/temperature", "edge-local-sub")
        subs.append(raw_at_edge)

        sysc = mqtt.Client(client_id="edge-sys", protocol=V5)  # QoS 0, no session
        sysc.on_message = lambda c, u, m: down.is_set() and sys_seen.append((m.topic, m.payload))
        sysc.connect("127.0.0.1", edge.port, 60)
        sysc.subscribe([("$SYS/bridges/factory/lag_ms", 0), ("$SYS/bridges/factory/queued/messages", 0)])
        sysc.loop_start()

        readings = Readings(edge.port)
        readings.thread.start()
        time.sleep(5)          # the chain runs under load for a while
        factory.kill()
        down.set()
        killed = time.monotonic()
        # The edge shows the outage: its outbox to the factory grows and the
        # lag appears in the API and in $SYS (every 2 s).
        wait_until(lambda: bridge_info(edge, "factory")["queued_messages"] > 0, 10, interval=0.2,
                   what="queued messages on the edge")
        wait_until(lambda: any(t.endswith("lag_ms") and int(p) > 0 for t, p in sys_seen)
                   and any(t.endswith("queued/messages") and int(p) > 0 for t, p in sys_seen), 15, interval=0.2,
                   what="$SYS/bridges/factory/lag_ms and queued/messages above 0 on the edge")
        info = bridge_info(edge, "factory")
        assert info["state"] != "connected"
        assert info["oldest_unacknowledged_age_ms"] > 0
        left = OUTAGE_S - (time.monotonic() - killed)
        if left > 0:
            time.sleep(left)   # the rest of the outage
        down.clear()
        factory.start()

        readings.thread.join(SECONDS + 30)
        acked = readings.acked()
        total = sum(len(v) for v in acked.values())
        assert total == sum(readings.sent.values()), "the edge acknowledged every reading"
        assert total > 0
        wait_until(lambda: windows_complete(at_corporate, acked), 60, interval=0.2,
                   what="every window's average at corporate")
        expected_hot = {s: [value_of(i) for i in acked[s] if value_of(i) > THRESHOLD] for s in SENSORS}
        wait_until(lambda: all(set(split(messages(at_corporate))[0][s]) >= set(expected_hot[s]) for s in SENSORS),
                   60, interval=0.2, what="every threshold reading at corporate")
        wait_until(lambda: bridge_info(edge, "factory")["queued_messages"] == 0
                   and bridge_info(factory, "corporate")["queued_messages"] == 0, 30, interval=0.2,
                   what="both outboxes empty")

        # The factory's tier shows its own lag too (retained $SYS values).
        fsys = []
        fc = mqtt.Client(client_id="factory-sys", protocol=V5)
        fc.on_message = lambda c, u, m: fsys.append(m.topic)
        fc.connect("127.0.0.1", factory.port, 60)
        fc.subscribe("$SYS/bridges/corporate/lag_ms", 0)
        fc.loop_start()
        try:
            wait_until(lambda: fsys, 10, what="$SYS/bridges/corporate/lag_ms on the factory")
        finally:
            fc.disconnect()
            fc.loop_stop()

        hot, avg = split(messages(at_corporate))
        report = {"readings": total, "hot_expected": 0, "hot_duplicates": 0, "windows": 0,
                  "window_duplicates": 0, "edge_resent": bridge_info(edge, "factory")["resent"],
                  "max_lag_ms_seen": max(int(p) for t, p in sys_seen if t.endswith("lag_ms"))}
        for s in SENSORS:
            # Threshold readings: all acknowledged ones, once each, in order, nothing else.
            firsts, dups, _ = dedup(hot[s], lambda v: v)
            assert firsts == expected_hot[s], s
            report["hot_expected"] += len(expected_hot[s])
            report["hot_duplicates"] += dups
            # Windows: once each (a re-sent copy is the same summary), in
            # order, together covering every acknowledged reading exactly
            # once in sequence, each with the average of its readings.
            wins, dups, differing = dedup(avg[s], lambda w: w["start"])
            assert differing == 0, s
            report["windows"] += len(wins)
            report["window_duplicates"] += dups
            starts = [w["start"] for w in wins]
            assert starts == sorted(starts) and len(set(starts)) == len(starts), s
            seq = acked[s]
            assert seq == list(range(len(seq))), s
            at = 0
            for w in wins:
                assert w["start"] % (WINDOW_S * 1000) == 0 and w["end"] == w["start"] + WINDOW_S * 1000, w
                values = [value_of(i) for i in seq[at:at + w["n"]]]
                assert len(values) == w["n"] > 0, (s, w)
                assert index_of(w["first"]) == seq[at] and index_of(w["last"]) == seq[at + w["n"] - 1], (s, w)
                assert w["avg"] == pytest.approx(sum(values) / len(values), rel=1e-9), (s, w)
                assert w["min"] == pytest.approx(min(values)) and w["max"] == pytest.approx(max(values)), (s, w)
                at += w["n"]
            assert at == len(seq), s
        # Local subscribers of the edge got every reading raw, in order.
        raw = {s: [] for s in SENSORS}
        for topic, payload in messages(raw_at_edge):
            raw[topic.split("/")[4]].append(payload)
        for s in SENSORS:
            assert raw[s] == [b"%.3f" % value_of(i) for i in acked[s]], s
        assert any(t.endswith("/avg") for t, _ in messages(at_corporate))
        report.update(check_sinks(corporate, factory, kafka, vm, messages(at_corporate), acked, expected_hot))
        print("chain, factory SIGKILLed for %d s:" % OUTAGE_S, report)
        assert report["windows"] >= len(SENSORS) * 2
    finally:
        if readings is not None:
            readings.close()
        for c in subs:
            c.close()
        if sysc is not None:
            sysc.disconnect()
            sysc.loop_stop()
        problems = []
        for n in reversed(nodes):
            if n.running():
                n.begin_stop()
        for n in reversed(nodes):
            problems += n.finish_stop()
        if vm is not None:
            vm.stop()
        kafka.close()
    assert problems == [], problems


def check_sinks(corporate, factory, kafka, vm, at_corporate, acked, expected_hot):
    """Kafka behind corporate and VictoriaMetrics behind the factory, once
    the chain has delivered everything: see the module's docstring."""
    wait_until(lambda: bridge_info(corporate, "kafka")["queued_messages"] == 0
               and bridge_info(factory, "timeseries")["queued_messages"] == 0, 60, interval=0.2,
               what="the kafka and timeseries outboxes empty")
    report = {}
    # Kafka: exactly corporate's arrivals (corporate never went down, and
    # the idempotent producer adds no copies of its own), per key in order.
    records = kafka.consume("acme.temperature", n=len(at_corporate))
    assert len(records) == len(at_corporate)
    per_key = {}
    for r in sorted(records, key=lambda r: (r["partition"], r["offset"])):
        per_key.setdefault(r["key"].decode(), []).append(r["value"])
    expected = {}
    for topic, payload in at_corporate:
        expected.setdefault(topic, []).append(payload)
    assert per_key == expected
    for key in per_key:
        assert len({r["partition"] for r in records if r["key"].decode() == key}) == 1, key
    report["kafka_records"] = len(records)

    # VictoriaMetrics: measurement "temperature", a tag per level, the
    # averages at their window's start, threshold readings as "value".
    series = vm.export('{__name__=~"temperature_(avg|n|value)"}')
    by = {}
    for (name, labels), samples in series.items():
        tags = dict(labels)
        assert (tags["enterprise"], tags["site"], tags["area"], tags["line"]) == ("acme", "berlin", "press", "line1")
        by.setdefault((name, tags["sensor"]), []).extend(samples)
    report["tsdb_window_copies"] = report["tsdb_hot_copies"] = 0
    for s in SENSORS:
        seq = acked[s]
        avgs = sorted(by.get(("temperature_avg", s), []))
        counts = dict(by.get(("temperature_n", s), []))
        firsts, dups, _ = dedup(avgs, lambda p: p[0])
        report["tsdb_window_copies"] += dups
        starts = [t for t, _ in firsts]
        assert all(t % (WINDOW_S * 1000) == 0 for t in starts), s
        assert sum(counts[t] for t in starts) == len(seq), s
        at = 0
        for t, avg in firsts:
            values = [value_of(i) for i in seq[at:at + int(counts[t])]]
            assert avg == pytest.approx(sum(values) / len(values), rel=1e-9), (s, t)
            at += len(values)
        hot = [v for _, v in sorted(by.get(("temperature_value", s), []))]
        hot_firsts, dups, _ = dedup(hot, lambda v: v)
        report["tsdb_hot_copies"] += dups
        assert hot_firsts == expected_hot[s], s
    return report


def test_edge_rule_dry_runs_against_the_edge_config():
    """`strata -c edge.toml --rules-test` knows the edge's bridges as emit
    targets: the rule's emits to `factory` are shown, not refused."""
    import subprocess
    r = subprocess.run([brokerproc.strata_bin(), "-c", os.path.join(EXAMPLE, "local", "edge.toml"), "--rules-test",
                        os.path.join(EXAMPLE, "rules", "edge_forward.lua"),
                        "--message", "acme/berlin/press/line1/s1/temperature", "85",
                        "--message", "acme/berlin/press/line1/s1/temperature", "20"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[2] == "  emit factory acme/berlin/press/line1/s1/temperature 85 qos=1"
    assert lines[3] == "  pass acme/berlin/press/line1/s1/temperature 85"
    assert lines[5] == "  pass acme/berlin/press/line1/s1/temperature 20"
    assert lines[7].startswith("  emit factory acme/berlin/press/line1/s1/temperature/avg ")
    avg = json.loads(lines[7].split(" ", 5)[5].rsplit(" qos=", 1)[0])
    assert (avg["n"], avg["avg"], avg["first"], avg["last"], avg["min"], avg["max"]) == (2, 52.5, 85, 20, 20, 85)
    # Without the config the bridge is unknown, and the dry run says so.
    r = subprocess.run([brokerproc.strata_bin(), "--rules-test", os.path.join(EXAMPLE, "rules", "edge_forward.lua"),
                        "--message", "acme/berlin/press/line1/s1/temperature", "85"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "no target named 'factory'" in r.stdout + r.stderr
