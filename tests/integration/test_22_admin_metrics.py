"""/metrics under a bounded QoS 0/1/2 load on two listeners: the output
passes `promtool check metrics` while the load runs, and afterwards the
per-listener and per-QoS families count exactly what the test did."""

import re
import shutil
import subprocess
import threading

import pytest

import brokerproc
from adminhttp import AdminClient
from pahoc import PahoClient

pytestmark = pytest.mark.strata_only

N_QOS0, N_QOS1, N_QOS2 = 300, 120, 20
PAYLOAD0, PAYLOAD1, PAYLOAD2 = b"q0-payload", b"qos-one", b"two"


def parse(text):
    """{(name, frozenset(labels)): value} of the samples."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)', line)
        assert m, "not a sample line: %r" % line
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def promtool(text):
    r = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), capture_output=True, timeout=30)
    return r.returncode, (r.stdout + r.stderr).decode()


def test_metrics_by_listener_and_qos_count_exactly(tmp_path):
    if not shutil.which("promtool"):
        pytest.fail("promtool is not installed (tools/setup.sh installs Debian's prometheus)")
    second = brokerproc.free_port()
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "watch_q2.lua").write_text('topics = "load/q2"\nfunction on_message(msg) end\n')
    b = brokerproc.Broker(tmp_path, {"listener": [{"url": "tcp://127.0.0.1:%d" % second}],
                                     "rules": {"dir": "rules"}, "store": {"durability": "sync"}},
                          config_listeners=True)
    b.start()
    try:
        first_name = "tcp://127.0.0.1:%d" % b.port
        second_name = "tcp://127.0.0.1:%d" % second
        api = AdminClient(b.admin_url)

        sub = PahoClient(b.host, b.port, "metrics-sub")
        sub.connect()
        sub.subscribe("load/#", qos=2, expect=[2])
        p0 = PahoClient(b.host, b.port, "metrics-p0")
        p0.connect()
        p12 = PahoClient(b.host, second, "metrics-p12")
        p12.connect()
        for c in (sub, p0, p12):
            b.clients.append(c)

        # The load: bounded in count; scraped (and checked) while it runs.
        def load():
            for i in range(N_QOS0):
                p0.publish("load/q0", PAYLOAD0, qos=0, wait=False)
            for i in range(N_QOS1):
                p12.publish("load/q1", PAYLOAD1, qos=1, wait=False)
            for i in range(N_QOS2):
                p12.publish("load/q2", PAYLOAD2, qos=2, wait=False)
        t = threading.Thread(target=load)
        t.start()
        checks = []
        while t.is_alive() or not checks:
            status, text = api.get("/metrics")
            assert status == 200
            rc, out = promtool(text)
            assert rc == 0, "promtool check metrics:\n" + out
            checks.append(len(text))
        t.join(timeout=60)
        assert not t.is_alive()

        got = sub.wait_messages(N_QOS0 + N_QOS1 + N_QOS2, timeout=30)
        by_qos = {0: 0, 1: 0, 2: 0}
        for m in got:
            by_qos[m.qos] += 1
        assert by_qos == {0: N_QOS0, 1: N_QOS1, 2: N_QOS2}

        # Sent counters move once the PUBLISH is written; the subscriber
        # has read them all, so they are final now.
        status, text = api.get("/metrics")
        assert status == 200
        rc, out = promtool(text)
        assert rc == 0, out
        s = parse(text)

        def v(name, **labels):
            key = (name, frozenset(labels.items()))
            assert key in s, "%s%r missing from /metrics" % (name, labels)
            return s[key]

        expected = {"0": (N_QOS0, len(PAYLOAD0)), "1": (N_QOS1, len(PAYLOAD1)), "2": (N_QOS2, len(PAYLOAD2))}
        for q, (n, size) in expected.items():
            assert v("strata_messages_received_total", qos=q) == n, q
            assert v("strata_messages_sent_total", qos=q) == n, q
            assert v("strata_payload_bytes_received_total", qos=q) == n * size, q
            assert v("strata_payload_bytes_sent_total", qos=q) == n * size, q
        assert v("strata_listener_connects_total", listener=first_name) == 2
        assert v("strata_listener_connects_total", listener=second_name) == 1
        assert v("strata_listener_connections", listener=first_name) == 2
        assert v("strata_listener_connections", listener=second_name) == 1
        assert v("strata_connections") == 3
        # Rules by name: the one rule saw exactly the QoS 2 messages and passed them.
        assert v("strata_rule_messages_total", rule="watch_q2", result="matched") == N_QOS2
        assert v("strata_rule_messages_total", rule="watch_q2", result="passed") == N_QOS2
        assert v("strata_rule_messages_total", rule="watch_q2", result="dropped") == 0
        assert v("strata_rule_call_duration_seconds_count", rule="watch_q2") == N_QOS2
        assert v("strata_rule_call_duration_seconds_bucket", rule="watch_q2", le="+Inf") == N_QOS2
        # Store commits as a histogram: as many as the commit counter says
        # (read in one scrape while no commit runs: the QoS 1/2 messages are
        # all through, so the store falls quiet).
        for _ in range(100):
            h = parse(api.get("/metrics")[1])
            commits = h[("strata_store_commits_total", frozenset())]
            if h[("strata_store_commit_duration_seconds_count", frozenset())] == commits:
                break
        assert commits > 0
        assert h[("strata_store_commit_duration_seconds_count", frozenset())] == commits
        assert h[("strata_store_commit_duration_seconds_bucket", frozenset({("le", "+Inf")}))] == commits
        # The writer's queue: empty once the store is quiet, against the
        # default write_queue_bytes, never reached by this load.
        for _ in range(100):
            h = parse(api.get("/metrics")[1])
            if h[("strata_store_write_queue_bytes", frozenset())] == 0:
                break
        assert h[("strata_store_write_queue_bytes", frozenset())] == 0
        assert h[("strata_store_write_queue_limit_bytes", frozenset())] == 64 << 20
        assert h[("strata_store_writer_behind", frozenset())] == 0
        assert h[("strata_store_writer_behind_total", frozenset())] == 0
        assert v("strata_subscriptions") == 1
        # No label names a topic or a client.
        for (name, labels) in s:
            for k, val in labels:
                assert k not in ("topic", "client", "clientid", "client_id"), (name, labels)
                assert "metrics-" not in val and "load/" not in val, (name, labels)

        # A disconnect moves the gauge, not the counter.
        p12.disconnect()
        deadline_ok = False
        for _ in range(250):
            s = parse(api.get("/metrics")[1])
            if s[("strata_listener_connections", frozenset({("listener", second_name)}))] == 0:
                deadline_ok = True
                break
            threading.Event().wait(0.02)
        assert deadline_ok, "strata_listener_connections of %s did not drop to 0" % second_name
        assert s[("strata_listener_connects_total", frozenset({("listener", second_name)}))] == 1
    finally:
        b.close_clients()
        assert b.stop() == 0
    assert b.health_problems() == []
