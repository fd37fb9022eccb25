#!/usr/bin/python3
"""Forwarding over one MQTT bridge, Strata beside Mosquitto, in one run on
this machine (docs/benchmarks.md, "Forwarding over an MQTT bridge", has the
figures and the commands):

  forward  strata-bench publishes --messages QoS 1 messages (20 closed-loop
           publishers, 64 in flight each) into broker A, whose bridge
           forwards them at QoS 1 to broker B, where a strata-bench
           subscriber counts them (QoS 0 subscription, sequence numbers
           checked). A and B are both Strata (an `mqtt` [[bridge]]) or both
           Mosquitto (a `connection` bridge). The figure is the rate at B,
           first message to last; A's acceptance rate and both brokers' CPU
           per message are beside it.
  drain    Strata only: B is down while --backlog messages queue in A's
           outbox, then B starts: the time from the first message reaching
           B to the last (B's own counter), A's RSS before, with the backlog,
           and after. Then the same with --big-backlog messages (the outbox
           keeps a bounded window in memory: RSS is the point).

Every process runs on a free loopback port with its own data directory, the
Strata ones from build/release/bin (or STRATA_BIN's directory). The machine
is shared: the 1-minute load average is printed with every row; a row with
a load above 1.5 is provisional.

  instructions  (only when asked) Strata's A under callgrind at 1,000 msg/s:
           instructions per forwarded message, all of A's threads.

--strata-bin BIN,BIN,... runs the Strata rows (forward, instructions) once
per build, alternating, each row tagged with its binary (the same
strata-bench, the first build's, loads them all; --callgrind DIR keeps
the instructions runs' callgrind files there); --perf DIR records
broker A of every Strata forward run with `perf record -g` (cpu-clock)
into DIR/forward-<build index>-<run>.data.

  tools/bench_forward.py [--messages N] [--backlog N] [--big-backlog N]
                         [--only forward,drain,instructions] [--repeat R] [--brokers strata,mosquitto]
                         [--strata-bin OLD/strata,NEW/strata] [--perf DIR]
"""

import argparse
import getpass
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import brokerproc  # noqa: E402
from perf_record import PerfRecord  # noqa: E402

TOPIC = "strata-bench"
BENCH_DIR = None  # strata-bench's directory (the first --strata-bin's; else bindir())
PERF_DIR = None   # --perf
CALLGRIND_DIR = None  # --callgrind: where the instructions runs' callgrind files are kept
DURABILITY = "batch"  # [store] durability of the Strata brokers (--durability)
MOSQ_INFLIGHT = 1024  # Mosquitto's max_inflight_messages (--mosquitto-inflight)


def bindir():
    b = os.environ.get("STRATA_BIN")
    return os.path.dirname(os.path.abspath(b)) if b else os.path.join(REPO, "build", "release", "bin")


def load():
    return float(open("/proc/loadavg").read().split()[0])


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid, field="VmRSS"):
    """VmRSS, or RssAnon (the heap) / RssFile (mapped files: LMDB's map)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class PeakRss:
    """Samples a process's VmRSS every 50 ms in a thread; .peak in KiB."""

    def __init__(self, pid):
        self.pid, self.peak, self._stop = pid, 0, threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, rss_kib(self.pid))
            except OSError:
                return
            self._stop.wait(0.05)

    def stop(self):
        self._stop.set()
        self._t.join()
        return self.peak


class PerfStat:
    """Counts a process's user-space instructions with `perf stat` while
    it runs (repeatable on a loaded machine, unlike times); None without perf."""

    def __init__(self, pid):
        try:
            self.p = subprocess.Popen(["perf", "stat", "-x,", "-e", "instructions:u", "-p", str(pid)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        except OSError:
            self.p = None

    def stop(self):
        if self.p is None:
            return None
        self.p.send_signal(signal.SIGINT)
        _, err = self.p.communicate(timeout=30)
        for line in err.splitlines():
            f = line.split(",")
            if len(f) > 2 and f[2].startswith("instructions") and f[0].isdigit():
                return int(f[0])
        return None


def Perf(pid, name):
    """perf record -g (cpu-clock) on a process until stopped; nothing without --perf."""
    return PerfRecord(PERF_DIR, pid, name, ["-e", "cpu-clock", "-g"])


def bench(*args, timeout=900):
    out = subprocess.run([os.path.join(BENCH_DIR or bindir(), "strata-bench")] + [str(a) for a in args],
                         capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError("strata-bench %s failed (%d): %s %s" % (args[0], out.returncode, out.stdout, out.stderr))
    return json.loads(lines[-1])


def metrics(b):
    with urllib.request.urlopen(b.admin_url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    out = {}
    for m in re.finditer(r'^(strata_[a-z_]+)(\{[^}]*\})? (\S+)$', text, re.M):
        out[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return out


def received_q1(b):
    return int(metrics(b).get('strata_messages_received_total{qos="1"}', 0))


class Strata(brokerproc.Broker):
    """A Strata broker; `bridge_to` adds an mqtt [[bridge]] forwarding
    strata-bench/# at QoS 1 to that port."""

    def __init__(self, workdir, bridge_to=None, extra="", prefix=()):
        os.makedirs(workdir, exist_ok=True)
        self.prefix = list(prefix)
        super().__init__(workdir, {"broker": {"threads": 1}, "store": {"durability": DURABILITY}},
                         kind="strata", log_level="info")
        self.bridge_to, self.extra = bridge_to, extra
        self.port_fixed = None

    def command(self):
        os.environ["STRATA_BIN"] = os.path.join(bindir(), "strata")
        cmd = super().command()
        if self.bridge_to:
            with open(self.conf_path, "a") as f:
                f.write('\n[[bridge]]\nname = "peer"\ntype = "mqtt"\nurl = "tcp://127.0.0.1:%d"\n'
                        'reconnect_min = 100\nreconnect_max = 200\n%s'
                        '[[bridge.route]]\nfilter = "%s/#"\nqos = 1\n' % (self.bridge_to, self.extra, TOPIC))
        return self.prefix + cmd


class Mosquitto(brokerproc.Broker):
    """A Mosquitto broker (in memory); `bridge_to` adds a `connection`
    bridge forwarding strata-bench/# at QoS 1 (MQTT 5) to that port."""

    def __init__(self, workdir, bridge_to=None):
        os.makedirs(workdir, exist_ok=True)
        super().__init__(workdir, {}, kind="mosquitto")
        self.bridge_to = bridge_to

    def command(self):
        self.conf_path = os.path.join(self.workdir, "mosquitto.conf")
        lines = ["user %s" % getpass.getuser(), "persistence false", "allow_anonymous true",
                 "log_dest stderr", "log_type error", "log_type warning", "set_tcp_nodelay true",
                 # The same window as Strata's bridge gets from its peer
                 # (Receive Maximum 1024), and no queue limit: Mosquitto
                 # would drop past max_queued_messages (1,000 by default).
                 "max_inflight_messages %d" % MOSQ_INFLIGHT, "max_queued_messages 0",
                 "listener %d 127.0.0.1" % self.port]
        if self.bridge_to:
            lines += ["connection peer", "address 127.0.0.1:%d" % self.bridge_to,
                      "bridge_protocol_version mqttv50", "cleansession true",
                      "topic %s/# out 1" % TOPIC]
        with open(self.conf_path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return ["mosquitto", "-c", self.conf_path]


def forward(work, kind, n, pubs, window, tag=""):
    cls = Strata if kind == "strata" else Mosquitto
    b = cls(os.path.join(work, kind + "-b")).start()
    a = cls(os.path.join(work, kind + "-a"), bridge_to=b.port).start()
    try:
        time.sleep(1.0)  # the bridge connects
        la = load()
        sub = subprocess.Popen([str(x) for x in [os.path.join(BENCH_DIR or bindir(), "strata-bench"), "sub", "--url",
                                                 "tcp://127.0.0.1:%d" % b.port, "--subs", 1, "--qos", 0,
                                                 "--count", n, "--duration", 600]],
                               stdout=subprocess.PIPE, text=True)
        time.sleep(0.5)  # subscribed
        ca, cb = cpu_seconds(a.proc.pid), cpu_seconds(b.proc.pid)
        peak = PeakRss(a.proc.pid)
        ia, ib = PerfStat(a.proc.pid), PerfStat(b.proc.pid)
        rec = Perf(a.proc.pid, "forward-" + tag) if kind == "strata" else None
        p = bench("pub", "--url", "tcp://127.0.0.1:%d" % a.port, "--pubs", pubs, "--qos", 1, "--window", window,
                  "--count", n, "--duration", 600)
        out, _ = sub.communicate(timeout=900)
        ia, ib = ia.stop(), ib.stop()
        if rec:
            rec.stop()
        s = json.loads([ln for ln in out.splitlines() if ln.startswith("{")][-1])
        ca, cb = cpu_seconds(a.proc.pid) - ca, cpu_seconds(b.proc.pid) - cb
        rss = peak.stop()
        acked = p["sent"] - p["unacked"]
        got = s["received"] - s["duplicated"]
        store = {}
        if kind == "strata":  # A's group commit: messages per commit, puts a confirmation cancelled
            m = metrics(a)
            commits = m.get("strata_store_commits_total", 0)
            store = {"a_msgs_per_commit": round(n / commits) if commits else None,
                     "a_cancelled_puts": round(m.get("strata_store_cancelled_puts_total", 0) / n, 3)}
        return {"broker": kind, "strata_bin": os.environ["STRATA_BIN"] if kind == "strata" else None,
                "messages": n, "mosquitto_inflight": MOSQ_INFLIGHT if kind == "mosquitto" else None, "load": la, "accepted_per_s": round(p["sent_rate"]),
                "forwarded_per_s": round(s["recv_rate"]), "acked": acked, "arrived": got,
                "lost": max(0, acked - got), "duplicated": s["duplicated"], "reordered": s["reordered"],
                "a_cpu_us_per_msg": round(1e6 * ca / n, 2), "b_cpu_us_per_msg": round(1e6 * cb / n, 2),
                "a_instructions_per_msg": round(ia / n) if ia else None,
                "b_instructions_per_msg": round(ib / n) if ib else None,
                "a_peak_rss_mib": round(rss / 1024, 1), **store}
    finally:
        a.stop()
        b.stop()


def drain(work, n, pubs, window, tag):
    bport = brokerproc.free_port()
    a = Strata(os.path.join(work, "drain-a-" + tag), bridge_to=bport).start()
    b = None
    try:
        rss0 = rss_kib(a.proc.pid)
        peak = PeakRss(a.proc.pid)
        la = load()
        t0 = time.monotonic()
        p = bench("pub", "--url", "tcp://127.0.0.1:%d" % a.port, "--pubs", pubs, "--qos", 1, "--window", window,
                  "--count", n, "--duration", 3600)
        t_fill = time.monotonic() - t0
        m = metrics(a)
        queued = int(m.get('strata_bridge_queued_messages{bridge="peer"}', 0))
        time.sleep(1.0)
        rss_backlog = rss_kib(a.proc.pid)
        anon_backlog, file_backlog = rss_kib(a.proc.pid, "RssAnon"), rss_kib(a.proc.pid, "RssFile")
        acked = p["sent"] - p["unacked"]
        b = Strata(os.path.join(work, "drain-b-" + tag))
        b.port = bport
        b.start()
        t_up = time.monotonic()
        first = last = None
        deadline = t_up + 3600
        got = 0
        while time.monotonic() < deadline:
            got = received_q1(b)
            now = time.monotonic()
            if got > 0 and first is None:
                first = now
            if got >= acked:
                last = now
                break
            time.sleep(0.02)
        rss_peak = peak.stop()
        time.sleep(0.5)
        ma = metrics(a)
        return {"durability": DURABILITY, "backlog": queued, "acked_by_a": acked, "fill_per_s": round(acked / t_fill), "load": la,
                "arrived_at_b": received_q1(b), "drain_s": round(last - first, 2) if last else None,
                "drain_per_s": round(got / (last - first)) if last and last > first else None,
                "b_up_to_first_s": round(first - t_up, 2) if first else None,
                "resent": int(ma.get('strata_bridge_resent_total{bridge="peer"}', 0)),
                "a_rss_idle_mib": round(rss0 / 1024, 1), "a_rss_backlog_mib": round(rss_backlog / 1024, 1),
                "a_rss_backlog_anon_mib": round(anon_backlog / 1024, 1),
                "a_rss_backlog_file_mib": round(file_backlog / 1024, 1),
                "a_rss_peak_mib": round(rss_peak / 1024, 1), "a_rss_after_mib": round(rss_kib(a.proc.pid) / 1024, 1),
                "load_after": load()}
    finally:
        a.stop()
        if b is not None:
            b.stop()


def instructions(work, pubs, window):
    """Instructions broker A executes per forwarded message (callgrind:
    repeatable on a busy machine): two runs at a low fixed rate, 2,000 and
    12,000 messages; the difference over the difference."""
    totals = []
    for n in (2000, 12000):
        out = os.path.join(work, "callgrind.%d" % n)
        b = Strata(os.path.join(work, "cg-b-%d" % n)).start()
        a = Strata(os.path.join(work, "cg-a-%d" % n), bridge_to=b.port,
                   prefix=["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out]).start(timeout=120)
        try:
            deadline = time.monotonic() + 60
            while metrics(a).get('strata_bridge_state{bridge="peer",state="connected"}', 1) == 0 and \
                    time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(2)
            bench("pub", "--url", "tcp://127.0.0.1:%d" % a.port, "--pubs", pubs, "--qos", 1, "--window", window,
                  "--count", n, "--rate", 1000, "--duration", 300)
            deadline = time.monotonic() + 120
            while received_q1(b) < n and time.monotonic() < deadline:
                time.sleep(0.2)
            got = received_q1(b)
        finally:
            a.stop(timeout=120)
            b.stop()
        with open(out) as f:
            ir = int(re.search(r"^(?:summary|totals): (\d+)", f.read(), re.M).group(1))
        if CALLGRIND_DIR:  # kept for callgrind_annotate
            os.makedirs(CALLGRIND_DIR, exist_ok=True)
            shutil.copy(out, os.path.join(CALLGRIND_DIR, "%s-%s" % (os.path.basename(work), os.path.basename(out))))
        totals.append((got, ir))
    (n1, i1), (n2, i2) = totals
    return {"a_instructions_per_msg": round((i2 - i1) / (n2 - n1)), "messages": [n1, n2]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=1_000_000, help="forward: messages per run")
    ap.add_argument("--backlog", type=int, default=1_000_000)
    ap.add_argument("--big-backlog", type=int, default=5_000_000, help="0: skip")
    ap.add_argument("--only", default="forward,drain")
    ap.add_argument("--brokers", default="strata,mosquitto")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--pubs", type=int, default=20)
    ap.add_argument("--window", type=int, default=64)
    ap.add_argument("--mosquitto-inflight", type=int, default=1024)
    ap.add_argument("--durability", choices=["none", "batch", "sync"], default="batch")
    ap.add_argument("--strata-bin", metavar="BIN[,BIN...]", help="Strata builds to alternate")
    ap.add_argument("--perf", metavar="DIR", help="perf record broker A of each Strata forward run")
    ap.add_argument("--callgrind", metavar="DIR", help="keep the instructions runs' callgrind files here")
    args = ap.parse_args()
    global DURABILITY, MOSQ_INFLIGHT, BENCH_DIR, PERF_DIR, CALLGRIND_DIR
    DURABILITY, MOSQ_INFLIGHT = args.durability, args.mosquitto_inflight
    PERF_DIR = args.perf and os.path.abspath(args.perf)
    CALLGRIND_DIR = args.callgrind and os.path.abspath(args.callgrind)
    bins = [os.path.abspath(b) for b in args.strata_bin.split(",")] if args.strata_bin else \
        [os.path.join(bindir(), "strata")]
    BENCH_DIR = os.path.dirname(bins[0])

    def each_build():
        for i, b in enumerate(bins):
            os.environ["STRATA_BIN"] = b
            yield i
    only = args.only.split(",")
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_forward.") as work:
        if "instructions" in only:
            for r in range(args.repeat):
                for i in each_build():
                    res = {"strata_bin": bins[i], **instructions(os.path.join(work, "cg%d-%d" % (i, r)),
                                                                 args.pubs, args.window)}
                    print("instructions", json.dumps(res), flush=True)
                    results.append(("instructions", res))
        for r in range(args.repeat):
            if "forward" in only:
                for kind in args.brokers.split(","):  # alternating
                    for i in (each_build() if kind == "strata" else [None]):
                        res = forward(work, kind, args.messages, args.pubs, args.window, "%s-%d" % (i, r))
                        print("forward", json.dumps(res), flush=True)
                        results.append(("forward", res))
            if "drain" in only:
                res = drain(work, args.backlog, args.pubs, args.window, "%d" % r)
                print("drain", json.dumps(res), flush=True)
                results.append(("drain", res))
                if args.big_backlog:
                    res = drain(work, args.big_backlog, args.pubs, args.window, "big%d" % r)
                    print("drain", json.dumps(res), flush=True)
                    results.append(("drain", res))
    print(json.dumps([{"what": w, **res} for w, res in results]))


if __name__ == "__main__":
    main()
