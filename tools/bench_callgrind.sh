#!/usr/bin/env bash
# Instructions the broker executes per delivered message, under callgrind.
# Repeatable on a noisy machine (unlike wall-clock figures), so it is what
# before/after comparisons of optimizations use (see docs/benchmarks.md).
#
# The broker runs under `valgrind --tool=callgrind` twice with the same
# strata-bench scenario: once with no load (connect, subscribe, disconnect)
# and once with load; the difference in instructions over the difference in
# delivered messages is the cost per delivered message, without start-up,
# connection set-up and shutdown.
#
# usage: tools/bench_callgrind.sh [--preset release] [--broker strata|mosquitto] [--name NAME] [--keep FILE] -- STRATA-BENCH-ARGS...
#   e.g. tools/bench_callgrind.sh -- fanin --pubs 20 --subs 1 --qos 0 --rate 2000 --duration 5
#   --keep FILE: keep the loaded run's profile there (callgrind_annotate --inclusive=yes FILE)
set -euo pipefail
cd "$(dirname "$0")/.."

preset=release
broker=strata
name=""
keep=""
while [ $# -gt 0 ]; do
  case "$1" in
    --preset) preset=$2; shift 2 ;;
    --broker) broker=$2; shift 2 ;;
    --name) name=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "bench_callgrind.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ $# -gt 0 ] || { echo "bench_callgrind.sh: strata-bench arguments missing after --" >&2; exit 2; }
strata=build/$preset/bin/strata
bench=build/$preset/bin/strata-bench
command -v valgrind >/dev/null || { echo "bench_callgrind.sh: valgrind missing (tools/setup.sh installs it)" >&2; exit 1; }
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
# A free loopback port, and no admin server (its default port may be taken
# by another broker on the machine).
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '[broker]\nthreads = 1\nlog_level = "warn"\n[sys]\ninterval = 0\n[admin]\nurl = ""\n' > "$work/strata.toml"
printf 'user %s\npersistence false\nallow_anonymous true\nlog_dest stderr\nlog_type error\nmax_inflight_messages 64\nmax_queued_messages 10000\nsys_interval 0\nset_tcp_nodelay true\nlistener %d 127.0.0.1\n' "$(id -un)" "$port" > "$work/mosquitto.conf"

# run_once OUT_PREFIX BENCH-ARGS...: prints "instructions delivered"
run_once() {
  local out=$1; shift
  local cmd
  if [ "$broker" = strata ]; then
    cmd=("$strata" -c "$work/strata.toml" --listen "tcp://127.0.0.1:$port" --data-dir "$work/data")
  else
    cmd=(mosquitto -c "$work/mosquitto.conf")
  fi
  valgrind --tool=callgrind --callgrind-out-file="$out.cg" "${cmd[@]}" 2>"$out.log" &
  pid=$!
  for _ in $(seq 200); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    sleep 0.1
  done
  local line
  line=$("$bench" "$@" --url "tcp://127.0.0.1:$port" --drain 30 | tail -n 1)
  kill -TERM "$pid"
  wait "$pid" || true
  pid=""
  local ir
  ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$out.cg" | head -n 1)
  [ -n "$ir" ] || ir=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$out.cg" | head -n 1)
  /usr/bin/python3 -c 'import json,sys; r=json.loads(sys.argv[1]); d=r["received"] if r["received"] else r["sent"]; print(sys.argv[2], d, r["lost"])' "$line" "$ir"
}

read -r ir0 d0 _ < <(run_once "$work/base" "$@" --duration 0 --warmup 0)
read -r ir1 d1 lost1 < <(run_once "$work/load" "$@")
[ -z "$keep" ] || cp "$work/load.cg" "$keep"
/usr/bin/python3 - "$ir0" "$d0" "$ir1" "$d1" "$lost1" "${name:-$*}" "$broker" <<'PY'
import sys
ir0, d0, ir1, d1, lost = map(int, sys.argv[1:6])
per = (ir1 - ir0) / max(1, d1 - d0)
print("%s [%s]: %.0f instructions per delivered message (%d delivered, %d lost; %d vs %d instructions in all)"
      % (sys.argv[7], sys.argv[6], per, d1 - d0, lost, ir1, ir0))
PY
