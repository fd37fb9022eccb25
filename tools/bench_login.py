#!/usr/bin/python3
"""What one login costs the broker: a username/password CONNECT (the
password file's PBKDF2-HMAC-SHA512) against a SCRAM-SHA-256 exchange
(CONNECT, AUTH, AUTH, CONNACK; the PBKDF2 is the client's).

    STRATA_BIN=build/release/bin/strata tools/bench_login.py [LOGINS]

Starts its own broker (release build by default) on a free loopback port,
logs in LOGINS times (default 200, at most 10,000) with each kind, one
connection after the other, and prints per kind the broker's CPU time
(utime + stime from /proc) and the wall time per login, the latter
including the client's own work. Results: docs/benchmarks.md.
"""

import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

import brokerproc  # noqa: E402
import raw  # noqa: E402
from scram_client import Scram  # noqa: E402

METHOD = "SCRAM-SHA-256"


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def plain_login(b, i):
    c = raw.RawClient(b.host, b.port)
    c.connect("plain-%d" % i, username="bench", password=b"bench-password")
    c.disconnect()


def scram_login(b, i):
    scram = Scram("bench", "bench-password")
    c = raw.RawClient(b.host, b.port)
    c.send(raw.connect("scram-%d" % i, props=[("authentication_method", METHOD),
                                               ("authentication_data", scram.client_first())]))
    first = c.expect(raw.AUTH)
    assert first.rc == 0x18, first
    c.send(raw.auth(0x18, [("authentication_method", METHOD),
                           ("authentication_data", scram.client_final(first.props.get("authentication_data")))]))
    ack = c.expect(raw.CONNACK)
    assert ack.rc == 0 and ack.props.get("authentication_data") == scram.server_final(), ack
    c.disconnect()


def main():
    logins = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    if not 1 <= logins <= 10000:
        sys.exit("LOGINS must be in 1..10000")
    with tempfile.TemporaryDirectory() as tmp:
        pw = os.path.join(tmp, "passwd")
        passwd = os.path.join(os.path.dirname(brokerproc.strata_bin()), "strata-passwd")
        subprocess.run([passwd, "-c", "-b", pw, "bench", "bench-password"], check=True)
        b = brokerproc.Broker(tmp, {"auth": {"password_file": pw, "max_failed_logins": 0}}, log_level="warn")
        b.start()
        try:
            print("%d logins each, broker %s" % (logins, brokerproc.strata_bin()))
            for name, login in (("password (PBKDF2-HMAC-SHA512, 10000)", plain_login),
                                ("SCRAM-SHA-256 (4096, client side)", scram_login)):
                login(b, -1)  # warm up
                cpu0, t0 = cpu_seconds(b.proc.pid), time.monotonic()
                for i in range(logins):
                    login(b, i)
                cpu, wall = cpu_seconds(b.proc.pid) - cpu0, time.monotonic() - t0
                print("%-38s broker CPU %7.3f ms/login   wall %7.3f ms/login"
                      % (name, 1000 * cpu / logins, 1000 * wall / logins))
        finally:
            b.stop()


if __name__ == "__main__":
    main()
