#!/usr/bin/python3
"""Pull mode (issue 12, bridge sessions): a puller with a persistent
session on the edge, named by [[bridge_session]], goes away while N QoS 1
messages queue for it (far more than max_queued_messages), then comes back.
Prints the time to queue them, the edge's VmRSS with the backlog, the time
to drain it to the puller, and the edge's peak VmRSS while draining
(docs/benchmarks.md has the figures).

Publishers are paho clients (tests/integration/bridgeload.py: QoS 1, 1,000
in flight each, counting what the edge acknowledged); the puller is
`mosquitto_sub -c -x 3600 -q 1 -C N`, which exits once it has the N
acknowledged messages.

  tools/bench_pull.py [--messages N] [--durability sync|batch|none]
                      [--write-queue-bytes N]   # [store] write_queue_bytes
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import brokerproc  # noqa: E402
from bridgeload import Publisher  # noqa: E402

PUBLISHERS = 10


def status_kb(pid, field="VmRSS"):
    """A kB figure of /proc/PID/status (VmRSS, RssAnon, ...)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class PeakSampler:
    """The highest status_kb(pid, field) between start() and stop(), sampled every 0.1 s."""

    def __init__(self, pid, field="VmRSS", floor=0):
        self.pid, self.field, self.peak = pid, field, floor
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self):
        while not self._done.wait(0.1):
            self.peak = max(self.peak, status_kb(self.pid, self.field))

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._done.set()
        self._thread.join()
        return self.peak


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=500000)
    ap.add_argument("--durability", default="batch")
    ap.add_argument("--write-queue-bytes", type=int, default=None)
    args = ap.parse_args()
    n = args.messages - args.messages % PUBLISHERS
    with tempfile.TemporaryDirectory() as tmp:
        store = {"durability": args.durability}
        if args.write_queue_bytes is not None:
            store["write_queue_bytes"] = args.write_queue_bytes
        edge = brokerproc.Broker(tmp, {"store": store,
                                       "limits": {"max_queued_messages": 1000},
                                       "bridge_session": [{"client_id": "factory-*", "max_messages": 100000000}]})
        edge.start()
        try:
            sub = ["mosquitto_sub", "-h", edge.host, "-p", str(edge.port), "-V", "5", "-i", "factory-1", "-c",
                   "-x", "3600", "-q", "1", "-t", "plant/#"]
            subprocess.run(sub + ["-W", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            rss_idle = status_kb(edge.proc.pid)
            fill_sampler = PeakSampler(edge.proc.pid, floor=rss_idle).start()
            begin = time.monotonic()
            pubs = [Publisher(edge.port, "plant/line%d/temp" % i, "p%d" % i, rate=10**9, count=n // PUBLISHERS,
                              seconds=600).start() for i in range(PUBLISHERS)]
            acked = 0
            for p in pubs:
                p.join(600)
                acked += len(p.wait_acked(600))
                p.close()
            queued_s = time.monotonic() - begin
            fill_peak = fill_sampler.stop()
            rss_backlog = status_kb(edge.proc.pid)
            sampler = PeakSampler(edge.proc.pid, floor=rss_backlog).start()
            begin = time.monotonic()
            got = subprocess.run(sub + ["-C", str(acked)], stdout=subprocess.PIPE).stdout.count(b"\n")
            drain_s = time.monotonic() - begin
            peak = sampler.stop()
            print("messages %d (acknowledged %d), durability %s" % (n, acked, args.durability))
            print("queued in %.1f s (%.0f msg/s); edge VmRSS idle %d MB, peak while queueing %d MB, with the "
                  "backlog %d MB" % (queued_s, n / queued_s, rss_idle // 1024, fill_peak // 1024, rss_backlog // 1024))
            print("drained %d in %.1f s (%.0f msg/s); edge peak VmRSS while draining %d MB"
                  % (got, drain_s, got / drain_s, peak // 1024))
        finally:
            edge.stop()
            with open(edge.logs[-1], errors="replace") as f:
                held = [line.rstrip() for line in f if "behind" in line]
            print("writer behind (log lines): %d%s" % (len(held), "".join("\n  " + h for h in held[:3])))


if __name__ == "__main__":
    main()
