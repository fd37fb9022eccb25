#!/usr/bin/env bash
# Two brokers measured at the same time: each with its own strata-bench
# generator, both brokers pinned to core 0 and both generators to core 1,
# the same scenario, one pass after another. The host's state (which moves
# either broker's CPU per message by 20-30 % between runs minutes apart on
# a VM, docs/benchmarks.md) is then the same for both, and the ratio of the
# pair is what a before/after comparison or a side-by-side figure needs.
# At these rates each broker uses under a fifth of its core, so the two
# share it without waiting on each other.
#
# A broker is `mosquitto` or the path of a strata binary (a build from
# another commit, for before/after).
#
# usage: tools/bench_pair.sh [--passes 6] [--duration 5] A B [-- STRATA-BENCH-ARGS...]
#   e.g. tools/bench_pair.sh build/rel/bin/strata mosquitto
#        tools/bench_pair.sh build/rel/bin/strata "$BEFORE" -- fanin   # BEFORE: strata built from another commit --pubs 20 --subs 1 --qos 0 --size 64 --rate 100000
# default scenario: cpu_10k of tools/bench.sh (10 publishers -> 1 subscriber, QoS 0, 64 B, 10,000 msg/s)
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tools/bench_brokers.sh
source tools/bench_brokers.sh

passes=6
duration=5
while [ $# -gt 0 ]; do
  case "$1" in
    --passes) passes=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) break ;;
  esac
done
[ $# -ge 2 ] || { echo "bench_pair.sh: two brokers needed (mosquitto or a strata binary)" >&2; exit 2; }
a=$1 b=$2
shift 2
[ "${1:-}" = "--" ] && shift
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(fanin --pubs 10 --subs 1 --qos 0 --size 64 --rate 10000)
# The generator built next to the first strata binary named, else the release build's.
bench=build/release/bin/strata-bench
for x in "$b" "$a"; do
  if [ "$x" != mosquitto ] && [ -x "$(dirname "$x")/strata-bench" ]; then bench=$(dirname "$x")/strata-bench; fi
done
[ -x "$bench" ] || { echo "bench_pair.sh: strata-bench missing (cmake --build --preset release)" >&2; exit 1; }
for x in "$a" "$b"; do
  [ "$x" = mosquitto ] || [ -x "$x" ] || { echo "bench_pair.sh: $x is not mosquitto or an executable" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
ulimit -n 20000 2>/dev/null || true
write_strata_toml "$work/strata.toml" 1 65535 none

# start NAME BROKER PORT: prints the broker's pid
start() {
  if [ "$2" = mosquitto ]; then
    write_mosquitto_conf "$work/$1.conf" 65535 "$3"
    taskset -c 0 mosquitto -c "$work/$1.conf" >"$work/$1.log" 2>&1 &
  else
    rm -rf "$work/$1.data"
    taskset -c 0 "$2" -c "$work/strata.toml" --listen "tcp://127.0.0.1:$3" --data-dir "$work/$1.data" >"$work/$1.log" 2>&1 &
  fi
  echo $!
}

echo "pass  A: CPU us/msg  p50 us   B: CPU us/msg  p50 us   A/B CPU"
for pass in $(seq "$passes"); do
  read -r port_a port_b < <(free_ports 2)
  pid_a=$(start a "$a" "$port_a")
  pid_b=$(start b "$b" "$port_b")
  pids=("$pid_a" "$pid_b")
  wait_port "$port_a" && wait_port "$port_b" || { echo "bench_pair.sh: a broker did not start: $(tail -n 3 "$work"/*.log)" >&2; exit 1; }
  taskset -c 1 "$bench" "${args[@]}" --duration "$duration" --warmup 1 --drain 2 \
    --url "tcp://127.0.0.1:$port_a" --broker-pid "$pid_a" 2>"$work/gen_a.err" | tail -n 1 >"$work/a.json" &
  gen_a=$!
  taskset -c 1 "$bench" "${args[@]}" --duration "$duration" --warmup 1 --drain 2 \
    --url "tcp://127.0.0.1:$port_b" --broker-pid "$pid_b" 2>"$work/gen_b.err" | tail -n 1 >"$work/b.json" &
  gen_b=$!
  wait "$gen_a" "$gen_b" || true
  kill "$pid_a" "$pid_b" 2>/dev/null || true
  wait "$pid_a" "$pid_b" 2>/dev/null || true
  pids=()
  /usr/bin/python3 - "$pass" "$work/a.json" "$work/b.json" <<'PY'
import json, sys
try:
    a, b = (json.load(open(f)) for f in sys.argv[2:4])
except ValueError:
    sys.exit("bench_pair.sh: a generator gave no result")
for name, r in (("A", a), ("B", b)):
    if r["lost"] or r["errors"]:
        print(f"bench_pair.sh: {name}: {r['lost']} lost, {r['errors']} errors", file=sys.stderr)
ca, cb = a["broker_cpu_us_per_msg"], b["broker_cpu_us_per_msg"]
print(f"{sys.argv[1]:>4}  {ca:16.3f}  {a['lat_p50_us']:6.1f}  {cb:16.3f}  {b['lat_p50_us']:6.1f}  {ca / cb:8.3f}")
PY
done
