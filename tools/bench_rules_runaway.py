#!/usr/bin/python3
"""What a runaway rule costs everyone else: round-trip times of other
clients while a rule spins (`while true do end`) on every message of one
publisher, against the same broker without that traffic.

    STRATA_BIN=build/release/bin/strata tools/bench_rules_runaway.py [PINGS] [SPINS_PER_S]

Starts its own broker on a free loopback port with one rule, spin.lua
(`topics = "spin/#"`, an endless loop; fault_limit high so it is never
disabled). Two ping clients (on the broker's two cores when it has two:
connections are spread over the cores) each publish PINGS messages
(default 300, at most 5,000) QoS 0 to a topic they subscribe to, one
after the other, and time each round trip. First without, then with a
third client publishing SPINS_PER_S (default 20, at most 200) messages a
second to spin/x, each of which runs the rule into its instruction
budget. Prints p50 and p99 per client and phase, and the broker's CPU
time. Results: docs/rules.md (Performance).
"""

import os
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

import brokerproc  # noqa: E402
import pahoc  # noqa: E402
from bench_login import cpu_seconds  # noqa: E402  (a process's CPU time from /proc)

SPIN = 'topics = "spin/#"\nfunction on_message(msg) while true do end end\n'


def quantile(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


def ping_times(client, topic, pings):
    out = []
    for i in range(pings):
        t0 = time.perf_counter()
        client.publish(topic, str(i).encode(), qos=0, wait=False)
        m = client.wait_message(timeout=10)
        assert m.payload == str(i).encode(), m
        out.append((time.perf_counter() - t0) * 1000)
        time.sleep(0.005)
    return out


def run_phase(pingers, pings):
    results = [None] * len(pingers)

    def worker(k):
        results[k] = ping_times(pingers[k], "ping/%d" % k, pings)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(len(pingers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    return results


def main():
    pings = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    rate = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    if not 1 <= pings <= 5000 or not 1 <= rate <= 200:
        sys.exit("PINGS must be in 1..5000 and SPINS_PER_S in 1..200")
    with tempfile.TemporaryDirectory() as tmp:
        rules = os.path.join(tmp, "rules")
        os.makedirs(rules)
        with open(os.path.join(rules, "spin.lua"), "w") as f:
            f.write(SPIN)
        b = brokerproc.Broker(tmp, {"rules": {"dir": rules, "fault_limit": 1000000}}, log_level="error")
        b.start()
        try:
            pingers = []
            for k in range(2):
                c = pahoc.PahoClient(b.host, b.port, "pinger-%d" % k, pahoc.V5, True)
                b.clients.append(c)
                c.connect()
                c.subscribe("ping/%d" % k, qos=0)
                pingers.append(c)
            print("broker %s, %d pings per client" % (brokerproc.strata_bin(), pings))
            for phase in ("quiet", "spinning"):
                stop = threading.Event()
                spinner = None
                if phase == "spinning":
                    s = pahoc.PahoClient(b.host, b.port, "spinner", pahoc.V5, True)
                    b.clients.append(s)
                    s.connect()

                    def spin():
                        n = 0
                        while not stop.is_set() and n < rate * 600:
                            s.publish("spin/x", b"x", qos=0, wait=False)
                            n += 1
                            time.sleep(1.0 / rate)

                    spinner = threading.Thread(target=spin)
                    spinner.start()
                    time.sleep(0.5)
                cpu0, t0 = cpu_seconds(b.proc.pid), time.monotonic()
                results = run_phase(pingers, pings)
                cpu, wall = cpu_seconds(b.proc.pid) - cpu0, time.monotonic() - t0
                stop.set()
                if spinner:
                    spinner.join(timeout=10)
                for k, times in enumerate(results):
                    print("%-9s pinger %d  p50 %6.2f ms  p99 %6.2f ms" % (phase, k, quantile(times, 0.5),
                                                                        quantile(times, 0.99)))
                extra = " (%d spins/s)" % rate if phase == "spinning" else ""
                print("%-9s broker CPU %.0f %% of one core%s" % (phase, 100 * cpu / wall, extra))
        finally:
            b.close_clients()
            b.stop()


if __name__ == "__main__":
    main()
