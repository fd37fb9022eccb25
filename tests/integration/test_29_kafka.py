"""MQTT -> Kafka: the kafka bridge against librdkafka's mock cluster (three
brokers on loopback, the real Kafka protocol; tools/kafka_mock) and an
independent consumer (confluent-kafka).

Every load test publishes at QoS 1, counts what the broker acknowledged,
reads everything back from Kafka and asserts: every acknowledged message
arrived, in order per key (one key = one MQTT topic = one partition), and
reports duplicates (allowed only where the test says why)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import brokerproc  # noqa: E402
import pahoc  # noqa: E402
from common import wait_until  # noqa: E402
from adminhttp import AdminClient  # noqa: E402
from kafkapeer import KafkaMock  # noqa: E402

pytestmark = pytest.mark.strata_only


@pytest.fixture(scope="module")
def kafka():
    with KafkaMock(brokers=3) as k:
        yield k


def kafka_bridge(kafka, name, filt, **keys):
    b = {"name": name, "type": "kafka", "brokers": kafka.bootstrap,
         "route": [{"direction": "out", "filter": filt}]}
    b.update(keys)
    return b


def start_broker(tmp_path, bridges, durability="batch", **extra):
    cfg = {"store": {"durability": durability}, "bridge": bridges}
    cfg.update(extra)
    return brokerproc.Broker(tmp_path, cfg).start()


def client(broker, cid):
    c = pahoc.PahoClient(broker.host, broker.port, client_id=cid)
    c.connect()
    return c


def publish_load(c, topics, per_topic, prefix="", stop_after=None):
    """Publishes per_topic messages to each topic at QoS 1 ("<topic>#<seq>"),
    round-robin, without waiting for each PUBACK; returns the infos by topic.
    `stop_after(i)` is called after every message (for outages)."""
    infos = {t: [] for t in topics}
    i = 0
    for seq in range(per_topic):
        for t in topics:
            payload = ("%s%s#%d" % (prefix, t, seq)).encode()
            try:
                infos[t].append((seq, c.client.publish(t, payload, 1)))
            except Exception:  # the connection died (the broker was killed)
                return infos
            i += 1
            if stop_after:
                stop_after(i)
        if seq % 50 == 0:
            time.sleep(0.005)  # bounded rate: the outages happen under load, not after it
    return infos


def acknowledged(infos, timeout=20.0):
    """{topic: [seq acknowledged]} once every PUBACK that will come came."""
    deadline = time.monotonic() + timeout
    for t, lst in infos.items():
        for seq, info in lst:
            left = deadline - time.monotonic()
            if left > 0 and info.rc == 0:
                try:
                    info.wait_for_publish(max(0.01, left))
                except (RuntimeError, ValueError):
                    pass
    return {t: [seq for seq, info in lst if info.is_published()] for t, lst in infos.items()}


def check_order_per_key(msgs, acked):
    """Every acknowledged message arrived, per key in publish order (a
    duplicate may repeat an earlier one); returns the number of duplicates."""
    by_key = {}
    for m in msgs:
        by_key.setdefault(m["key"].decode(), []).append(m)
    duplicates = 0
    for topic, seqs in acked.items():
        got = [int(m["value"].decode().rsplit("#", 1)[1]) for m in by_key.get(topic, [])]
        partitions = {m["partition"] for m in by_key.get(topic, [])}
        assert len(partitions) <= 1, "%s spread over partitions %r" % (topic, partitions)
        seen = set()
        highest = -1
        for s in got:
            if s in seen:
                duplicates += 1
                continue
            assert s == highest + 1, "%s: %d after %d (gap or reorder): %r" % (topic, s, highest, got[:50])
            seen.add(s)
            highest = s
        missing = set(seqs) - seen
        assert not missing, "%s: %d acknowledged messages lost, e.g. %r" % (topic, len(missing), sorted(missing)[:10])
    return duplicates


def consume_acknowledged(kafka, topic, acked, timeout=60.0):
    """Consumes `topic` until every acknowledged message is there. A count
    is not enough: after a SIGKILL the topic also holds duplicates and
    messages that were sent but never acknowledged to the publisher, so the
    count of acknowledged ones can be reached before the last re-sends."""
    deadline = time.monotonic() + timeout
    want = {(t, s) for t, seqs in acked.items() for s in seqs}
    n = len(want)
    while True:
        msgs = kafka.consume(topic, n, timeout=max(1.0, deadline - time.monotonic()))
        got = {(m["key"].decode(), int(m["value"].decode().rsplit("#", 1)[1])) for m in msgs}
        if want <= got or time.monotonic() >= deadline:
            return msgs
        n = len(msgs) + 1  # wait for more


def test_topic_key_headers_and_envelope(tmp_path, kafka):
    kafka.cmd("topic ot.l1 3 3")
    kafka.cmd("topic envelopes 1 3")
    b = start_broker(tmp_path, [
        kafka_bridge(kafka, "ot", "plant/+/temp", topic="ot.{2}", key="{topic}"),
        kafka_bridge(kafka, "env", "env/#", topic="envelopes", value="envelope", headers=False),
    ])
    try:
        c = client(b, "pub-headers")
        props = pahoc.props(UserProperty=[("unit", "C"), ("unit", "K")], ContentType="text/plain")
        c.publish("plant/l1/temp", b"21.5", qos=1, properties=props)
        c.publish("plant/l1/temp", b"21.6", qos=1)
        c.publish("env/a", b"\xff\x00", qos=1, retain=True)
        c.publish("env/a", b'{"v":1}', qos=0)
        msgs = kafka.consume("ot.l1", 2)
        assert [(m["key"], m["value"]) for m in msgs] == [(b"plant/l1/temp", b"21.5"), (b"plant/l1/temp", b"21.6")]
        assert msgs[0]["headers"] == [("unit", b"C"), ("unit", b"K"), ("content-type", b"text/plain"),
                                      ("mqtt-topic", b"plant/l1/temp")]
        assert msgs[1]["headers"] == [("mqtt-topic", b"plant/l1/temp")]
        env = kafka.consume("envelopes", 2)
        first, second = (json.loads(m["value"]) for m in env)
        assert env[0]["headers"] == [] and env[0]["key"] == b"env/a"
        assert first.pop("time") > 0 and second.pop("time") > 0
        assert first == {"topic": "env/a", "payload_base64": "/wA=", "qos": 1, "retain": True}
        assert second == {"topic": "env/a", "payload": '{"v":1}', "qos": 0, "retain": False}
    finally:
        b.stop()


def mock_dropped_delivered(kafka, b, topic, partitions, total):
    """Marks the test xfail when the mock cluster's log holds fewer messages
    than librdkafka (2.0.2) reported to Strata as delivered, and returns
    otherwise. Seen in about 1 run of 20 under this outage, more often with
    the machine loaded: Strata had produced every message once (no re-send,
    no dead letter) and every delivery report was a success, yet the
    partitions' high watermarks held 2-4 fewer, the missing ones between
    present neighbours of the same key. librdkafka's producer alone, without
    Strata, shows the same shortfall against the same mock in most runs once
    Produce errors are injected (tools/kafka_mock_shortfall.py; docs/
    benchmarks.md, "The Kafka mock cluster's shortfall, without Strata"):
    the mock, not the bridge, loses them. Strata's side is checked exactly;
    the shortfall in the mock's log is reported, not hidden."""
    s, body = AdminClient(b.admin_url).get("/api/v1/bridges/" + topic)
    assert s == 200
    if not (body["appended"] == body["sent"] == body["acknowledged"] == total
            and body["resent"] == 0 and body["dead_lettered"] == 0):
        return  # Strata's side is short: the caller's assertion stands
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": kafka.bootstrap, "group.id": "strata-wm-%d" % time.monotonic_ns()})
    try:
        held = sum(c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(partitions))
    finally:
        c.close()
    if held < total:
        pytest.xfail("the mock cluster holds %d of the %d messages it reported delivered to Strata" % (held, total))


def test_broker_down_and_request_errors_under_load_lose_nothing(tmp_path, kafka):
    kafka.cmd("topic load 4 3")
    b = start_broker(tmp_path, [kafka_bridge(kafka, "load", "load/#", topic="load",
                                             rdkafka={"linger.ms": 2})])
    try:
        c = client(b, "pub-outage")
        topics = ["load/k%d" % i for i in range(8)]

        def outage(i):
            if i == 600:
                kafka.cmd("down 2")
            elif i == 1200:
                kafka.cmd("errors 0 6 5")   # NOT_LEADER_OR_FOLLOWER on the next 5 Produce requests
                kafka.cmd("errors 0 7 5")   # REQUEST_TIMED_OUT on the 5 after
            elif i == 2000:
                kafka.cmd("up 2")

        infos = publish_load(c, topics, 300, stop_after=outage)
        acked = acknowledged(infos)
        total = sum(len(s) for s in acked.values())
        assert total == 2400
        try:
            msgs = kafka.consume("load", total, timeout=60)
        except AssertionError:
            mock_dropped_delivered(kafka, b, "load", 4, total)
            raise
        dups = check_order_per_key(msgs, acked)
        print("acknowledged %d, arrived %d, duplicates %d" % (total, len(msgs), dups))
        # The idempotent producer de-duplicates its own retries.
        assert dups == 0
    finally:
        kafka.cmd("up 2")
        b.stop()


def test_sigkill_resumes_from_the_acknowledged_offset(tmp_path, kafka):
    kafka.cmd("topic resume 2 3")
    b = start_broker(tmp_path, [kafka_bridge(kafka, "resume", "resume/#", topic="resume")], durability="sync")
    c = client(b, "pub-kill")
    topics = ["resume/a", "resume/b"]
    killed = []

    def kill(i):
        if i == 1500 and not killed:
            b.proc.send_signal(signal.SIGKILL)
            killed.append(i)

    infos = publish_load(c, topics, 1000, stop_after=kill)
    acked = acknowledged(infos, timeout=5)
    c.client.loop_stop()
    b.stop()  # reaps the killed process
    b.start()
    try:
        total = sum(len(s) for s in acked.values())
        assert total > 0
        # After the restart the outbox re-sends what Kafka had not confirmed.
        msgs = consume_acknowledged(kafka, "resume", acked)
        dups = check_order_per_key(msgs, acked)
        print("acknowledged %d, arrived %d, duplicates %d (re-sent after SIGKILL)" % (total, len(msgs), dups))
    finally:
        b.stop()


def test_permanent_error_dead_letters_exactly_the_bad_messages(tmp_path, kafka):
    kafka.cmd("topic perm 1 3")
    b = start_broker(tmp_path, [kafka_bridge(kafka, "perm", "perm/#", topic="perm",
                                             rdkafka={"message.max.bytes": 2000})])
    try:
        c = client(b, "pub-perm")
        big = b"x" * 5000
        for i in range(10):
            c.publish("perm/t", big if i in (3, 7) else ("ok#%d" % i).encode(), qos=1)
        msgs = kafka.consume("perm", 8)
        assert [m["value"] for m in msgs] == [("ok#%d" % i).encode() for i in range(10) if i not in (3, 7)]
        wait_until(lambda: b.log.count("Message size too large") >= 2, timeout=10, what="two dead letters")
        time.sleep(0.2)
        assert kafka.consume("perm", 8, timeout=1) == msgs  # nothing more arrived

        # The dead letters on the admin API and strata-ctl: list, re-send one
        # (rejected again, it comes back under a new offset), purge.
        api = AdminClient(b.admin_url)

        def dead():
            s, body = api.get("/api/v1/bridges/perm/dead")
            assert s == 200
            return [(d["offset"], d["topic"], d["payload_size"], d["payload"] == big.decode()) for d in body["data"]]

        wait_until(lambda: len(dead()) == 2, timeout=10, what="two dead letters listed")
        assert dead() == [(4, "perm/t", 5000, True), (8, "perm/t", 5000, True)]
        s, body = api.get("/api/v1/bridges/perm/dead?limit=1&page=2")
        assert s == 200 and body["meta"]["count"] == 2 and [d["offset"] for d in body["data"]] == [8]
        assert "Message size too large" in body["data"][0]["reason"]
        ctl = [os.path.join(os.path.dirname(brokerproc.strata_bin()), "strata-ctl"), "--url", b.admin_url]
        r = subprocess.run(ctl + ["bridges", "dead-resend", "perm", "--offset", "8"], capture_output=True, text=True,
                           timeout=30)
        assert (r.returncode, r.stdout) == (0, "Sent 1 dead letters of perm again\n"), r.stderr
        wait_until(lambda: [d[0] for d in dead()] == [4, 11], timeout=10, what="offset 8 rejected again as 11")
        s, body = api.post("/api/v1/bridges/perm/dead/resend?offset=99")
        assert s == 404 and body["message"] == "bridge 'perm' has no dead letter at offset 99"
        r = subprocess.run(ctl + ["bridges", "dead", "perm"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and [line.split()[0] for line in r.stdout.splitlines()[1:]] == ["4", "11"], r.stdout
        r = subprocess.run(ctl + ["bridges", "dead-purge", "perm"], capture_output=True, text=True, timeout=30)
        assert (r.returncode, r.stdout) == (0, "Purged 2 dead letters of perm\n"), r.stderr
        wait_until(lambda: dead() == [], timeout=10, what="dead letters purged")
        one = api.get("/api/v1/bridges/perm")[1]
        assert (one["dead_lettered"], one["acknowledged"], one["queued_messages"]) == (3, 8, 0)
        assert kafka.consume("perm", 8, timeout=1) == msgs  # the re-sent one was refused again, nothing else sent
    finally:
        b.stop()


def test_unknown_librdkafka_property_stops_start_up(tmp_path):
    conf = tmp_path / "bad.toml"
    conf.write_text('[[bridge]]\nname = "k"\ntype = "kafka"\nbrokers = "127.0.0.1:1"\nrdkafka.no.such = 1\n')
    r = subprocess.run([brokerproc.strata_bin(), "--check-config", str(conf)], capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.strip() == '%s:5:1: bridge \'k\': No such configuration property: "no.such"' % conf
