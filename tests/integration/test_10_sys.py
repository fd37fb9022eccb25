"""$SYS/broker/... topics (Strata): present, updated every [sys] interval,
and the counters move as clients connect, subscribe and publish."""

import re
import subprocess
import time

import pytest

import brokerproc
import raw

pytestmark = [pytest.mark.strata_only, pytest.mark.broker_config(sys={"interval": 1})]

TOPICS = [
    "$SYS/broker/version",
    "$SYS/broker/uptime",
    "$SYS/broker/clients/connected",
    "$SYS/broker/clients/total",
    "$SYS/broker/messages/received",
    "$SYS/broker/messages/sent",
    "$SYS/broker/bytes/received",
    "$SYS/broker/bytes/sent",
    "$SYS/broker/subscriptions/count",
    "$SYS/broker/retained messages/count",
]


class SysMonitor:
    def __init__(self, broker):
        self.c = broker.raw_connect("sysmon")
        self.c.subscribe(("$SYS/broker/#", 0), expect=[0])
        self.values = {}      # topic -> latest payload text
        self.updates = {}     # topic -> [(time, text)]

    def pump(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                p = self.c.recv(remaining)
            except raw.Timeout:
                return
            assert p.type == raw.PUBLISH, p
            text = p.payload.decode("utf-8")
            self.values[p.topic] = text
            if p.retain:
                continue  # a stored value sent on subscribe, not an update
            self.updates.setdefault(p.topic, []).append((time.monotonic(), text))

    def number(self, topic):
        m = re.match(r"\s*(\d+)", self.values[topic])
        assert m, "%s is not a number: %r" % (topic, self.values[topic])
        return int(m.group(1))

    def wait_for(self, topic, pred, timeout=4.0, what=""):
        """Waits for an update of `topic` (after now) whose number satisfies pred."""
        deadline = time.monotonic() + timeout
        start = time.monotonic()
        while time.monotonic() < deadline:
            self.pump(min(0.2, deadline - time.monotonic()))
            for t, text in self.updates.get(topic, []):
                if t >= start:
                    m = re.match(r"\s*(\d+)", text)
                    if m and pred(int(m.group(1))):
                        return int(m.group(1))
        raise AssertionError("%s never satisfied %s within %.1fs (updates: %r)" % (
            topic, what, timeout, self.updates.get(topic, [])[-5:]))

    def fresh(self, topic, timeout=3.0):
        """The value from the next update of `topic`."""
        return self.wait_for(topic, lambda v: True, timeout)


@pytest.fixture
def sysmon(broker):
    return SysMonitor(broker)


def test_all_sys_topics_published(sysmon):
    sysmon.pump(2.5)
    missing = [t for t in TOPICS if t not in sysmon.values]
    assert missing == [], "missing: %r; got %r" % (missing, sorted(sysmon.values))
    for t in TOPICS[1:]:
        sysmon.number(t)


def test_sys_version_matches_binary(sysmon):
    sysmon.pump(1.5)
    out = subprocess.run([brokerproc.strata_bin(), "--version"], capture_output=True, text=True, timeout=10)
    version = re.search(r"\d+\.\d+\.\d+", out.stdout).group(0)
    assert version in sysmon.values["$SYS/broker/version"]
    assert "strata" in sysmon.values["$SYS/broker/version"].lower()


def test_sys_updated_every_interval(sysmon):
    sysmon.pump(3.6)
    times = [t for t, _ in sysmon.updates.get("$SYS/broker/uptime", [])]
    assert len(times) >= 3, times
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(0.5 <= g <= 2.0 for g in gaps), gaps
    values = [int(re.match(r"\s*(\d+)", v).group(1)) for _, v in sysmon.updates["$SYS/broker/uptime"]]
    assert values == sorted(values) and values[-1] > values[0]


def test_clients_connected_and_total(broker, sysmon):
    base = sysmon.fresh("$SYS/broker/clients/connected")
    assert base >= 1  # the monitor itself
    total0 = sysmon.fresh("$SYS/broker/clients/total")
    assert total0 >= base
    extra = [broker.raw_connect("extra%d" % i) for i in range(3)]
    sysmon.wait_for("$SYS/broker/clients/connected", lambda v: v == base + 3, what="== base+3")
    sysmon.wait_for("$SYS/broker/clients/total", lambda v: v >= total0 + 3, what=">= total0+3")
    for c in extra:
        c.disconnect()
    sysmon.wait_for("$SYS/broker/clients/connected", lambda v: v == base, what="== base")


def test_message_and_byte_counters(broker, sysmon):
    r0 = sysmon.fresh("$SYS/broker/messages/received")
    s0 = sysmon.number("$SYS/broker/messages/sent")
    br0 = sysmon.number("$SYS/broker/bytes/received")
    bs0 = sysmon.number("$SYS/broker/bytes/sent")
    sub = broker.raw_connect("counted-sub")
    sub.subscribe(("count/t", 0), expect=[0])
    pub = broker.raw_connect("counted-pub")
    payload = b"z" * 1000
    for _ in range(5):
        pub.publish("count/t", payload)
    for _ in range(5):
        assert sub.expect(raw.PUBLISH).payload == payload
    sysmon.wait_for("$SYS/broker/messages/received", lambda v: v >= r0 + 5, what=">= +5")
    sysmon.wait_for("$SYS/broker/messages/sent", lambda v: v >= s0 + 5, what=">= +5")
    sysmon.wait_for("$SYS/broker/bytes/received", lambda v: v >= br0 + 5000, what=">= +5000")
    sysmon.wait_for("$SYS/broker/bytes/sent", lambda v: v >= bs0 + 5000, what=">= +5000")


def test_subscriptions_count(broker, sysmon):
    n0 = sysmon.fresh("$SYS/broker/subscriptions/count")
    c = broker.raw_connect("subs")
    c.subscribe([("sc/a", 0), ("sc/b", 1), ("sc/+/c", 0), ("$share/g/sc/d", 0)], expect=[0, 1, 0, 0])
    sysmon.wait_for("$SYS/broker/subscriptions/count", lambda v: v == n0 + 4, what="== +4")
    c.unsubscribe(["sc/a", "sc/b"])
    sysmon.wait_for("$SYS/broker/subscriptions/count", lambda v: v == n0 + 2, what="== +2")
    c.disconnect()  # session ends with the connection: its subscriptions go
    sysmon.wait_for("$SYS/broker/subscriptions/count", lambda v: v == n0, what="== n0")


def test_retained_count(broker, sysmon):
    n0 = sysmon.fresh("$SYS/broker/retained messages/count")
    p = broker.raw_connect("ret")
    for i in range(3):
        p.publish("rc/%d" % i, b"v", qos=1, retain=True, pid=i + 1)
    sysmon.wait_for("$SYS/broker/retained messages/count", lambda v: v == n0 + 3, what="== +3")
    p.publish("rc/0", b"", qos=1, retain=True, pid=9)
    sysmon.wait_for("$SYS/broker/retained messages/count", lambda v: v == n0 + 2, what="== +2")


def test_clients_cannot_publish_into_sys(broker, sysmon):
    sysmon.pump(1.2)
    real = sysmon.values["$SYS/broker/version"]
    p = broker.raw_connect("faker")
    p.send(raw.publish("$SYS/broker/version", b"fake 9.9.9", qos=1, pid=1))
    ack = p.recv()
    assert ack.type in (raw.PUBACK, raw.DISCONNECT), ack
    sysmon.pump(1.5)
    seen = [text for _, text in sysmon.updates["$SYS/broker/version"]]
    assert "fake 9.9.9" not in seen
    assert sysmon.values["$SYS/broker/version"] == real


@pytest.mark.broker_config(sys={"interval": 0})
def test_sys_interval_zero_disables(broker):
    c = broker.raw_connect("nosys")
    c.subscribe(("$SYS/#", 0), expect=[0])
    c.expect_nothing(1.5)
