#!/usr/bin/python3
"""The writer's queue bound ([store] write_queue_bytes = 1 MiB) with a bridge
session whose puller is away: strata-bench publishes 100,000 QoS 1 messages
of 8 KiB as fast as the edge takes them; prints the edge's peak anonymous RSS
while they queue and how often the log says the writer fell behind
(docs/benchmarks.md, "Pull mode").

  STRATA_BIN=build/release/bin/strata tools/bench_pull_hold.py build/release/bin/strata-bench
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import brokerproc  # noqa: E402
from bench_pull import PeakSampler  # noqa: E402


with tempfile.TemporaryDirectory() as tmp:
    edge = brokerproc.Broker(tmp, {"store": {"durability": "batch", "write_queue_bytes": 1048576},
                                   "limits": {"max_queued_messages": 1000},
                                   "bridge_session": [{"client_id": "factory-*", "max_messages": 100000000,
                                                       "max_bytes": 20000000000}]})
    edge.start()
    try:
        subprocess.run(["mosquitto_sub", "-h", edge.host, "-p", str(edge.port), "-V", "5", "-i", "factory-1", "-c",
                        "-x", "3600", "-q", "1", "-t", "hold/#", "-W", "1"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sampler = PeakSampler(edge.proc.pid, "RssAnon").start()
        r = subprocess.run([sys.argv[1], "pub", "--url", "tcp://127.0.0.1:%d" % edge.port, "--pubs", "8", "--qos", "1",
                            "--size", "8192", "--count", "100000", "--window", "200", "--duration", "120",
                            "--topic", "hold"], capture_output=True, text=True)
        peak = sampler.stop()
        print(r.stdout.strip().splitlines()[-1][:300])
        print("peak anon RSS during fill: %d MB" % (peak // 1024))
    finally:
        edge.stop()
        with open(edge.logs[-1], errors="replace") as f:
            print(sum(1 for line in f if "behind" in line), "behind log lines")
