"""strata-bench smoke run (issue 5): the load generator runs against the real
broker for a second or two per scenario and loses, duplicates and reorders
nothing. A smoke run, not a benchmark: rates and latencies are printed by the
tool but never asserted (see docs/benchmarks.md for the real benchmark).
The tls://, ws:// and wss:// runs go to a broker with those listeners and
certificates from certs.py (as in test_12_transports)."""

import json
import os
import socket
import subprocess
import time

import pytest

import brokerproc
import certs
from test_12_transports import SecureBroker


def bench_bin():
    strata = brokerproc.strata_bin()
    path = os.path.join(os.path.dirname(strata), "strata-bench") if strata else None
    if not path or not os.access(path, os.X_OK):
        pytest.fail("no strata-bench next to the strata binary (%s)" % strata)
    return path


def bench(broker, scenario, *args, expect_rc=0, url=None):
    url = url or "tcp://127.0.0.1:%d" % broker.port
    cmd = [bench_bin(), scenario, "--url", url, "--broker-pid", str(broker.proc.pid)] + [str(a) for a in args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == expect_rc, "%s\nstdout:\n%s\nstderr:\n%s" % (cmd, r.stdout, r.stderr)
    last = r.stdout.strip().splitlines()[-1]
    result = json.loads(last)
    assert result["scenario"] == scenario
    return result


def assert_nothing_lost(r, copies):
    assert r["errors"] == 0, r["first_error"]
    assert r["sent"] > 0
    assert r["expected"] == r["sent"] * copies
    assert r["received"] == r["expected"]
    assert (r["lost"], r["duplicated"], r["reordered"], r["unacked"], r["foreign"]) == (0, 0, 0, 0, 0)


SHORT = ["--duration", "1.5", "--warmup", "0.3", "--drain", "10"]


def test_fanin_qos1_v5_fixed_rate(broker):
    # A fixed rate the slowest (sanitizer) build keeps up with: QoS 1 is
    # acknowledged to the publisher on receipt, so a closed loop could
    # outrun the subscribers' queues.
    r = bench(broker, "fanin", "--pubs", 4, "--subs", 2, "--qos", 1, "--mqtt", "5", "--rate", 2000, *SHORT)
    assert (r["pubs"], r["subs"], r["qos"], r["mqtt"], r["size"]) == (4, 2, 1, "5", 64)
    assert_nothing_lost(r, copies=2)
    assert r["broker_cpu_s"] >= 0


# 20 closed-loop publishers with 64 messages each in flight into one
# subscriber whose queue holds 200: the publishers outrun it at once (QoS 1
# is acknowledged on receipt, so 1,280 messages arrive before the
# subscriber can take 8).
OVERLOAD = {"max_queued_messages": 200, "max_inflight_messages": 8}
OVERLOAD_RUN = ["--pubs", 20, "--subs", 1, "--qos", 1, "--window", 64]


@pytest.mark.broker_config(limits=OVERLOAD)
def test_fanin_qos1_overload_loses_nothing(broker):
    # Back-pressure (the default) slows the publishers: nothing is lost.
    r = bench(broker, "fanin", *OVERLOAD_RUN, *SHORT)
    assert_nothing_lost(r, copies=1)


@pytest.mark.broker_config(limits=dict(OVERLOAD, backpressure_timeout=0))
def test_fanin_qos1_overload_without_backpressure_drops(broker):
    # The same run with back-pressure off: the full queue refuses messages
    # (so the test above is one that can fail).
    r = bench(broker, "fanin", *OVERLOAD_RUN, *SHORT)
    assert r["errors"] == 0 and r["unacked"] == 0
    assert r["lost"] > 0 and r["duplicated"] == 0


@pytest.mark.parametrize("mqtt", ["5", "3.1.1"])
def test_persistent_sessions_qos1(broker, mqtt):
    # Persistent sessions go through the store (when the broker has one).
    r = bench(broker, "fanin", "--pubs", 2, "--subs", 1, "--qos", 1, "--mqtt", mqtt,
              "--session-expiry", 60, "--rate", 1000, *SHORT)
    assert_nothing_lost(r, copies=1)


def test_fanout_qos0_v311(broker):
    r = bench(broker, "fanout", "--pubs", 1, "--subs", 5, "--qos", 0, "--mqtt", "3.1.1",
              "--size", 200, "--window", 20, *SHORT)
    assert (r["mqtt"], r["size"], r["window"]) == ("3.1.1", 200, 20)
    assert_nothing_lost(r, copies=5)


def test_shared_fanin_qos2_fixed_rate(broker):
    # Each message goes to exactly one member of the $share group.
    r = bench(broker, "fanin", "--pubs", 3, "--subs", 3, "--share", "g", "--qos", 2,
              "--rate", 2000, *SHORT)
    assert r["share"] == "g"
    assert_nothing_lost(r, copies=1)


def test_pub_only_counts_writes(broker):
    r = bench(broker, "pub", "--pubs", 2, "--qos", 1, *SHORT)
    assert r["subs"] == 0 and r["received"] == 0 and r["expected"] == 0
    assert r["sent"] > 0 and r["unacked"] == 0 and r["errors"] == 0


def test_conn_holds_connections(broker):
    r = bench(broker, "conn", "--conns", 300, "--duration", "0.5")
    assert (r["connected"], r["still_connected"], r["errors"], r["refused"]) == (300, 300, 0, 0)
    assert r["broker_rss_after_kib"] > 0 and r["broker_rss_before_kib"] > 0


def test_relay_passes_every_message():
    # The do-nothing relay (the latency floor in docs/benchmarks.md) is a
    # real MQTT peer for strata-bench: nothing lost, duplicated, reordered.
    port = brokerproc.free_port()
    relay = subprocess.Popen([bench_bin(), "relay", "--url", "tcp://127.0.0.1:%d" % port, "--duration", "30"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and relay.poll() is None, relay.stderr.read()
                time.sleep(0.05)
        for qos, mqtt in ((0, "5"), (1, "3.1.1")):
            cmd = [bench_bin(), "fanin", "--url", "tcp://127.0.0.1:%d" % port, "--pubs", "2", "--subs", "1",
                   "--qos", str(qos), "--mqtt", mqtt, "--rate", "2000"] + SHORT
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
            assert r.returncode == 0, r.stderr
            assert_nothing_lost(json.loads(r.stdout.strip().splitlines()[-1]), copies=1)
    finally:
        relay.terminate()
        relay.wait(10)


def test_bad_flag_is_refused(broker):
    r = subprocess.run([bench_bin(), "fanin", "--qos", "3"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2
    assert "--qos 3: expected 0, 1 or 2" in r.stderr
    r = subprocess.run([bench_bin(), "fanin", "--url", "quic://127.0.0.1:1"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 2
    assert "--url quic://127.0.0.1:1: unknown scheme quic (tcp, tls, ws, wss)" in r.stderr
    r = subprocess.run([bench_bin(), "fanin", "--url", "tcp://127.0.0.1:1", "--insecure"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 2
    assert "need a tls:// or wss:// --url" in r.stderr


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory):
    pki = certs.make_pki(tmp_path_factory.mktemp("pki"))
    workdir = tmp_path_factory.mktemp("secure")
    b = SecureBroker(workdir / "b", pki)
    os.makedirs(b.workdir, exist_ok=True)
    b.start()
    yield b, pki
    b.stop()


@pytest.mark.strata_only
@pytest.mark.parametrize("scheme", ["tls", "ws", "wss"])
def test_fanin_qos1_over_tls_and_websocket(secure_broker, scheme):
    b, pki = secure_broker
    url = {"tls": "tls://127.0.0.1:%d" % b.ports["tls"],
           "ws": "ws://127.0.0.1:%d/mqtt" % b.ports["ws"],
           "wss": "wss://127.0.0.1:%d/mqtt" % b.ports["wss"]}[scheme]
    tls = ["--cafile", pki["ca.crt"]] if scheme != "ws" else []
    r = bench(b, "fanin", "--pubs", 2, "--subs", 2, "--qos", 1, "--rate", 2000, *tls, *SHORT, url=url)
    assert r["received"] > 0
    assert_nothing_lost(r, copies=2)


@pytest.mark.strata_only
def test_tls_client_certificate(secure_broker):
    # The mtls listener requires a client certificate signed by the CA.
    b, pki = secure_broker
    r = bench(b, "fanin", "--pubs", 1, "--subs", 1, "--qos", 1, "--rate", 1000, "--cafile", pki["ca.crt"],
              "--cert", pki["alice.crt"], "--key", pki["alice.key"], *SHORT,
              url="tls://127.0.0.1:%d" % b.ports["mtls"])
    assert_nothing_lost(r, copies=1)


@pytest.mark.strata_only
@pytest.mark.parametrize("scheme", ["tls", "wss"])
def test_wrong_ca_fails_clearly(secure_broker, scheme):
    b, pki = secure_broker
    url = ("tls://127.0.0.1:%d" % b.ports["tls"]) if scheme == "tls" else ("wss://127.0.0.1:%d/mqtt" % b.ports["wss"])
    cmd = [bench_bin(), "fanin", "--url", url, "--cafile", pki["other-ca.crt"], "--qos", "1", *map(str, SHORT)]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "subscribers could not subscribe: tls handshake: certificate verify failed" in r.stderr
    # --insecure skips the verification: the same broker is then reachable.
    r = bench(b, "fanin", "--pubs", 1, "--subs", 1, "--qos", 1, "--rate", 1000, "--insecure", *SHORT, url=url)
    assert_nothing_lost(r, copies=1)
