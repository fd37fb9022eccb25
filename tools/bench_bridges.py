#!/usr/bin/python3
"""Throughput of the kafka and influx bridges, each beside its ceiling, in
one run on this machine (docs/benchmarks.md has the figures):

  kafka  MQTT -> Strata -> Kafka (librdkafka's mock cluster, 3 brokers,
         acks=all, idempotent) against librdkafka's own producer (kcat -P)
         writing the same number of messages of the same size straight to
         the same cluster. Mosquitto has no Kafka path: there is nothing to
         compare with there.
  influx MQTT -> Strata -> VictoriaMetrics (line protocol over HTTP) against
         curl posting the same points as pre-built batches of 5,000 lines
         over one keep-alive connection.

Publishers: strata-bench (build/release/bin; --pubs closed-loop QoS 1
publishers, 64 in flight each, --count N in all): 64-byte payloads for
Kafka, {"ts":...,"value":....5} for the time series (--payload json);
--publisher mosquitto_pub uses mosquitto_pub -l processes instead (one
message per input line, the earlier figures). A figure is messages (points)
that reached the target per second, from the first publish to the last
confirmation seen at the target, and the broker's CPU seconds per 1,000 of
them. Beside each figure: the CPU per 1,000 of the ceiling tool (kcat,
curl), of the peer (the mock cluster, VictoriaMetrics) and of the
publishers, so that what a 2-core machine spends where can be read off.

--perf DIR records the broker with `perf record --call-graph dwarf`
(cpu-clock; PERF_CALL_GRAPH=fp for frame pointers) during each Strata
phase, into DIR/kafka-<topic>.data and DIR/influx-<measurement>.data (read
them with `perf report -i FILE --no-children`). --repeat N runs
each path N times (ceiling and Strata alternating); --strata-bin BIN,...
alternates several broker builds in each repeat (each row names its build),
for before/after figures taken side by side (strata-bench and
strata-kafka-mock are taken from beside the first; copy a build's bin/
somewhere to keep it as "before"). --callgrind DIR runs the
broker under valgrind's callgrind instead (slow: use --messages 20000) and
adds instructions per message for the whole run and for the adapter's and
the outbox's main functions (inclusive): repeatable where the wall-clock and
CPU figures of a shared machine are not.

  tools/bench_bridges.py [--messages N] [--only kafka|influx] [--pubs N] [--publisher strata-bench|mosquitto_pub]
                         [--perf DIR | --callgrind DIR] [--repeat N] [--strata-bin BIN[,BIN...]]
"""

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import brokerproc  # noqa: E402
from perf_record import PerfRecord  # noqa: E402
from kafkapeer import KafkaMock  # noqa: E402
from tsdbpeer import VictoriaMetrics  # noqa: E402

from confluent_kafka import Consumer, TopicPartition  # noqa: E402

PUBLISHERS = 4
PUBLISHER = "strata-bench"
PERF_DIR = None
CALLGRIND_DIR = None
# Functions whose inclusive instruction counts --callgrind reports per
# message (substrings of callgrind_annotate's names).
CALLGRIND_FUNCS = {
    "kafka": ["KafkaAdapter::produce_pending", "KafkaAdapter::poll()", "RecordMapper::map", "rd_kafka_producev",
              "Bridge::pump", "Bridge::apply_confirms", "Outbox::append", "store::Writer::run",
              "Client::on_read", "rd_kafka_broker_thread_main"],
    "influx": ["InfluxAdapter::deliver", "PointMapper::map", "InfluxAdapter::on_answer", "HttpClient::post",
               "Bridge::pump", "Bridge::apply_confirms", "Outbox::append", "store::Writer::run",
               "Client::on_read"],
}
BENCH_BIN = None  # strata-bench, beside the first broker binary


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def broker_binary(binary, name):
    """The binary to start: itself, or a script running it under callgrind."""
    if not CALLGRIND_DIR:
        return binary
    os.makedirs(CALLGRIND_DIR, exist_ok=True)
    out = os.path.join(CALLGRIND_DIR, name + ".callgrind")
    script = os.path.join(CALLGRIND_DIR, name + ".sh")
    with open(script, "w") as f:
        f.write("#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file=%s %s \"$@\"\n" % (out, binary))
    os.chmod(script, 0o755)
    return script


def callgrind_costs(name, kind, n):
    """Instructions per message: the whole broker run and the functions of CALLGRIND_FUNCS (inclusive)."""
    if not CALLGRIND_DIR:
        return {}
    out = os.path.join(CALLGRIND_DIR, name + ".callgrind")
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", out],
                          capture_output=True, text=True, check=True).stdout
    costs = {}
    total = 0
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+)\s+(?:\([\d.]+%\)\s+)?(.*)$", line)
        if not m:
            continue
        ir, what = int(m.group(1).replace(",", "")), m.group(2)
        if "PROGRAM TOTALS" in what:
            total = ir
        for f in CALLGRIND_FUNCS[kind]:
            if f in what and f not in costs:
                costs[f] = ir
    res = {"Ir_per_msg_whole_run": round(total / n)}
    res.update({"Ir_per_msg " + f: round(v / n) for f, v in costs.items()})
    return res


def Perf(pid, name):
    """perf record with DWARF call graphs on a process until stopped (nothing when PERF_DIR is unset)."""
    return PerfRecord(PERF_DIR, pid, name, ["--call-graph", os.environ.get("PERF_CALL_GRAPH", "dwarf,16384")])


def strata_bench(port, n, topic, json_payload=False):
    """n QoS 1 messages on TOPIC/p<i>, PUBLISHERS closed-loop publishers."""
    binary = BENCH_BIN
    cmd = [binary, "pub", "--url", "tcp://127.0.0.1:%d" % port, "--pubs", str(PUBLISHERS), "--qos", "1",
           "--window", "64", "--count", str(n), "--duration", "600", "--topic", topic]
    if json_payload:
        cmd += ["--payload", "json"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    res = json.loads([ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1])
    if res["unacked"] or res["errors"]:
        raise RuntimeError("strata-bench: %s" % out.stdout)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class KafkaCounter:
    """Messages appended to a topic: the sum of its partitions' high
    watermarks, asked of the cluster by one consumer kept for the whole run
    (a new one per look would take longer than the runs). Not high - low:
    the mock cluster keeps at most 5 MiB per partition and moves the low
    watermark past older batches (a partition with 50,000 of these messages
    is past that), which looked like messages missing."""

    def __init__(self, boot):
        self.c = Consumer({"bootstrap.servers": boot, "group.id": "bench"})
        self.partitions = {}

    def __call__(self, topic):
        if topic not in self.partitions:
            md = self.c.list_topics(topic, timeout=10)
            self.partitions[topic] = sorted(md.topics[topic].partitions)
        return sum(self.c.get_watermark_offsets(TopicPartition(topic, p), timeout=10, cached=False)[1]
                   for p in self.partitions[topic])

    def close(self):
        self.c.close()


def wait_count(count, n, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = count()
        if got >= n:
            return time.monotonic()
        time.sleep(0.01)
    raise RuntimeError("only %d of %d arrived" % (count(), n))


def publish_files(port, files):
    procs = [subprocess.Popen(["mosquitto_pub", "-p", str(port), "-q", "1", "-t", topic, "-l"],
                              stdin=open(path, "rb")) for topic, path in files]
    for p in procs:
        if p.wait() != 0:
            raise RuntimeError("mosquitto_pub failed")


def publish(port, n, topic, json_payload=False):
    """n messages on TOPIC/p<i>; returns the publishers' CPU seconds."""
    c0 = children_cpu()
    if PUBLISHER == "strata-bench":
        strata_bench(port, n, topic, json_payload)
    else:
        raise RuntimeError("publish() is for strata-bench; see publish_files")
    return children_cpu() - c0


def per_1000(seconds, n):
    return round(1e6 * seconds / n, 2)


def kafka_raw(work, k, n, topic):
    """kcat -P of n 64-byte messages keyed like the MQTT topics."""
    k.cmd("topic %s 3 3" % topic)
    raw = os.path.join(work, "raw.txt")
    with open(raw, "w") as f:
        for i in range(n):
            f.write("bench/p%d:%s\n" % (i % PUBLISHERS, "x" * 64))
    peer0, c0 = cpu_seconds(k.proc.pid), children_cpu()
    t0 = time.monotonic()
    subprocess.run(["kcat", "-P", "-b", k.bootstrap, "-t", topic, "-K:", "-l", "-X", "acks=all",
                    "-X", "enable.idempotence=true", "-X", "linger.ms=5", raw], check=True)
    c1 = children_cpu()
    t = wait_count(lambda: k.counter(topic), n) - t0
    return {"path": "kcat -P", "msgs_per_s": round(n / t), "tool_cpu_ms_per_1000": per_1000(c1 - c0, n),
            "peer_cpu_ms_per_1000": per_1000(cpu_seconds(k.proc.pid) - peer0, n)}


def kafka_strata(work, k, n, binary, topic):
    k.cmd("topic %s 3 3" % topic)
    files = []
    for p in range(PUBLISHERS):
        path = os.path.join(work, "pub%d.txt" % p)
        with open(path, "w") as f:
            f.write(("x" * 64 + "\n") * (n // PUBLISHERS))
        files.append((topic + "/p%d" % p, path))
    total = PUBLISHERS * (n // PUBLISHERS) if PUBLISHER != "strata-bench" else n
    os.environ["STRATA_BIN"] = broker_binary(binary, "kafka-" + topic)
    b = brokerproc.Broker(os.path.join(work, "kafka-broker-" + topic), {"bridge": [{
        "name": "bench", "type": "kafka", "brokers": k.bootstrap, "topic": topic,
        "rdkafka": {"linger.ms": 5}, "route": [{"direction": "out", "filter": topic + "/#"}]}]},
        log_level="warn").start(timeout=120 if CALLGRIND_DIR else 10)
    try:
        perf = Perf(b.proc.pid, "kafka-" + topic)
        cpu0, peer0 = cpu_seconds(b.proc.pid), cpu_seconds(k.proc.pid)
        t0 = time.monotonic()
        if PUBLISHER == "strata-bench":
            pub_cpu = publish(b.port, total, topic)
        else:
            c0 = children_cpu()
            publish_files(b.port, files)
            pub_cpu = children_cpu() - c0
        t = wait_count(lambda: k.counter(topic), total) - t0
        cpu = cpu_seconds(b.proc.pid) - cpu0
        perf.stop()
    finally:
        b.stop(timeout=120 if CALLGRIND_DIR else 10)
    row = {"path": "strata", "bin": binary, "msgs_per_s": round(total / t), "strata_cpu_ms_per_1000": per_1000(cpu, total),
           "pub_cpu_ms_per_1000": per_1000(pub_cpu, total),
           "peer_cpu_ms_per_1000": per_1000(cpu_seconds(k.proc.pid) - peer0, total)}
    row.update(callgrind_costs("kafka-" + topic, "kafka", total))
    return row


def bench_kafka(work, n, bins, repeat):
    rows = []
    with KafkaMock(brokers=3) as k:
        k.counter = KafkaCounter(k.bootstrap)
        for r in range(repeat):
            raw = kafka_raw(work, k, n, "raw%d" % r)
            rows.append(raw)
            print("kafka:", raw, flush=True)
            for i, binary in enumerate(bins):
                row = kafka_strata(work, k, n, binary, "bench%dx%d" % (r, i))
                row["ratio"] = round(row["msgs_per_s"] / raw["msgs_per_s"], 3)
                rows.append(row)
                print("kafka:", row, flush=True)
        k.counter.close()
    return rows


def vm_count(vm, metric):
    urllib.request.urlopen(vm.url + "/internal/force_flush", timeout=10).read()
    q = urllib.parse.urlencode({"query": "count_over_time(%s[1y])" % metric})
    with urllib.request.urlopen(vm.url + "/api/v1/query?" + q, timeout=30) as r:
        res = json.loads(r.read())["data"]["result"]
    return sum(int(float(s["value"][1])) for s in res)


def influx_raw(work, vm, n, base, name):
    """curl of the same points as pre-built 5,000-line batches over one connection."""
    batches = []
    lines = ["%s,p=p%d value=%d.5 %d" % (name, i % PUBLISHERS, i, base + i) for i in range(n)]
    for k in range(0, n, 5000):
        path = os.path.join(work, "batch%d.txt" % k)
        with open(path, "w") as f:
            f.write("\n".join(lines[k:k + 5000]) + "\n")
        batches.append(path)
    cmd = ["curl", "-sS", "--fail"]
    for i, path in enumerate(batches):
        if i:
            cmd.append("--next")
        cmd += ["--data-binary", "@" + path, vm.url + "/write?db=bench&precision=ms"]
    peer0, c0 = cpu_seconds(vm.proc.pid), children_cpu()
    t0 = time.monotonic()
    subprocess.run(cmd, check=True)
    c1 = children_cpu()
    t = wait_count(lambda: vm_count(vm, name + "_value"), n) - t0
    return {"path": "curl", "points_per_s": round(n / t), "tool_cpu_ms_per_1000": per_1000(c1 - c0, n),
            "peer_cpu_ms_per_1000": per_1000(cpu_seconds(vm.proc.pid) - peer0, n)}


def influx_strata(work, vm, n, base, binary, name):
    os.environ["STRATA_BIN"] = broker_binary(binary, "influx-" + name)
    b = brokerproc.Broker(os.path.join(work, "influx-broker-" + name), {"bridge": [{
        "name": "bench", "type": "influx", "url": vm.url, "database": "bench", "measurement": "{1}",
        "tags": {"p": "{2}"}, "timestamp_field": "ts",
        "route": [{"direction": "out", "filter": name + "/#"}]}]},
        log_level="warn").start(timeout=120 if CALLGRIND_DIR else 10)
    try:
        files = []
        per = n // PUBLISHERS
        for p in range(PUBLISHERS):
            path = os.path.join(work, "json%d.txt" % p)
            with open(path, "w") as f:
                for i in range(per):
                    f.write('{"ts":%d,"value":%d.5}\n' % (base + i, i))
            files.append((name + "/p%d" % p, path))
        total = PUBLISHERS * per if PUBLISHER != "strata-bench" else n
        perf = Perf(b.proc.pid, "influx-" + name)
        cpu0, peer0 = cpu_seconds(b.proc.pid), cpu_seconds(vm.proc.pid)
        t0 = time.monotonic()
        if PUBLISHER == "strata-bench":
            pub_cpu = publish(b.port, total, name, json_payload=True)
        else:
            c0 = children_cpu()
            publish_files(b.port, files)
            pub_cpu = children_cpu() - c0
        t = wait_count(lambda: vm_count(vm, name + "_value"), total) - t0
        cpu = cpu_seconds(b.proc.pid) - cpu0
        perf.stop()
    finally:
        b.stop(timeout=120 if CALLGRIND_DIR else 10)
    row = {"path": "strata", "bin": binary, "points_per_s": round(total / t),
           "strata_cpu_ms_per_1000": per_1000(cpu, total), "pub_cpu_ms_per_1000": per_1000(pub_cpu, total),
           "peer_cpu_ms_per_1000": per_1000(cpu_seconds(vm.proc.pid) - peer0, total)}
    row.update(callgrind_costs("influx-" + name, "influx", total))
    return row


def bench_influx(work, n, bins, repeat):
    base = int(time.time() * 1000) - 3_600_000
    rows = []
    vm = VictoriaMetrics(os.path.join(work, "vm"), "-search.latencyOffset", "0s").start()
    try:
        for r in range(repeat):
            raw = influx_raw(work, vm, n, base, "raw%d" % r)
            rows.append(raw)
            print("influx:", raw, flush=True)
            for i, binary in enumerate(bins):
                row = influx_strata(work, vm, n, base, binary, "bench%dx%d" % (r, i))
                row["ratio"] = round(row["points_per_s"] / raw["points_per_s"], 3)
                rows.append(row)
                print("influx:", row, flush=True)
    finally:
        vm.stop()
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--only", choices=["kafka", "influx"])
    ap.add_argument("--pubs", type=int, default=20)
    ap.add_argument("--publisher", choices=["strata-bench", "mosquitto_pub"], default="strata-bench")
    ap.add_argument("--perf", metavar="DIR")
    ap.add_argument("--callgrind", metavar="DIR")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--strata-bin", metavar="BIN[,BIN...]")
    args = ap.parse_args()
    global PUBLISHERS, PUBLISHER, PERF_DIR, BENCH_BIN, CALLGRIND_DIR
    PUBLISHERS, PUBLISHER, PERF_DIR = args.pubs, args.publisher, args.perf
    CALLGRIND_DIR = args.callgrind and os.path.abspath(args.callgrind)
    bins = [os.path.abspath(b) for b in args.strata_bin.split(",")] if args.strata_bin else [brokerproc.strata_bin()]
    BENCH_BIN = os.path.join(os.path.dirname(bins[0]), "strata-bench")
    os.environ["STRATA_BIN"] = bins[0]  # the mock cluster's binary too
    out = {}
    with tempfile.TemporaryDirectory() as work:
        if args.only in (None, "kafka"):
            out["kafka"] = bench_kafka(work, args.messages, bins, args.repeat)
        if args.only in (None, "influx"):
            out["influx"] = bench_influx(work, args.messages, bins, args.repeat)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
