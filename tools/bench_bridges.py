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
them.

  tools/bench_bridges.py [--messages N] [--only kafka|influx] [--pubs N] [--publisher strata-bench|mosquitto_pub]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import brokerproc  # noqa: E402
from kafkapeer import KafkaMock  # noqa: E402
from tsdbpeer import VictoriaMetrics  # noqa: E402

from confluent_kafka import Consumer, TopicPartition  # noqa: E402

PUBLISHERS = 4
PUBLISHER = "strata-bench"


def strata_bench(port, n, topic, json_payload=False):
    """n QoS 1 messages on TOPIC/p<i>, PUBLISHERS closed-loop publishers."""
    binary = os.path.join(os.path.dirname(brokerproc.strata_bin()), "strata-bench")
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


def kafka_count(boot, topic):
    c = Consumer({"bootstrap.servers": boot, "group.id": "bench"})
    try:
        md = c.list_topics(topic, timeout=10)
        total = 0
        for p in md.topics[topic].partitions:
            lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            total += hi - lo
        return total
    finally:
        c.close()


def wait_count(count, n, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = count()
        if got >= n:
            return time.monotonic()
        time.sleep(0.05)
    raise RuntimeError("only %d of %d arrived" % (count(), n))


def publish_files(port, files):
    procs = [subprocess.Popen(["mosquitto_pub", "-p", str(port), "-q", "1", "-t", topic, "-l"],
                              stdin=open(path, "rb")) for topic, path in files]
    for p in procs:
        if p.wait() != 0:
            raise RuntimeError("mosquitto_pub failed")


def bench_kafka(work, n):
    with KafkaMock(brokers=3) as k:
        k.cmd("topic raw 3 3")
        k.cmd("topic bench 3 3")
        payload = "x" * 64
        raw = os.path.join(work, "raw.txt")
        with open(raw, "w") as f:
            for i in range(n):
                f.write("bench/p%d:%s\n" % (i % PUBLISHERS, payload))
        t0 = time.monotonic()
        subprocess.run(["kcat", "-P", "-b", k.bootstrap, "-t", "raw", "-K:", "-l", "-X", "acks=all",
                        "-X", "enable.idempotence=true", "-X", "linger.ms=5", raw], check=True)
        t_raw = wait_count(lambda: kafka_count(k.bootstrap, "raw"), n) - t0

        b = brokerproc.Broker(os.path.join(work, "kafka-broker"), {"bridge": [{
            "name": "bench", "type": "kafka", "brokers": k.bootstrap, "topic": "bench",
            "rdkafka": {"linger.ms": 5}, "route": [{"direction": "out", "filter": "bench/#"}]}]},
            log_level="warn").start()
        try:
            files = []
            for p in range(PUBLISHERS):
                path = os.path.join(work, "pub%d.txt" % p)
                with open(path, "w") as f:
                    f.write((payload + "\n") * (n // PUBLISHERS))
                files.append(("bench/p%d" % p, path))
            cpu0 = cpu_seconds(b.proc.pid)
            t0 = time.monotonic()
            total = PUBLISHERS * (n // PUBLISHERS)
            if PUBLISHER == "strata-bench":
                strata_bench(b.port, total, "bench")
            else:
                publish_files(b.port, files)
            t_strata = wait_count(lambda: kafka_count(k.bootstrap, "bench"), total) - t0
            cpu = cpu_seconds(b.proc.pid) - cpu0
        finally:
            b.stop()
    return {"raw_msgs_per_s": round(n / t_raw), "strata_msgs_per_s": round(total / t_strata),
            "strata_ratio": round((total / t_strata) / (n / t_raw), 3),
            "strata_cpu_ms_per_1000": round(1e6 * cpu / total, 2), "messages": total}


def vm_count(vm, metric):
    urllib.request.urlopen(vm.url + "/internal/force_flush", timeout=10).read()
    q = urllib.parse.urlencode({"query": "count_over_time(%s[1y])" % metric})
    with urllib.request.urlopen(vm.url + "/api/v1/query?" + q, timeout=30) as r:
        res = json.loads(r.read())["data"]["result"]
    return sum(int(float(s["value"][1])) for s in res)


def bench_influx(work, n):
    base = int(time.time() * 1000) - 3_600_000
    vm = VictoriaMetrics(os.path.join(work, "vm"), "-search.latencyOffset", "0s").start()
    try:
        # The ceiling: the same points as pre-built 5,000-line batches, one curl, one connection.
        batches = []
        lines = ["raw,p=p%d value=%d.5 %d" % (i % PUBLISHERS, i, base + i) for i in range(n)]
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
        t0 = time.monotonic()
        subprocess.run(cmd, check=True)
        t_raw = wait_count(lambda: vm_count(vm, "raw_value"), n) - t0

        b = brokerproc.Broker(os.path.join(work, "influx-broker"), {"bridge": [{
            "name": "bench", "type": "influx", "url": vm.url, "database": "bench", "measurement": "{1}",
            "tags": {"p": "{2}"}, "timestamp_field": "ts",
            "route": [{"direction": "out", "filter": "bench/#"}]}]}, log_level="warn").start()
        try:
            files = []
            per = n // PUBLISHERS
            for p in range(PUBLISHERS):
                path = os.path.join(work, "json%d.txt" % p)
                with open(path, "w") as f:
                    for i in range(per):
                        f.write('{"ts":%d,"value":%d.5}\n' % (base + i, i))
                files.append(("bench/p%d" % p, path))
            cpu0 = cpu_seconds(b.proc.pid)
            t0 = time.monotonic()
            total = PUBLISHERS * per
            if PUBLISHER == "strata-bench":
                strata_bench(b.port, total, "bench", json_payload=True)
            else:
                publish_files(b.port, files)
            t_strata = wait_count(lambda: vm_count(vm, "bench_value"), total) - t0
            cpu = cpu_seconds(b.proc.pid) - cpu0
        finally:
            b.stop()
    finally:
        vm.stop()
    return {"raw_points_per_s": round(n / t_raw), "strata_points_per_s": round(total / t_strata),
            "strata_ratio": round((total / t_strata) / (n / t_raw), 3),
            "strata_cpu_ms_per_1000": round(1e6 * cpu / total, 2), "points": total}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--only", choices=["kafka", "influx"])
    ap.add_argument("--pubs", type=int, default=20)
    ap.add_argument("--publisher", choices=["strata-bench", "mosquitto_pub"], default="strata-bench")
    args = ap.parse_args()
    global PUBLISHERS, PUBLISHER
    PUBLISHERS, PUBLISHER = args.pubs, args.publisher
    out = {}
    with tempfile.TemporaryDirectory() as work:
        if args.only in (None, "kafka"):
            out["kafka"] = bench_kafka(work, args.messages)
            print("kafka:", out["kafka"], flush=True)
        if args.only in (None, "influx"):
            out["influx"] = bench_influx(work, args.messages)
            print("influx:", out["influx"], flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
