# Sourced by tools/bench.sh and tools/bench_pair.sh: the brokers' settings,
# made equivalent (one thread by default, no persistence, the same inflight
# window and queue length, no $SYS traffic during a run).

# write_strata_toml FILE THREADS INFLIGHT DURABILITY
write_strata_toml() {
cat > "$1" <<TOML
[broker]
threads = $2
log_level = "warn"
[limits]
receive_maximum = 1024
max_inflight_messages = $3
max_queued_messages = 10000
[sys]
interval = 0
[store]
durability = "$4"
# No admin server: its default port may be held by another broker on the
# machine, and the figures here do not need it.
[admin]
url = ""
TOML
}

# write_mosquitto_conf FILE INFLIGHT PORT
write_mosquitto_conf() {
cat > "$1" <<CONF
per_listener_settings false
user $(id -un)
persistence false
allow_anonymous true
log_dest stderr
log_type error
log_type warning
max_inflight_messages $2
max_queued_messages 10000
sys_interval 0
set_tcp_nodelay true
listener $3 127.0.0.1
CONF
}

# free_ports N: N loopback ports the kernel hands out as free, on one line.
free_ports() {
  /usr/bin/python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])' "$1"
}

# wait_port PORT: until something accepts there (5 s at most).
wait_port() {
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.05
  done
  return 1
}
