#!/usr/bin/env bash
# Start-up time of the broker on a given store: from exec to the first
# CONNACK a client gets (what a reconnecting plant sees), plus the broker's
# own "store: loaded ..." log line (read / indexes / sessions breakdown),
# the CPU time it used until then and its resident memory once serving. The store is copied first, so runs
# are repeatable (start-up rewrites nothing the next run would miss, but
# expired records would be deleted).
#
# usage: tools/store_startup.sh STORE_DATA_DIR [STRATA_BIN] [RUNS]
#   e.g. build/release/bin/strata_store_gen /tmp/big/data 100000 1000000
#        tools/store_startup.sh /tmp/big/data build/release/bin/strata 3
set -euo pipefail
src=${1:?usage: tools/store_startup.sh STORE_DATA_DIR [STRATA_BIN] [RUNS]}
bin=${2:-$(dirname "$0")/../build/release/bin/strata}
runs=${3:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for run in $(seq 1 "$runs"); do
  rm -rf "$work/data" && cp -r "$src" "$work/data" && sync
  /usr/bin/python3 - "$bin" "$work/data" "$work/log" <<'PY'
import os, socket, subprocess, sys, time
bin_, data, log = sys.argv[1:4]
port = 18830 + os.getpid() % 1000
connect = bytes([0x10, 12, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 60, 0, 0])  # 3.1.1, clean, empty id
t0 = time.monotonic()
with open(log, "w") as out:
    p = subprocess.Popen([bin_, "--listen", f"tcp://127.0.0.1:{port}", "--data-dir", data], stdout=out, stderr=out)
try:
    connack = None
    deadline = t0 + 600
    while connack is None and time.monotonic() < deadline and p.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(connect)
                if s.recv(4)[:1] == b"\x20":
                    connack = time.monotonic() - t0
        except OSError:
            time.sleep(0.01)
    rss = open(f"/proc/{p.pid}/status").read().split("VmRSS:")[1].split()[0] if p.poll() is None else "?"
    # CPU time so far (user + system, all threads): steadier than wall time
    # on a shared machine.
    fields = open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1].split() if p.poll() is None else None
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") if fields else None
    line = next((l.split("store: ", 1)[1].strip() for l in open(log) if "store: loaded" in l), "no load line")
    load = open("/proc/loadavg").read().split()[:3]
    print(f"first CONNACK after {connack * 1000:.0f} ms" if connack else "no CONNACK",
          f"| CPU {cpu:.2f} s" if cpu is not None else "", f"| RSS {int(rss) // 1024} MB" if rss != "?" else "",
          f"| load average {' '.join(load)}")
    print("  " + line)
finally:
    p.terminate()
    p.wait(60)
PY
done
