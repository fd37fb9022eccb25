"""Real time-series databases for the influx bridge's tests, each started
on free loopback ports with its own directories and stopped by the test:

- Influxd: InfluxDB 1.x (Debian's influxdb), `influxd -config FILE`;
  query() reads back through its /query API.
- VictoriaMetrics (Debian's victoria-metrics); export() reads back through
  /api/v1/export after forcing a flush.
"""

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import brokerproc


def _get(url, data=None, timeout=5.0):
    req = urllib.request.Request(url, data=data)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read()


def _wait_http(url, proc, log, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("exited with %s:\n%s" % (proc.returncode, open(log).read()[-3000:]))
        try:
            _get(url, timeout=1)
            return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.1)
    raise RuntimeError("%s did not answer within %.0fs" % (url, timeout))


class Influxd:
    def __init__(self, workdir, max_body_size=0):
        self.dir = os.path.join(str(workdir), "influxd")
        os.makedirs(self.dir, exist_ok=True)
        self.port = brokerproc.free_port()
        self.rpc_port = brokerproc.free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.conf = os.path.join(self.dir, "influxdb.conf")
        with open(self.conf, "w") as f:
            f.write(
                'reporting-enabled = false\n'
                'bind-address = "127.0.0.1:%d"\n'
                '[meta]\n  dir = "%s/meta"\n'
                '[data]\n  dir = "%s/data"\n  wal-dir = "%s/wal"\n  query-log-enabled = false\n'
                '[monitor]\n  store-enabled = false\n'
                '[continuous_queries]\n  enabled = false\n'
                '[http]\n  bind-address = "127.0.0.1:%d"\n  log-enabled = false\n  max-body-size = %d\n'
                % (self.rpc_port, self.dir, self.dir, self.dir, self.port, max_body_size))
        self.proc = None
        self.runs = 0

    def start(self):
        self.runs += 1
        self.log = os.path.join(self.dir, "influxd-%d.log" % self.runs)
        self.proc = subprocess.Popen(["influxd", "-config", self.conf], stdout=open(self.log, "wb"),
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        _wait_http(self.url + "/ping", self.proc, self.log)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def query(self, q, db="plant"):
        """The rows of the first series as {columns: values}, epoch ms."""
        params = urllib.parse.urlencode({"q": q, "db": db, "epoch": "ms"})
        _, body = _get(self.url + "/query?" + params)
        return json.loads(body)

    def create_database(self, name):
        _get(self.url + "/query", data=urllib.parse.urlencode({"q": "CREATE DATABASE " + name}).encode())

    def rows(self, measurement, db="plant"):
        """[{column: value}] of every point of `measurement`, in time order."""
        r = self.query('SELECT * FROM "%s"' % measurement, db)
        out = []
        for series in r["results"][0].get("series", []):
            for v in series["values"]:
                out.append(dict(zip(series["columns"], v)))
        return out

    def count(self, measurement, field="value", db="plant"):
        r = self.query('SELECT COUNT("%s") FROM "%s"' % (field, measurement), db)
        series = r["results"][0].get("series")
        return series[0]["values"][0][1] if series else 0


class VictoriaMetrics:
    def __init__(self, workdir, *args):
        self.dir = os.path.join(str(workdir), "vm")
        os.makedirs(self.dir, exist_ok=True)
        self.port = brokerproc.free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.args = list(args)
        self.proc = None

    def start(self):
        self.log = os.path.join(self.dir, "vm.log")
        self.proc = subprocess.Popen(
            ["victoria-metrics", "-httpListenAddr", "127.0.0.1:%d" % self.port, "-storageDataPath",
             os.path.join(self.dir, "data"), "-loggerLevel", "ERROR", "-retentionPeriod", "100y"] + self.args,
            stdout=open(self.log, "wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        _wait_http(self.url + "/health", self.proc, self.log)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def export(self, match):
        """{(metric name, sorted labels tuple): [(timestamp ms, value)]}"""
        _get(self.url + "/internal/force_flush")
        _, body = _get(self.url + "/api/v1/export", data=urllib.parse.urlencode({"match[]": match}).encode())
        out = {}
        for line in body.decode().splitlines():
            if not line.strip():
                continue
            d = json.loads(line)
            m = dict(d["metric"])
            name = m.pop("__name__")
            out[(name, tuple(sorted(m.items())))] = sorted(zip(d["timestamps"], d["values"]))
        return out
