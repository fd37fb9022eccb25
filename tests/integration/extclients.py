"""Real, independent clients run as processes: mosquitto_pub / mosquitto_sub
and MQTT.js (through mqttjs_client.js). Every read has a deadline."""

import base64
import json
import os
import select
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
NODE_PATH = os.path.join(TESTS, "node_modules")


class LineProc:
    """A child process whose stdout is read line by line with deadlines."""

    def __init__(self, argv, env=None):
        self.argv = argv
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     stdin=subprocess.DEVNULL, env=env)
        self._buf = b""
        self.lines = []

    def readline(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("no line from %s within %.1fs (got %r)" % (
                    os.path.basename(self.argv[0]), timeout, self.lines))
            r, _, _ = select.select([self.proc.stdout], [], [], remaining)
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    if self._buf:
                        break
                    raise EOFError("%s exited (rc=%s): %s" % (
                        os.path.basename(self.argv[0]), self.proc.poll(), self.stderr_text()))
                self._buf += chunk
        if b"\n" in self._buf:
            line, self._buf = self._buf.split(b"\n", 1)
        else:
            line, self._buf = self._buf, b""
        self.lines.append(line)
        return line

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError("%s did not exit within %.1fs" % (self.argv[0], timeout))

    def stderr_text(self):
        try:
            return self.proc.stderr.read().decode("utf-8", "replace") if self.proc.poll() is not None else ""
        except Exception:
            return ""

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    close = kill


def mosquitto_pub(broker, topic, message=None, version="mqttv311", qos=0, retain=False,
                  props=(), null=False, timeout=10.0, extra=()):
    argv = ["mosquitto_pub", "-h", broker.host, "-p", str(broker.port), "-V", version,
            "-t", topic, "-q", str(qos)]
    if null:
        argv.append("-n")
    else:
        argv += ["-m", message]
    if retain:
        argv.append("-r")
    for cmd, ident, *value in props:
        argv += ["-D", cmd, ident] + list(value)
    argv += list(extra)
    r = subprocess.run(argv, capture_output=True, timeout=timeout)
    assert r.returncode == 0, "mosquitto_pub failed (%d): %s" % (r.returncode, r.stderr.decode())
    return r


class MosquittoSub(LineProc):
    """mosquitto_sub with -d so we can wait for its SUBACK; formatted output
    lines (-F) are returned by message()."""

    def __init__(self, broker, topic, version="mqttv311", qos=0, fmt="%t|%q|%r|%p", count=None,
                 extra=()):
        # stdbuf: mosquitto_sub's stdout is a pipe here; make it line-buffered
        argv = ["stdbuf", "-oL", "mosquitto_sub", "-d", "-h", broker.host, "-p", str(broker.port), "-V", version,
                "-t", topic, "-q", str(qos), "-F", fmt]
        if count:
            argv += ["-C", str(count)]
        argv += list(extra)
        super().__init__(argv)
        broker.clients.append(self)

    def wait_subscribed(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            line = self.readline(max(0.01, deadline - time.monotonic()))
            if b"received SUBACK" in line:
                return

    def message(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            line = self.readline(max(0.01, deadline - time.monotonic()))
            if line.startswith(b"Client ") or line.startswith(b"Subscribed (mid"):
                continue
            return line


def b64(data):
    return base64.b64encode(data).decode()


class MqttJs(LineProc):
    def __init__(self, broker, config):
        cfg = dict(config)
        cfg.setdefault("url", "mqtt://%s:%d" % (broker.host, broker.port))
        env = dict(os.environ, NODE_PATH=NODE_PATH)
        super().__init__(["node", os.path.join(HERE, "mqttjs_client.js"), json.dumps(cfg)], env=env)
        broker.clients.append(self)

    def event(self, timeout=5.0):
        line = self.readline(timeout)
        try:
            return json.loads(line)
        except ValueError:
            raise AssertionError("bad output from MQTT.js driver: %r" % line)

    def until(self, name, timeout=5.0):
        """Events up to and including the first one called `name`."""
        deadline = time.monotonic() + timeout
        got = []
        while True:
            e = self.event(max(0.01, deadline - time.monotonic()))
            got.append(e)
            if e["event"] in ("error", "timeout") and name not in ("error", "timeout"):
                raise AssertionError("MQTT.js: %r" % (got,))
            if e["event"] == name:
                return got
