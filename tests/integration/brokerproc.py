"""Starts and stops the broker under test: Strata (default) or Mosquitto.

STRATA_TEST_BROKER=strata|mosquitto picks the broker. Strata's binary comes
from STRATA_BIN (else the newest build/<preset>/bin/strata in the repo).
Each Broker runs on a free loopback port with its own data directory and
config generated from a dict:

    {"limits": {"receive_maximum": 10}, "sys": {"interval": 1}}

For Mosquitto the keys that have an equivalent are mapped onto mosquitto.conf;
tests that depend on the rest are marked strata_only.
"""

import os
import random
import re
import signal
import socket
import subprocess
import time

import raw as rawmod

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KIND = os.environ.get("STRATA_TEST_BROKER", "strata")

SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",
    "SUMMARY: UndefinedBehaviorSanitizer",
    "ERROR: ThreadSanitizer",
    "WARNING: ThreadSanitizer",
)


def strata_bin():
    path = os.environ.get("STRATA_BIN")
    if path:
        return os.path.abspath(path)
    candidates = []
    build = os.path.join(REPO, "build")
    if os.path.isdir(build):
        for preset in os.listdir(build):
            p = os.path.join(build, preset, "bin", "strata")
            if os.path.isfile(p) and os.access(p, os.X_OK):
                candidates.append((os.path.getmtime(p), p))
    if not candidates:
        return None
    return max(candidates)[1]


# Ports handed out by free_port() in this process: never handed out twice.
_GIVEN_PORTS = set()
# Below Linux's ephemeral range (ip_local_port_range starts at 32768): a
# port asked of the kernel with bind(0) comes from that range, and so do
# the source ports of the tests' own outgoing connections, which could take
# it between the test choosing it and the broker binding it.
_PORT_RANGE = (20000, 32000)


def free_port():
    """A loopback TCP port nobody listens on, outside the ephemeral range."""
    rng = random.Random()
    for _ in range(1000):
        port = rng.randint(*_PORT_RANGE)
        if port in _GIVEN_PORTS:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _GIVEN_PORTS.add(port)
        return port
    raise RuntimeError("no free port in %d..%d" % _PORT_RANGE)


def _toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):  # an inline table, e.g. a listener's limits
        return "{ " + ", ".join("%s = %s" % (k, _toml_value(x)) for k, x in v.items()) + " }"
    raise TypeError("no TOML form for %r" % (v,))


def to_toml(config):
    lines = []
    for section, values in config.items():
        if isinstance(values, list):  # array of tables, e.g. [[listener]]
            for table in values:
                lines.append("[[%s]]" % section)
                lines.extend("%s = %s" % (k, _toml_value(v)) for k, v in table.items())
                lines.append("")
        else:
            lines.append("[%s]" % section)
            lines.extend("%s = %s" % (k, _toml_value(v)) for k, v in values.items())
            lines.append("")
    return "\n".join(lines)


# Strata [limits] key -> mosquitto.conf option (value mapper).
_MOSQ_GLOBAL = {
    "max_packet_size": ("max_packet_size", str),
    "max_keep_alive": ("max_keepalive", str),
    "max_inflight_messages": ("max_inflight_messages", str),
    "max_queued_messages": ("max_queued_messages", str),
    "retain_available": ("retain_available", lambda b: "true" if b else "false"),
    "queue_qos0_offline": ("queue_qos0_messages", lambda b: "true" if b else "false"),
}
_MOSQ_LISTENER = {
    "topic_alias_maximum": ("max_topic_alias", str),
    "maximum_qos": ("max_qos", str),
}


def to_mosquitto_conf(config, port):
    limits = config.get("limits", {})
    lines = [
        "per_listener_settings false",
        "persistence false",
        "allow_anonymous true",
        "log_dest stderr",
        "log_type error",
        "log_type warning",
        "log_type notice",
        "log_type information",
        "connection_messages true",
        "set_tcp_nodelay true",
    ]
    interval = config.get("sys", {}).get("interval")
    if interval is not None:
        lines.append("sys_interval %d" % interval)
    if "receive_maximum" in limits:
        # Mosquitto advertises max_inflight_messages as its Receive Maximum
        # (and uses it for outgoing messages too).
        limits = dict(limits)
        limits["max_inflight_messages"] = limits.pop("receive_maximum")
    for key, value in limits.items():
        if key in _MOSQ_GLOBAL:
            opt, conv = _MOSQ_GLOBAL[key]
            lines.append("%s %s" % (opt, conv(value)))
    lines.append("listener %d 127.0.0.1" % port)
    for key, value in limits.items():
        if key in _MOSQ_LISTENER:
            opt, conv = _MOSQ_LISTENER[key]
            lines.append("%s %s" % (opt, conv(value)))
    return "\n".join(lines) + "\n"


# Strata's line once all listeners are bound (broker.cpp, Broker::run).
_RUNNING = re.compile(rb"strata \S+ running on \d+ cores?")


class BrokerError(Exception):
    pass


class Broker:
    host = "127.0.0.1"

    def __init__(self, workdir, config=None, kind=KIND, extra_args=(), log_level=None, config_listeners=False):
        self.kind = kind
        self.config = dict(config or {})
        self.workdir = str(workdir)
        self.data_dir = os.path.join(self.workdir, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self.port = free_port()
        # The admin HTTP API (broker/admin): its own free port, given with
        # --admin unless the test's [admin] sets url. admin_url is the base.
        self.admin_port = free_port()
        self.proc = None
        self.extra_args = list(extra_args)
        self.log_level = log_level or os.environ.get("STRATA_TEST_LOG_LEVEL", "info")
        self.runs = 0
        self.logs = []          # stderr file paths, one per run
        self.exits = []         # (returncode, expected) per finished run
        self.clients = []       # things with close() to clean up
        self.conf_path = None
        # True: the test's TCP listener is added to config["listener"]
        # (extra tls/ws/wss listeners) instead of given with --listen,
        # which would replace them.
        self.config_listeners = config_listeners

    # -- process ---------------------------------------------------------
    def command(self):
        if self.kind == "mosquitto":
            self.conf_path = os.path.join(self.workdir, "mosquitto.conf")
            with open(self.conf_path, "w") as f:
                f.write(to_mosquitto_conf(self.config, self.port))
            return ["mosquitto", "-c", self.conf_path]
        binary = strata_bin()
        if not binary:
            raise BrokerError("no strata binary: set STRATA_BIN or build one")
        self.conf_path = os.path.join(self.workdir, "strata.toml")
        config = dict(self.config)
        listen = ["--listen", "tcp://%s:%d" % (self.host, self.port)]
        if self.config_listeners:
            config["listener"] = [{"url": "tcp://%s:%d" % (self.host, self.port)}] + list(config.get("listener", []))
            listen = []
        with open(self.conf_path, "w") as f:
            f.write(to_toml(config))
        admin = []
        if "url" not in config.get("admin", {}):
            admin = ["--admin", "http://%s:%d" % (self.host, self.admin_port)]
        return [binary, "-c", self.conf_path] + listen + admin + [
                "--data-dir", self.data_dir,
                "--log-level", self.log_level] + self.extra_args

    def start(self, timeout=10.0):
        cmd = self.command()
        self.runs += 1
        log_path = os.path.join(self.workdir, "broker-%d.log" % self.runs)
        self.logs.append(log_path)
        self._log_file = open(log_path, "wb")
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self._log_file,
                                     stderr=subprocess.STDOUT, cwd=self.workdir, env=env)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise BrokerError("%s exited with %s during start-up:\n%s"
                                  % (self.kind, self.proc.returncode, self.log_tail()))
            if self._ready():
                return self
            if time.monotonic() > deadline:
                self.kill()
                raise BrokerError("%s did not accept on port %d within %.0fs:\n%s"
                                  % (self.kind, self.port, timeout, self.log_tail()))
            time.sleep(0.02)

    def _ready(self):
        """Strata: every listener is bound once it logs "running on"
        (listeners open in config order, so the first one accepting says
        nothing of the others). Mosquitto: its port accepts."""
        if self.kind == "strata" and self.log_level in ("trace", "debug", "info"):
            try:
                with open(self.logs[-1], "rb") as f:
                    return _RUNNING.search(f.read()) is not None
            except OSError:
                return False
        try:
            with socket.create_connection((self.host, self.port), timeout=0.2):
                return True
        except OSError:
            return False

    @property
    def admin_url(self):
        return "http://%s:%d" % (self.host, self.admin_port)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Stops with `sig`; returns the exit code. Kills (and raises) if the
        broker does not exit within `timeout`."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                self._finish(expected=True)
                raise BrokerError("%s did not exit within %.0fs of signal %d:\n%s"
                                  % (self.kind, timeout, sig, self.log_tail()))
            self._finish(expected=True)
        else:
            self._finish(expected=False)
        return self.exits[-1][0]

    def begin_stop(self, sig=signal.SIGTERM):
        """Sends `sig` without waiting; finish_stop() collects the exit."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def finish_stop(self, timeout=10.0):
        """Waits for a stop begun with begin_stop(); returns the problems."""
        problems = []
        if self.proc is not None:
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                problems.append("%s did not exit within %.0fs of SIGTERM" % (self.kind, timeout))
            self._finish(expected=True)
        return problems + self.health_problems()

    def kill(self):
        return self.stop(sig=signal.SIGKILL, timeout=5.0)

    def restart(self, config=None, timeout=10.0):
        if config is not None:
            self.config = dict(config)
        self.stop()
        # The port may linger in TIME_WAIT on some systems; brokers set
        # SO_REUSEADDR, so the same port is reused.
        return self.start(timeout)

    def _finish(self, expected):
        rc = self.proc.returncode
        self.exits.append((rc, expected))
        self._log_file.close()
        self.proc = None

    # -- logs -------------------------------------------------------------
    @property
    def log(self):
        out = []
        for p in self.logs:
            try:
                with open(p, "rb") as f:
                    out.append(f.read().decode("utf-8", "replace"))
            except OSError:
                pass
        return "".join(out)

    def log_tail(self, n=60):
        return "\n".join(self.log.splitlines()[-n:])

    def wait_log(self, text, timeout=5.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log:
                return True
            time.sleep(0.05)
        return False

    def health_problems(self):
        """What went wrong with the process: crash, unexpected exit, sanitizer
        report. Empty when healthy."""
        problems = []
        if self.proc is not None and self.proc.poll() is not None:
            problems.append("%s exited unexpectedly with code %s" % (self.kind, self.proc.returncode))
        for rc, expected in self.exits:
            if not expected:
                problems.append("%s exited unexpectedly with code %s" % (self.kind, rc))
            elif rc is not None and rc < 0 and rc not in (-signal.SIGKILL, -signal.SIGTERM, -signal.SIGINT):
                problems.append("%s died from signal %d while stopping" % (self.kind, -rc))
        text = self.log
        for marker in SANITIZER_MARKERS:
            if marker in text:
                problems.append("sanitizer report in broker output (%s)" % marker)
                break
        return problems

    # -- clients ------------------------------------------------------------
    def raw(self, version=rawmod.V5, timeout=5.0):
        c = rawmod.RawClient(self.host, self.port, version=version, timeout=timeout)
        self.clients.append(c)
        return c

    def raw_connect(self, client_id="", version=rawmod.V5, **kw):
        """A raw client already through CONNECT/CONNACK (rc 0)."""
        c = self.raw(version)
        c.connack = c.connect(client_id, **kw)
        return c

    def close_clients(self):
        for c in self.clients:
            try:
                c.close()
            except Exception:
                pass
        self.clients = []
