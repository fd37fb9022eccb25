"""Operating the store: its counters under $SYS/broker/store/... and
$SYS/broker/queues/..., read with mosquitto_sub; a full disk (a small
tmpfs as data directory) refuses QoS 1/2 with 0x97 while the broker keeps
serving, and the broker accepts them again once space is freed, with every
acknowledged message still there after a restart.

Strata only ($SYS names, the store).
"""

import os
import shutil
import subprocess
import tempfile
import time

import pytest

import brokerproc
import raw

pytestmark = [pytest.mark.strata_only, pytest.mark.broker_config(sys={"interval": 1})]

EXPIRY = {"session_expiry_interval": 3600}

STORE_TOPICS = ["commits", "writes", "bytes", "fsyncs", "latency/average", "latency/max", "map/size",
                "map/used", "full", "failures", "lost", "refused", "queue/bytes", "queue/limit", "queue/behind",
                "queue/behind_count"]


def sys_values(broker, timeout=10.0):
    """The retained $SYS/broker/store/#, queues/# and messages/dropped
    values, as mosquitto_sub prints them (topic -> text)."""
    r = subprocess.run(
        ["mosquitto_sub", "-h", broker.host, "-p", str(broker.port), "-V", "mqttv5", "-v", "--retained-only",
         "-W", str(int(timeout)), "-t", "$SYS/broker/store/#", "-t", "$SYS/broker/queues/#",
         "-t", "$SYS/broker/messages/dropped"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout + 5)
    values = {}
    for line in r.stdout.splitlines():
        topic, _, text = line.partition(" ")
        values[topic[len("$SYS/broker/"):]] = text
    return values


def number(values, name):
    text = values[name]
    return int(text.split()[0])


def wait_sys(broker, pred, what, timeout=15.0):
    """Polls the $SYS values until pred(values) holds; returns them."""
    deadline = time.monotonic() + timeout
    values = {}
    while time.monotonic() < deadline:
        values = sys_values(broker)
        try:
            if pred(values):
                return values
        except KeyError:
            pass
        time.sleep(0.3)
    raise AssertionError("$SYS never showed %s; last values %r" % (what, values))


# ---------------------------------------------------------------------------
# Counters


@pytest.mark.broker_config(limits={"max_queued_messages": 3, "queue_qos0_offline": True})
def test_store_and_queue_counters_in_sys(broker):
    before = wait_sys(broker, lambda v: all("store/" + t in v for t in STORE_TOPICS), "every store topic")
    for t in STORE_TOPICS:
        number(before, "store/" + t)
    assert number(before, "store/map/size") == 64 << 20  # the default map_size
    assert 0 < number(before, "store/map/used") <= 64 << 20
    assert before["store/full"] == "0"
    assert number(before, "store/queue/bytes") == 0  # nothing written yet
    assert number(before, "store/queue/limit") == 64 << 20  # the default write_queue_bytes
    assert before["store/queue/behind"] == "0"
    assert number(before, "store/queue/behind_count") == 0
    assert before["store/latency/average"].endswith(" us")
    assert before["store/latency/max"].endswith(" us")
    for t in ("failures", "lost", "refused"):
        assert number(before, "store/" + t) == 0, t
    assert number(before, "queues/dropped") == 0
    assert number(before, "queues/refused") == 0
    # $SYS messages themselves are never stored: an idle broker commits nothing.
    assert number(before, "store/commits") == 0
    assert number(before, "store/writes") == 0
    dropped0 = number(before, "messages/dropped")

    sub = broker.raw()
    sub.connect("counted-sub", clean=False, props=EXPIRY)
    sub.subscribe(("q/#", raw.sub_opts(qos=1)))
    sub.disconnect()
    pub = broker.raw()
    pub.connect("counted-pub")
    payload = b"p" * 1000
    for i in range(5):  # three are queued, two find the queue full
        assert pub.publish("q/%d" % i, payload, qos=1, pid=i + 1).rc == 0
    pub.publish("q/qos0", b"zero", qos=0)  # QoS 0 into a queue full of QoS 1: dropped
    pub.ping()

    after = wait_sys(broker, lambda v: number(v, "queues/dropped") == 1 and number(v, "queues/refused") == 2
                     and number(v, "store/writes") >= 4, "the queue drops and the writes")
    assert number(after, "messages/dropped") == dropped0 + 3
    assert number(after, "store/commits") >= 1
    # The session record and three queued deliveries of 1,000-byte payloads.
    assert number(after, "store/bytes") >= 3 * len(payload)
    assert number(after, "store/refused") == 0
    assert after["store/full"] == "0"

    # What was counted as queued is what arrives.
    sub = broker.raw()
    assert sub.connect("counted-sub", clean=False, props=EXPIRY).session_present
    got = [sub.expect(raw.PUBLISH) for _ in range(3)]
    assert [p.topic for p in got] == ["q/0", "q/1", "q/2"]
    sub.expect_nothing(0.3)


# ---------------------------------------------------------------------------
# A full disk


class Tmpfs:
    """A small tmpfs mounted for one test (root only); skipped otherwise."""

    def __init__(self, size):
        self.dir = tempfile.mkdtemp(prefix="strata-tmpfs-")
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", self.dir],
                           capture_output=True, text=True)
        if r.returncode != 0:
            os.rmdir(self.dir)
            pytest.skip("cannot mount a tmpfs to fill (needs root and mount permission): %s" % r.stderr.strip())

    def free(self):
        st = os.statvfs(self.dir)
        return st.f_bavail * st.f_frsize

    def close(self):
        for _ in range(50):
            if subprocess.run(["umount", self.dir], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        os.rmdir(self.dir)


@pytest.fixture
def tmpfs():
    fs = Tmpfs("8m")
    yield fs
    fs.close()


@pytest.mark.parametrize("durability", ["sync", "batch"])
def test_full_disk_refuses_qos1_qos2_with_quota_exceeded_and_recovers(tmpfs, tmp_path, durability):
    config = {"sys": {"interval": 1}, "store": {"durability": durability}}
    broker = brokerproc.Broker(tmp_path, config)
    broker.data_dir = os.path.join(tmpfs.dir, "data")
    os.makedirs(broker.data_dir)
    try:
        broker.start()
        _fill_disk_and_recover(broker, tmpfs, durability)
        broker.close_clients()
        assert broker.stop() == 0
        problems = broker.health_problems()
        assert not problems, problems
    finally:
        if broker.running():
            broker.kill()
        broker.close_clients()


def _fill_disk_and_recover(broker, tmpfs, durability):
    watcher = broker.raw()
    watcher.connect("full-watch")
    watcher.subscribe(("plain/#", raw.sub_opts(qos=0)))

    # Leave ~1.5 MB of the 8 MB free, then fill that with retained messages.
    filler = os.path.join(tmpfs.dir, "filler")
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, tmpfs.free() - 1536 * 1024))
    pub = broker.raw()
    pub.connect("full-pub")
    big = b"d" * 60000
    acked = []
    refused_at = None
    for i in range(200):
        ack = pub.publish("disk/%d" % i, big, qos=1, retain=True, pid=i % 60000 + 1)
        if ack.rc == 0x97:
            refused_at = i
            break
        assert ack.rc == 0, ack
        acked.append(i)
        time.sleep(0.02)  # lets the writer fail and report before the next one
    assert refused_at is not None, "1.5 MB of disk took 200 x 60 kB"
    assert broker.wait_log("STORE FULL", 5)
    assert "the disk is full" in broker.log

    # Refused, not crashed: QoS 1 and QoS 2 get 0x97, QoS 0 still flows,
    # new clients connect, $SYS says so.
    assert pub.publish("disk/more", b"x", qos=1, pid=60001).rc == 0x97
    pub.send(raw.publish("disk/q2", b"x", qos=2, pid=60002))
    rec = pub.expect(raw.PUBREC)
    assert (rec.pid, rec.rc) == (60002, 0x97)
    pub.publish("plain/live", b"still serving", qos=0)
    p = watcher.expect(raw.PUBLISH)
    assert (p.topic, p.payload) == ("plain/live", b"still serving")
    other = broker.raw()
    other.connect("full-newcomer")
    assert other.publish("disk/newcomer", b"x", qos=1, pid=7).rc == 0x97
    v311 = broker.raw(raw.V311)
    v311.connect("full-311")
    v311.send(raw.publish("disk/311", b"x", qos=1, pid=1, version=raw.V311))
    v311.expect_closed()  # MQTT 3.1.1 cannot say no: no PUBACK, the connection closes
    full = wait_sys(broker, lambda v: v["store/full"] == "1" and number(v, "store/refused") >= 4,
                    "store/full 1 and 4 refusals")
    assert number(full, "store/failures") >= 1
    # The writes of the message that did not fit were dropped (and counted).
    lost = number(full, "store/lost")
    assert lost >= 1

    # Space comes back: the broker notices by itself (no client writes).
    os.unlink(filler)
    assert broker.wait_log("store writable again", 10)
    assert pub.publish("disk/after", b"back", qos=1, retain=True, pid=60003).rc == 0
    pub.send(raw.publish("disk/after2", b"back2", qos=2, retain=True, pid=60004))
    rec = pub.expect(raw.PUBREC)
    assert (rec.pid, rec.rc) == (60004, 0)
    pub.send(raw.pubrel(60004))
    assert pub.expect(raw.PUBCOMP).pid == 60004
    wait_sys(broker, lambda v: v["store/full"] == "0", "store/full 0")

    # A restart finds every retained message that was acknowledged. Under
    # sync, acknowledged means stored. Under batch, PUBACK goes out before
    # the commit, so the messages in the batch that failed were acknowledged
    # and lost — exactly the writes counted in store/lost (and logged).
    broker.close_clients()
    assert broker.stop() == 0
    broker.start()
    reader = broker.raw()
    reader.connect("full-reader")
    reader.subscribe(("disk/#", raw.sub_opts(qos=0)))
    got = set()
    try:
        while True:
            got.add(reader.recv(1.0).topic)
    except raw.Timeout:
        pass
    want = {"disk/%d" % i for i in acked} | {"disk/after", "disk/after2"}
    if durability == "sync":
        assert got == want
    else:
        assert {"disk/after", "disk/after2"} <= got and got <= want
        assert len(want - got) == lost, sorted(want - got)


# ---------------------------------------------------------------------------
# A large shared group restored from the store


def _store_line(broker):
    with open(broker.logs[-1], "rb") as f:
        return next(l for l in f.read().decode("utf-8", "replace").splitlines() if "store: loaded" in l)


def _receive(c, n):
    """Receives exactly `n` PUBLISHes (acknowledging QoS 1), then nothing more."""
    got = []
    for _ in range(n):
        p = c.expect(raw.PUBLISH, 10.0)
        if p.qos == 1:
            c.send(raw.puback(p.pid))
        got.append(p)
    c.expect_nothing(0.2)
    return got


def test_shared_group_of_stored_sessions_survives_restart(broker):
    # More members than the trie keeps in a plain list, so the group is
    # indexed by subscriber when it is rebuilt at start-up.
    members = ["member-%02d" % i for i in range(20)]
    for m in members:
        c = broker.raw()
        c.connect(m, clean=False, props=EXPIRY)
        c.subscribe(("$share/grp/sh/#", raw.sub_opts(qos=1)), expect=[1])
        c.disconnect()
    watcher = broker.raw()
    watcher.connect("sh-watch", clean=False, props=EXPIRY)
    watcher.subscribe(("sh/#", raw.sub_opts(qos=1)), expect=[1])
    watcher.disconnect()

    assert broker.stop() == 0
    broker.start()
    assert "loaded 21 sessions" in _store_line(broker)
    pub = broker.raw()
    pub.connect("sh-pub")
    for i in range(40):
        assert pub.publish("sh/%d" % i, b"%d" % i, qos=1, pid=i + 1).rc == 0

    # All offline: the group serves its members in turn, two each; the
    # plain subscriber gets every message, in order.
    seen = []
    for m in members:
        c = broker.raw()
        assert c.connect(m, clean=False, props=EXPIRY).session_present
        got = _receive(c, 2)
        seen += [int(p.payload) for p in got]
        c.disconnect()
    assert sorted(seen) == list(range(40))
    w = broker.raw()
    assert w.connect("sh-watch", clean=False, props=EXPIRY).session_present
    assert [int(p.payload) for p in _receive(w, 40)] == list(range(40))
    w.disconnect()

    # One member leaves the group; after another restart the other 19
    # share the next 19 messages and it gets none.
    c = broker.raw()
    c.connect(members[0], clean=False, props=EXPIRY)
    c.unsubscribe(["$share/grp/sh/#"])
    c.disconnect()
    assert broker.stop() == 0
    broker.start()
    pub = broker.raw()
    pub.connect("sh-pub")
    for i in range(19):
        assert pub.publish("sh/x%d" % i, b"x", qos=1, pid=i + 1).rc == 0
    for m in members:
        c = broker.raw()
        assert c.connect(m, clean=False, props=EXPIRY).session_present
        _receive(c, 0 if m == members[0] else 1)
        c.disconnect()
