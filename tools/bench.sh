#!/usr/bin/env bash
# Side-by-side benchmark: the same strata-bench scenarios against Strata and
# against Debian's Mosquitto, in the same run (see docs/benchmarks.md).
#
# Each broker runs pinned to core 0 (taskset), the generator to core 1, on
# loopback ports of its own; every run starts a fresh broker so no run sees
# the memory or the sessions of the one before. Each figure is repeated
# (--repeat, default 3) and reported as median, min-max and the ratio
# Strata/Mosquitto. Raw results (one JSON line per run) go to --out.
#
# The latency row is also taken through `strata-bench relay`, a do-nothing
# relay (the floor any broker is measured against), and the QoS 1 fan-in
# row through Strata with persistent sessions and durability batch / sync
# (the *_batch, *_sync rows; Strata only). --threads 2 --broker-cpus 0,1
# --gen-cpus 0,1 gives Strata two cores (sharing them with the generator on
# a 2-core machine) for the scaling rows. The broker `strata_uring` is
# Strata built on io_uring (the `uring` preset, build/uring/bin/strata):
# --brokers strata,strata_uring,mosquitto puts both reactors side by side.
#
# --inflight N sets both brokers' max_inflight_messages (default 65535:
# Strata's window then follows the subscriber's Receive Maximum, 65535 in
# strata-bench; --inflight 64 is the window before it did).
#
# usage: tools/bench.sh [--preset release] [--repeat 3] [--duration 5]
#                       [--only NAME[,NAME...]] [--out DIR] [--brokers strata,mosquitto,relay]
#                       (brokers: strata, strata_uring, mosquitto, relay)
#                       [--threads 1] [--broker-cpus 0] [--gen-cpus 1] [--inflight 65535]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tools/bench_brokers.sh
source tools/bench_brokers.sh

preset=release
repeat=3
duration=5
only=""
out=""
brokers="strata,mosquitto,relay"
threads=1
broker_cpus=0
gen_cpus=1
inflight=65535
while [ $# -gt 0 ]; do
  case "$1" in
    --preset) preset=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --brokers) brokers=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --broker-cpus) broker_cpus=$2; shift 2 ;;
    --gen-cpus) gen_cpus=$2; shift 2 ;;
    --inflight) inflight=$2; shift 2 ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

strata=build/$preset/bin/strata
bench=build/$preset/bin/strata-bench
strata_uring=build/uring/bin/strata
needed=("$strata" "$bench")
if [[ ",$brokers," == *",strata_uring,"* ]]; then needed+=("$strata_uring"); fi
for f in "${needed[@]}"; do
  [ -x "$f" ] || { echo "bench.sh: $f missing; build it: cmake --preset $preset && cmake --build --preset $preset" >&2; exit 1; }
done
command -v mosquitto >/dev/null || { echo "bench.sh: mosquitto missing (tools/setup.sh installs it)" >&2; exit 1; }
out=${out:-$(mktemp -d)}
mkdir -p "$out"
results=$out/results.jsonl
: > "$results"
work=$(mktemp -d)
broker_pid=""
cleanup() {
  if [ -n "$broker_pid" ]; then kill "$broker_pid" 2>/dev/null || true; wait "$broker_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

cores=$(nproc)
if [ "$cores" -lt 2 ]; then gen_cpus=0; broker_cpus=0; fi
# Idle connections need descriptors on both sides.
ulimit -n 20000 2>/dev/null || true

# Ports the kernel hands out as free, so that two runs at once (or anything
# else on the machine) do not meet on a fixed port.
read -r strata_port mosq_port relay_port < <(free_ports 3)

# The brokers' settings, made equivalent (tools/bench_brokers.sh).
write_strata() { write_strata_toml "$work/strata.toml" "$threads" "$inflight" "$1"; }
write_mosquitto_conf "$work/mosquitto.conf" "$inflight" "$mosq_port"

start_broker() {  # start_broker strata|mosquitto -> sets broker_pid, port
  if [ "$1" = strata ] || [ "$1" = strata_uring ]; then
    port=$strata_port
    rm -rf "$work/data"
    local bin=$strata
    [ "$1" = strata_uring ] && bin=$strata_uring
    taskset -c $broker_cpus "$bin" -c "$work/strata.toml" --listen "tcp://127.0.0.1:$port" \
      --data-dir "$work/data" 2>"$work/strata.log" &
  elif [ "$1" = relay ]; then
    port=$relay_port
    taskset -c $broker_cpus "$bench" relay --url "tcp://127.0.0.1:$port" --duration 600 2>"$work/relay.log" >/dev/null &
  else
    port=$mosq_port
    taskset -c $broker_cpus mosquitto -c "$work/mosquitto.conf" 2>"$work/mosquitto.log" &
  fi
  broker_pid=$!
  wait_port "$port" && return 0
  echo "bench.sh: $1 did not start" >&2
  exit 1
}

stop_broker() {
  kill "$broker_pid" 2>/dev/null || true
  wait "$broker_pid" 2>/dev/null || true
  broker_pid=""
}

# Scenarios: name|strata-bench arguments. Closed loop uses a window of 64,
# the inflight limit both brokers are given. The relay serves only the
# latency row; *_batch / *_sync rows run Strata only, with persistent
# sessions so that every message goes through the store.
common="--duration $duration --warmup 1 --drain 5"
persistent="--session-expiry 300"
scenarios=(
  "fanin_q0|fanin --pubs 20 --subs 1 --qos 0 --size 64 --window 64 $common"
  "fanin_q1|fanin --pubs 20 --subs 1 --qos 1 --size 64 --window 64 $common"
  "fanin_q1_batch|fanin --pubs 20 --subs 1 --qos 1 --size 64 --window 64 $persistent $common"
  "fanin_q1_sync|fanin --pubs 20 --subs 1 --qos 1 --size 64 --window 64 $persistent $common"
  "fanout_q0|fanout --pubs 1 --subs 100 --qos 0 --size 64 --window 64 $common"
  "latency_10k|fanin --pubs 1 --subs 1 --qos 0 --size 64 --rate 10000 $common"
  "cpu_10k|fanin --pubs 10 --subs 1 --qos 0 --size 64 --rate 10000 $common"
  "cpu_100k|fanin --pubs 20 --subs 1 --qos 0 --size 64 --rate 100000 $common"
  "conn_10k|conn --conns 10000 --conn-window 200 --duration 1"
)

selected() { [ -z "$only" ] || [[ ",$only," == *",$1,"* ]]; }

for entry in "${scenarios[@]}"; do
  name=${entry%%|*}
  args=${entry#*|}
  selected "$name" || continue
  for b in ${brokers//,/ }; do
    if [ "$b" = relay ] && [ "$name" != latency_10k ]; then continue; fi
    case "$name" in *_batch|*_sync) [[ "$b" == strata* ]] || continue ;; esac
    case "$name" in
      *_sync) write_strata sync ;;
      *_batch) write_strata batch ;;
      *) write_strata none ;;
    esac
    for r in $(seq "$repeat"); do
      uptime >> "$out/uptime.log"
      start_broker "$b"
      # shellcheck disable=SC2086
      line=$(taskset -c $gen_cpus "$bench" $args --url "tcp://127.0.0.1:$port" --broker-pid "$broker_pid" \
               2>"$work/bench.err" | tail -n 1) || true
      stop_broker
      if [[ "$line" != "{"* ]]; then
        echo "bench.sh: $name on $b run $r gave no result: $(tail -n 3 "$work/bench.err")" >&2
        continue
      fi
      echo "{\"name\":\"$name\",\"broker\":\"$b\",\"run\":$r,\"result\":$line}" >> "$results"
      echo "$name $b #$r: $line" >&2
    done
  done
done

/usr/bin/python3 - "$results" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
# name -> (metric, unit, what is better)
metrics = [
    ("fanin_q0", "recv_rate", "msg/s received", "higher"),
    ("fanin_q1", "recv_rate", "msg/s received", "higher"),
    ("fanin_q1", "lost", "messages lost", "lower"),
    ("fanin_q1_batch", "recv_rate", "msg/s received, persistent, durability batch", "higher"),
    ("fanin_q1_batch", "lost", "messages lost", "lower"),
    ("fanin_q1_sync", "recv_rate", "msg/s received, persistent, durability sync", "higher"),
    ("fanin_q1_sync", "lost", "messages lost", "lower"),
    ("fanout_q0", "recv_rate", "msg/s received", "higher"),
    ("latency_10k", "lat_p50_us", "p50 latency, us", "lower"),
    ("latency_10k", "lat_p99_us", "p99 latency, us", "lower"),
    ("cpu_10k", "broker_cpu_us_per_msg", "broker CPU us per delivered msg", "lower"),
    ("cpu_10k", "lat_p50_us", "p50 latency, us", "lower"),
    ("cpu_100k", "recv_rate", "msg/s received", "higher"),
    ("cpu_100k", "broker_cpu_us_per_msg", "broker CPU us per delivered msg", "lower"),
    ("conn_10k", "conn_rate", "connections/s", "higher"),
    ("conn_10k", "rss_per_conn_bytes", "broker RSS bytes per idle connection", "lower"),
]
def fmt(v):
    return "%.3g" % v if abs(v) < 100 else "%.0f" % v
def cell(name, broker, key):
    vals = [r["result"][key] for r in rows if r["name"] == name and r["broker"] == broker and key in r["result"]]
    if not vals:
        return None, "-"
    m = statistics.median(vals)
    return m, "%s (%s–%s)" % (fmt(m), fmt(min(vals)), fmt(max(vals)))
uring = any(r["broker"] == "strata_uring" for r in rows)
extra = " Strata io_uring median (min–max) | io_uring/epoll |" if uring else ""
print("| scenario | figure | Strata median (min–max) |%s Mosquitto median (min–max) | Strata/Mosquitto | do-nothing relay |" % extra)
print("|---|---|---|%s---|---|---|" % ("---|---|" if uring else ""))
for name, key, label, better in metrics:
    s, sc = cell(name, "strata", key)
    u, uc = cell(name, "strata_uring", key)
    m, mc = cell(name, "mosquitto", key)
    _, rc = cell(name, "relay", key)
    if sc == "-" and mc == "-" and uc == "-":
        continue
    ratio = "%.2f" % (s / m) if s is not None and m not in (None, 0) else "-"
    cols = ""
    if uring:
        cols = " %s | %s |" % (uc, "%.2f" % (u / s) if u is not None and s not in (None, 0) else "-")
    print("| %s | %s (%s is better) | %s |%s %s | %s | %s |" % (name, label, better, sc, cols, mc, ratio, rc))
gen = {}
for r in rows:
    gen.setdefault((r["name"], r["broker"]), []).append(r["result"].get("gen_cpu_s", -1))
print()
print("generator CPU seconds per run (median): " + ", ".join(
    "%s/%s %.2f" % (n, b, statistics.median(v)) for (n, b), v in sorted(gen.items()) if min(v) >= 0))
brk = {}
for r in rows:
    if "broker_cpu_s" in r["result"] and r["result"]["broker_cpu_s"] >= 0:
        brk.setdefault((r["name"], r["broker"]), []).append(r["result"]["broker_cpu_s"] / max(r["result"].get("duration_s", 1), 1e-9))
print("broker CPU per second of run (median; 1.0 = one core busy): " + ", ".join(
    "%s/%s %.2f" % (n, b, statistics.median(v)) for (n, b), v in sorted(brk.items())))
PY
echo "raw results: $results" >&2
