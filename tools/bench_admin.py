#!/usr/bin/python3
"""What the admin API costs MQTT traffic: GET /api/v1/clients?limit=100
with 10,000 connected clients while a fan-in QoS 0 load runs.

    tools/bench_admin.py [--preset release] [--clients 10000] [--repeat 3]
                         [--duration 5] [--api-rate 0]

Starts its own broker (pinned to core 0) with the admin API on a free
loopback port, opens --clients idle MQTT connections with `strata-bench
conn`, then runs `strata-bench fanin --pubs 20 --subs 1 --qos 0 --size 64
--window 64` (pinned to core 1) --repeat times without API calls and
--repeat times with them, alternating. During a run "with API", one HTTP
keep-alive connection asks GET /api/v1/clients?limit=100 back to back
(--api-rate 0) or at --api-rate requests per second, bounded by the run's
duration and 100,000 requests. Prints, per kind, the median received msg/s
and the drop in percent, and the API latency p50/p99/max over all "with
API" runs. Results: docs/benchmarks.md.
"""

import argparse
import http.client
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import brokerproc  # noqa: E402

MAX_REQUESTS = 100000


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, need)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < need:
        sys.exit("the open-file limit is %d; %d connections need more" % (want, need))


def get_json(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, json.loads(r.read().decode())
    finally:
        c.close()


def api_load(port, stop, rate, latencies, errors):
    """GET /clients?limit=100 until `stop`, on one keep-alive connection."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    period = 1.0 / rate if rate > 0 else 0.0
    next_at = time.monotonic()
    while not stop.is_set() and len(latencies) < MAX_REQUESTS:
        if period:
            delay = next_at - time.monotonic()
            if delay > 0 and stop.wait(delay):
                break
            next_at += period
        t0 = time.perf_counter()
        c.request("GET", "/api/v1/clients?limit=100")
        r = c.getresponse()
        body = r.read()
        latencies.append(time.perf_counter() - t0)
        if r.status != 200 or len(json.loads(body)["data"]) != 100:
            errors.append(r.status)
    c.close()


def fanin(bench, port, duration, broker_pid):
    cmd = ["taskset", "-c", "1", bench, "fanin", "--url", "tcp://127.0.0.1:%d" % port, "--pubs", "20", "--subs", "1",
           "--qos", "0", "--size", "64", "--window", "64", "--duration", str(duration), "--warmup", "1",
           "--topic", "bench-admin", "--broker-pid", str(broker_pid)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    if r.returncode != 0:
        sys.exit("strata-bench fanin failed (%d): %s" % (r.returncode, r.stderr or r.stdout))
    return json.loads(r.stdout.strip().splitlines()[-1])


def pct(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="release")
    ap.add_argument("--clients", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--api-rate", type=float, default=0.0, help="requests per second; 0: back to back")
    a = ap.parse_args()
    if not (1 <= a.clients <= 15000 and 1 <= a.repeat <= 10 and 1 <= a.duration <= 60):
        sys.exit("--clients 1..15000, --repeat 1..10, --duration 1..60")
    raise_nofile(a.clients + 1000)  # the broker and strata-bench inherit it
    strata = os.path.join(ROOT, "build", a.preset, "bin", "strata")
    bench = os.path.join(ROOT, "build", a.preset, "bin", "strata-bench")
    os.environ["STRATA_BIN"] = strata

    with tempfile.TemporaryDirectory() as work:
        b = brokerproc.Broker(work, {}, log_level="warn")
        b.start()
        # Every broker thread (cores, store writer, admin) on core 0; this
        # script and strata-bench on core 1, as tools/bench.sh does.
        subprocess.run(["taskset", "-a", "-pc", "0", str(b.proc.pid)], check=True, capture_output=True)
        os.sched_setaffinity(0, {1})
        idle = subprocess.Popen(["taskset", "-c", "1", bench, "conn", "--url", "tcp://127.0.0.1:%d" % b.port,
                                 "--conns", str(a.clients), "--conn-window", "200", "--topic", "bench-idle",
                                 "--duration", str(a.repeat * 2 * (a.duration + 8) + 60)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 120
            while True:
                status, body = get_json(b.admin_port, "/api/v1/status")
                if status == 200 and body["connections"] >= a.clients:
                    break
                if time.monotonic() > deadline or idle.poll() is not None:
                    sys.exit("only %s of %d clients connected" % (body.get("connections"), a.clients))
                time.sleep(0.5)
            rates = {"without": [], "with": []}
            latencies, errors = [], []
            for i in range(a.repeat):
                for kind in ("without", "with"):
                    stop = threading.Event()
                    t = None
                    if kind == "with":
                        t = threading.Thread(target=api_load,
                                             args=(b.admin_port, stop, a.api_rate, latencies, errors))
                        t.start()
                    r = fanin(bench, b.port, a.duration, b.proc.pid)
                    stop.set()
                    if t:
                        t.join(timeout=60)
                    if r.get("lost") or r.get("errors"):
                        print("run %d %s: lost %s errors %s" % (i, kind, r.get("lost"), r.get("errors")))
                    rates[kind].append(r["recv_rate"])
                    print("run %d %-7s API: %10.0f msg/s received" % (i, kind, r["recv_rate"]), flush=True)
        finally:
            idle.terminate()
            idle.wait(timeout=30)
            b.stop()
    base, loaded = statistics.median(rates["without"]), statistics.median(rates["with"])
    result = {
        "clients": a.clients, "repeat": a.repeat, "duration_s": a.duration, "api_rate": a.api_rate,
        "recv_rate_without_api": base, "recv_rate_with_api": loaded,
        "drop_percent": round(100.0 * (base - loaded) / base, 2),
        "api_requests": len(latencies), "api_errors": len(errors),
        "api_p50_ms": round(pct(latencies, 0.50) * 1000, 2) if latencies else None,
        "api_p99_ms": round(pct(latencies, 0.99) * 1000, 2) if latencies else None,
        "api_max_ms": round(max(latencies) * 1000, 2) if latencies else None,
    }
    print("median without API %.0f msg/s, with API %.0f msg/s: %.2f %% drop; %d requests, p50 %s ms, p99 %s ms"
          % (base, loaded, result["drop_percent"], len(latencies), result["api_p50_ms"], result["api_p99_ms"]))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
