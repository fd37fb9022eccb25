"""strata-bench smoke run (issue 5): the load generator runs against the real
broker for a second or two per scenario and loses, duplicates and reorders
nothing. A smoke run, not a benchmark: rates and latencies are printed by the
tool but never asserted (see docs/benchmarks.md for the real benchmark)."""

import json
import os
import subprocess

import pytest

import brokerproc


def bench_bin():
    strata = brokerproc.strata_bin()
    path = os.path.join(os.path.dirname(strata), "strata-bench") if strata else None
    if not path or not os.access(path, os.X_OK):
        pytest.fail("no strata-bench next to the strata binary (%s)" % strata)
    return path


def bench(broker, scenario, *args, expect_rc=0):
    cmd = [bench_bin(), scenario, "--url", "tcp://127.0.0.1:%d" % broker.port,
           "--broker-pid", str(broker.proc.pid)] + [str(a) for a in args]
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


def test_bad_flag_is_refused(broker):
    r = subprocess.run([bench_bin(), "fanin", "--qos", "3"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2
    assert "--qos 3: expected 0, 1 or 2" in r.stderr
    r = subprocess.run([bench_bin(), "fanin", "--url", "wss://127.0.0.1:1"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 2
    assert "not supported yet" in r.stderr
