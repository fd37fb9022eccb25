"""The durable store: persistent sessions, queued and inflight messages,
QoS 2 state and retained messages survive SIGTERM and kill -9 restarts;
durability "sync" loses no acknowledged message; a data directory that is
in use, damaged or from a newer format is refused with a clear error.

Clients are raw sockets (raw.py) so every packet id, DUP flag and reason
code is checked, and so 10,000 messages can be pipelined in seconds.
Strata only: Mosquitto runs here with persistence off.
"""

import os
import signal
import time

import pytest

import brokerproc
import raw

pytestmark = pytest.mark.strata_only

EXPIRY = {"session_expiry_interval": 3600}


def publish_pipelined(c, messages, window=500):
    """Publishes [(topic, payload, qos, retain, props)] keeping up to
    `window` unacknowledged; runs the QoS 2 flow. Returns the payloads whose
    PUBACK/PUBREC came back with reason < 0x80, in order."""
    acked = []
    pid = 0
    for start in range(0, len(messages), window):
        chunk = messages[start:start + window]
        pids = {}
        out = bytearray()
        for topic, payload, qos, retain, props in chunk:
            pid = pid % 65535 + 1
            pids[pid] = (payload, qos)
            out += raw.publish(topic, payload, qos=qos, retain=retain, pid=pid, props=props,
                               version=c.version)
        c.send(out)
        waiting = {p for p, (_, q) in pids.items() if q}
        rels = bytearray()
        comp_wait = set()
        while waiting:
            p = c.recv(10.0)
            assert p.type in (raw.PUBACK, raw.PUBREC), "unexpected %r" % (p,)
            waiting.discard(p.pid)
            if p.rc < 0x80:
                acked.append(pids[p.pid][0])
                if p.type == raw.PUBREC:
                    rels += raw.pubrel(p.pid, version=c.version)
                    comp_wait.add(p.pid)
        if rels:
            c.send(rels)
        while comp_wait:
            p = c.expect(raw.PUBCOMP, 10.0)
            comp_wait.discard(p.pid)
    return acked


def receive_all(c, count, timeout=60.0):
    """Receives `count` PUBLISHes, acknowledging each (QoS 2: PUBREC, then
    PUBCOMP for the PUBREL, until every QoS 2 flow is complete). Returns the
    PUBLISH packets in arrival order."""
    got = []
    deadline = time.monotonic() + timeout
    pending_acks = bytearray()
    open_qos2 = set()
    while len(got) < count or open_qos2:
        try:
            p = c.recv(min(0.05, max(0.0, deadline - time.monotonic())) if pending_acks else
                       max(0.0, deadline - time.monotonic()))
        except raw.Timeout:
            if pending_acks:
                c.send(pending_acks)
                pending_acks = bytearray()
                continue
            raise AssertionError("received %d of %d messages, %d QoS 2 flows open"
                                 % (len(got), count, len(open_qos2)))
        if p.type == raw.PUBLISH:
            got.append(p)
            if p.qos == 1:
                pending_acks += raw.puback(p.pid, version=c.version)
            elif p.qos == 2:
                pending_acks += raw.pubrec(p.pid, version=c.version)
                open_qos2.add(p.pid)
        elif p.type == raw.PUBREL:
            pending_acks += raw.pubcomp(p.pid, version=c.version)
            open_qos2.discard(p.pid)
        else:
            raise AssertionError("unexpected %r" % (p,))
        if len(pending_acks) > 4096:
            c.send(pending_acks)
            pending_acks = bytearray()
    # Complete the QoS 2 flows still open.
    if pending_acks:
        c.send(pending_acks)
    return got


def persistent_subscriber(broker, client_id, filters, version=raw.V5):
    c = broker.raw(version)
    props = EXPIRY if version == raw.V5 else None
    ack = c.connect(client_id, clean=False, props=props)
    c.subscribe([(f, raw.sub_opts(qos=2)) for f in filters])
    return c, ack


def store_log_line(broker, run):
    with open(broker.logs[run - 1], "rb") as f:
        for line in f.read().decode("utf-8", "replace").splitlines():
            if "store: loaded" in line:
                return line
    return None


# ---------------------------------------------------------------------------
# Restarts


@pytest.mark.broker_config(limits={"max_queued_messages": 20000})
def test_10000_queued_qos1_qos2_survive_sigterm(broker):
    sub, _ = persistent_subscriber(broker, "store-sub", ["q/#"])
    sub.disconnect()
    pub = broker.raw()
    pub.connect("store-pub")
    n = 10000
    msgs = [("q/%d" % (i % 2 + 1), b"%d" % i, i % 2 + 1, False, None) for i in range(n)]
    acked = publish_pipelined(pub, msgs)
    assert len(acked) == n
    pub.disconnect()

    assert broker.stop() == 0
    broker.start()
    line = store_log_line(broker, 2)
    assert "loaded 1 sessions with 10000 queued/inflight messages" in line, line

    sub = broker.raw()
    ack = sub.connect("store-sub", clean=False, props=EXPIRY)
    assert ack.session_present
    got = receive_all(sub, n)
    sub.expect_nothing(0.3)
    by_topic = {"q/1": [], "q/2": []}
    for p in got:
        assert p.qos == (1 if p.topic == "q/1" else 2), p
        assert not p.dup, p  # never sent before the restart
        by_topic[p.topic].append(int(p.payload))
    assert by_topic["q/1"] == list(range(0, n, 2))
    assert by_topic["q/2"] == list(range(1, n, 2))
    sub.disconnect()

    # Acknowledged messages are gone from the store too.
    broker.restart()
    assert "loaded 1 sessions with 0 queued/inflight messages" in store_log_line(broker, 3)


def test_subscriptions_and_options_survive_kill9(broker):
    sub = broker.raw()
    sub.connect("kill-sub", clean=False, props=EXPIRY)
    sub.subscribe([("k/a", raw.sub_opts(qos=1)), ("k/b/+", raw.sub_opts(qos=2, nl=True))],
                  props={"subscription_identifier": 7})
    sub.disconnect()
    time.sleep(0.3)  # > flush_interval default 100 ms: committed (batch mode)
    broker.kill()
    broker.start()

    sub = broker.raw()
    ack = sub.connect("kill-sub", clean=False, props=EXPIRY)
    assert ack.session_present
    pub = broker.raw()
    pub.connect("kill-pub")
    pub.publish("k/a", b"one", qos=2)
    pub.publish("k/b/c", b"two", qos=2)
    got = receive_all(sub, 2)
    assert [(p.topic, p.payload, p.qos) for p in got] == [("k/a", b"one", 1), ("k/b/c", b"two", 2)]
    assert [p.props.get("subscription_identifier") for p in got] == [7, 7]
    # no_local survives: the subscriber's own publish does not come back.
    sub.publish("k/b/x", b"own", qos=1)
    sub.expect_nothing(0.3)


def test_clean_start_and_expiry_remove_stored_sessions(broker):
    a = broker.raw()
    a.connect("gone-clean", clean=False, props=EXPIRY)
    a.subscribe("x/1")
    a.disconnect()
    b = broker.raw()
    b.connect("gone-expired", clean=False, props={"session_expiry_interval": 1})
    b.subscribe("x/2")
    b.disconnect()
    a = broker.raw()
    a.connect("gone-clean", clean=True)  # ends the stored session
    a.disconnect()
    broker.stop()
    time.sleep(1.2)  # gone-expired's expiry passes while the broker is down
    broker.start()
    line = store_log_line(broker, 2)
    assert "loaded 0 sessions" in line and "1 expired sessions" in line, line
    c = broker.raw()
    assert not c.connect("gone-expired", clean=False, props=EXPIRY).session_present


def test_session_expiry_keeps_running_across_restart(broker):
    for cid in ("exp-early", "exp-late"):
        c = broker.raw()
        c.connect(cid, clean=False, props={"session_expiry_interval": 3})
        c.subscribe("e/1")
        c.disconnect()
    disconnected = time.monotonic()
    broker.restart()
    assert "loaded 2 sessions" in store_log_line(broker, 2)
    # Before its deadline the session is there (the deadline was kept) ...
    c = broker.raw()
    assert c.connect("exp-early", clean=False, props=EXPIRY).session_present
    # ... and after it, gone, although the broker was restarted meanwhile.
    time.sleep(max(0.0, disconnected + 3.3 - time.monotonic()))
    c = broker.raw()
    assert not c.connect("exp-late", clean=False, props=EXPIRY).session_present


@pytest.mark.broker_config(limits={"max_queued_messages": 20000})
def test_mqtt311_persistent_session_survives_restart(broker):
    sub, _ = persistent_subscriber(broker, "v311-sub", ["v/#"], version=raw.V311)
    sub.disconnect()
    pub = broker.raw(raw.V311)
    pub.connect("v311-pub")
    publish_pipelined(pub, [("v/t", b"%d" % i, 1, False, None) for i in range(100)])
    broker.restart()
    sub = broker.raw(raw.V311)
    assert sub.connect("v311-sub", clean=False).session_present
    got = receive_all(sub, 100)
    assert [int(p.payload) for p in got] == list(range(100))


# ---------------------------------------------------------------------------
# Inflight and QoS 2 state across a restart


def test_outgoing_inflight_resent_with_same_ids_after_restart(broker):
    sub = broker.raw()
    sub.connect("inflight-sub", clean=False, props=EXPIRY)
    sub.subscribe([("i/1", raw.sub_opts(qos=1)), ("i/2", raw.sub_opts(qos=2))])
    pub = broker.raw()
    pub.connect("inflight-pub")
    pub.publish("i/1", b"q1", qos=1)
    pub.publish("i/2", b"q2", qos=2)
    p1 = sub.expect(raw.PUBLISH)
    p2 = sub.expect(raw.PUBLISH)
    assert (p1.payload, p2.payload) == (b"q1", b"q2")
    sub.abort()  # no acks: both stay inflight
    broker.restart()
    sub = broker.raw()
    assert sub.connect("inflight-sub", clean=False, props=EXPIRY).session_present
    r1 = sub.expect(raw.PUBLISH)
    r2 = sub.expect(raw.PUBLISH)
    assert (r1.pid, r1.payload, r1.qos, r1.dup) == (p1.pid, b"q1", 1, True)
    assert (r2.pid, r2.payload, r2.qos, r2.dup) == (p2.pid, b"q2", 2, True)
    sub.send(raw.puback(r1.pid))
    sub.send(raw.pubrec(r2.pid))
    rel = sub.expect(raw.PUBREL)
    assert rel.pid == r2.pid
    sub.send(raw.pubcomp(r2.pid))
    sub.expect_nothing(0.3)


def test_qos2_outgoing_between_pubrec_and_pubcomp_survives_restart(broker):
    sub = broker.raw()
    sub.connect("q2-out", clean=False, props=EXPIRY)
    sub.subscribe([("o/1", raw.sub_opts(qos=2))])
    pub = broker.raw()
    pub.connect("q2-out-pub")
    pub.publish("o/1", b"once", qos=2)
    p = sub.expect(raw.PUBLISH)
    sub.send(raw.pubrec(p.pid))
    assert sub.expect(raw.PUBREL).pid == p.pid
    sub.abort()  # no PUBCOMP
    broker.restart()
    sub = broker.raw()
    assert sub.connect("q2-out", clean=False, props=EXPIRY).session_present
    # Only the PUBREL again: the message is not delivered a second time.
    rel = sub.expect(raw.PUBREL)
    assert rel.pid == p.pid
    sub.send(raw.pubcomp(p.pid))
    sub.expect_nothing(0.5)


def test_qos2_incoming_exactly_once_across_restart_between_pubrec_and_pubrel(broker):
    sub, _ = persistent_subscriber(broker, "q2-in-sub", ["in/#"])
    sub.disconnect()
    pub = broker.raw()
    pub.connect("q2-in-pub", clean=False, props=EXPIRY)
    pub.send(raw.publish("in/1", b"exactly", qos=2, pid=42))
    rec = pub.expect(raw.PUBREC)
    assert (rec.pid, rec.rc) == (42, 0)
    pub.abort()  # no PUBREL yet
    broker.restart()

    pub = broker.raw()
    assert pub.connect("q2-in-pub", clean=False, props=EXPIRY).session_present
    # The publisher resends (spec 4.4): acknowledged again, not routed again.
    pub.send(raw.publish("in/1", b"exactly", qos=2, pid=42, dup=True))
    rec = pub.expect(raw.PUBREC)
    assert (rec.pid, rec.rc) == (42, 0)
    pub.send(raw.pubrel(42))
    comp = pub.expect(raw.PUBCOMP)
    assert (comp.pid, comp.rc) == (42, 0)  # the id was known: 0x92 would mean lost state

    sub = broker.raw()
    assert sub.connect("q2-in-sub", clean=False, props=EXPIRY).session_present
    got = receive_all(sub, 1)
    assert got[0].payload == b"exactly"
    sub.expect_nothing(0.5)


# ---------------------------------------------------------------------------
# kill -9 under durability = "sync"


@pytest.mark.broker_config(store={"durability": "sync"}, limits={"max_queued_messages": 100000})
def test_kill9_during_stream_loses_no_acknowledged_message(broker, record_property):
    sub, _ = persistent_subscriber(broker, "sync-sub", ["s/#"])
    sub.disconnect()
    pub = broker.raw()
    pub.connect("sync-pub")
    acked = []
    sent = 0
    window = 50
    kill_after = 1500
    killed = False
    unacked = {}
    pid = 0
    deadline = time.monotonic() + 60
    while not killed and time.monotonic() < deadline:
        while len(unacked) < window:
            pid = pid % 65535 + 1
            unacked[pid] = b"%d" % sent
            pub.send(raw.publish("s/1", unacked[pid], qos=1, pid=pid))
            sent += 1
        p = pub.expect(raw.PUBACK, 10.0)
        assert p.rc == 0
        acked.append(int(unacked.pop(p.pid)))
        if len(acked) >= kill_after:
            broker.kill()
            killed = True
    assert killed, "published only %d messages" % sent
    pub.close()
    broker.start()

    # Everything acknowledged is stored; more may be (stored, ack not sent).
    stored = int(store_log_line(broker, 2).split("sessions with ")[1].split()[0])
    assert stored >= len(acked)
    # The publisher does what a QoS 1 client does after losing its
    # connection: it resends every unacknowledged PUBLISH with DUP set.
    pub = broker.raw()
    pub.connect("sync-pub")
    resent = [int(v) for v in unacked.values()]
    pub.send(b"".join(raw.publish("s/1", v, qos=1, pid=p, dup=True) for p, v in unacked.items()))
    for _ in unacked:
        assert pub.expect(raw.PUBACK, 10.0).rc == 0

    sub = broker.raw()
    assert sub.connect("sync-sub", clean=False, props=EXPIRY).session_present
    got = receive_all(sub, stored + len(resent))
    sub.expect_nothing(0.3)
    payloads = [int(p.payload) for p in got]
    # Nothing lost: every message was acknowledged before the kill or after
    # its resend, and every one of them arrives.
    assert set(payloads) == set(acked) | set(resent)
    seen, first = set(), []
    for v in payloads:
        if v not in seen:
            seen.add(v)
            first.append(v)
    assert first == sorted(first), "out of order"
    # The duplicates QoS 1 gives: stored before the kill, not acknowledged
    # in time, resent — at most one publisher window.
    duplicates = len(payloads) - len(set(payloads))
    assert duplicates == stored - len(acked)
    assert duplicates <= window
    record_property("acknowledged", len(acked))
    record_property("stored_at_kill", stored)
    record_property("resent", len(resent))
    record_property("duplicates", duplicates)
    print("kill -9 under sync: %d acknowledged, %d stored, %d resent, %d duplicates"
          % (len(acked), stored, len(resent), duplicates))


# ---------------------------------------------------------------------------
# Retained messages


@pytest.mark.broker_config(store={"durability": "none"})
def test_10000_retained_survive_restart_and_expired_are_gone(broker):
    n, expiring = 10000, 1000
    pub = broker.raw()
    pub.connect("ret-pub")
    msgs = []
    for i in range(n):
        props = {"message_expiry_interval": 1} if i < expiring else None
        msgs.append(("r/%d" % i, b"v%d" % i, 1, True, props))
    assert len(publish_pipelined(pub, msgs)) == n
    pub.publish("r/0", b"", qos=1, retain=True)  # deleting one: stays deleted
    pub.disconnect()
    broker.stop()
    time.sleep(1.2)  # the expiring ones expire while the broker is down
    broker.start()
    line = store_log_line(broker, 2)
    assert "%d retained messages" % (n - expiring) in line and "%d expired messages" % (expiring - 1) in line, line

    sub = broker.raw()
    sub.connect("ret-sub")
    sub.subscribe([("r/#", raw.sub_opts(qos=1))])
    got = receive_all(sub, n - expiring, timeout=30)
    sub.expect_nothing(0.3)
    assert sorted(p.topic for p in got) == sorted("r/%d" % i for i in range(expiring, n))
    assert all(p.retain and p.payload == b"v" + p.topic[2:].encode() for p in got)

    broker.restart()
    line = store_log_line(broker, 3)
    assert "%d retained messages" % (n - expiring) in line and " 0 expired messages" in line, line


# ---------------------------------------------------------------------------
# Bad data directories


def test_second_broker_on_same_data_dir_fails_fast(broker, tmp_path):
    other = brokerproc.Broker(tmp_path / "second")
    other.data_dir = broker.data_dir
    with pytest.raises(brokerproc.BrokerError) as e:
        other.start(timeout=10)
    assert "is in use by another strata process (pid %d)" % broker.proc.pid in str(e.value)
    assert other.exits == [] or other.exits[-1][0] == 1
    assert other.proc is None or other.proc.returncode == 1
    # The first broker is unharmed.
    c = broker.raw()
    c.connect("still-here")


def _start_fails(broker, text):
    with pytest.raises(brokerproc.BrokerError) as e:
        broker.start(timeout=10)
    msg = str(e.value)
    assert "exited with 1 during start-up" in msg, msg
    assert text in msg, msg
    for marker in brokerproc.SANITIZER_MARKERS:
        assert marker not in msg
    if broker.proc is not None:
        broker._finish(expected=True)  # the exit was the point
    return msg


def _data_file(broker):
    return os.path.join(broker.data_dir, "store", "data.mdb")


def test_truncated_store_is_refused(broker):
    c = broker.raw()
    c.connect("t", clean=False, props=EXPIRY)
    c.subscribe("t/#")
    pub = broker.raw()
    pub.connect("t-pub")
    publish_pipelined(pub, [("t/x", b"x" * 1000, 1, True, None)] + [("t/%d" % i, b"y" * 500, 1, True, None)
                                                                   for i in range(200)])
    broker.stop()
    size = os.path.getsize(_data_file(broker))
    assert size > 5 * 4096
    with open(_data_file(broker), "r+b") as f:
        f.truncate(size // 2)
    _start_fails(broker, "is truncated")


@pytest.mark.parametrize("size,error", [
    (0, "is empty (0 bytes)"),                   # LMDB alone would start afresh over it
    (100, "is not a readable LMDB store"),       # inside the first meta page
    (4096, "is not a readable LMDB store"),      # the first meta page only
    (6000, "is truncated"),                      # both meta pages, no data pages
])
def test_store_truncated_into_its_header_is_refused(broker, size, error):
    c = broker.raw()
    c.connect("h", clean=False, props=EXPIRY)
    c.subscribe("h/#")
    pub = broker.raw()
    pub.connect("h-pub")
    publish_pipelined(pub, [("h/%d" % i, b"y" * 500, 1, True, None) for i in range(50)])
    broker.stop()
    with open(_data_file(broker), "r+b") as f:
        f.truncate(size)
    msg = _start_fails(broker, error)
    assert _data_file(broker) in msg, msg
    assert os.path.getsize(_data_file(broker)) == size  # left as found, for whoever recovers it


def test_corrupt_store_header_is_refused(broker):
    c = broker.raw()
    c.connect("c", clean=False, props=EXPIRY)
    broker.stop()
    with open(_data_file(broker), "r+b") as f:
        f.write(b"\xa5" * 8192)  # both meta pages
    _start_fails(broker, "is not a readable LMDB store")


def test_data_dir_that_is_a_file_is_refused(tmp_path):
    b = brokerproc.Broker(tmp_path)
    os.makedirs(b.data_dir, exist_ok=True)
    os.rmdir(b.data_dir)
    with open(b.data_dir, "w") as f:
        f.write("not a directory")
    _start_fails(b, "cannot create the store directory")


@pytest.mark.broker_config(store={"map_size": 1048576, "max_map_size": 1048576})
def test_full_store_refuses_qos1_with_quota_exceeded_and_recovers(broker):
    pub = broker.raw()
    pub.connect("full-pub")
    big = b"z" * 60000
    refused_at = None
    for i in range(100):
        ack = pub.publish("full/%d" % i, big, qos=1, retain=True, pid=i + 1)
        if ack.rc == 0x97:
            refused_at = i
            break
        assert ack.rc == 0
        time.sleep(0.02)  # lets the writer fail and report before the next one
    assert refused_at is not None, "a 1 MiB store took 100 x 60 kB"
    assert broker.wait_log("STORE FULL", 5)
    # Free space: delete the retained messages (QoS 0 is still accepted).
    for i in range(refused_at + 1):
        pub.send(raw.publish("full/%d" % i, b"", qos=0, retain=True))
    assert broker.wait_log("store writable again", 10)
    ack = pub.publish("full/ok", b"small", qos=1, pid=500)
    assert ack.rc == 0


def test_read_only_data_dir_is_refused(tmp_path):
    import shutil
    import subprocess
    import tempfile
    binary = brokerproc.strata_bin()
    base = tempfile.mkdtemp(prefix="strata-ro-")
    try:
        os.chmod(base, 0o755)
        data = os.path.join(base, "data")
        os.makedirs(data)
        os.chmod(data, 0o555)
        cmd = [binary, "--listen", "tcp://127.0.0.1:%d" % brokerproc.free_port(), "--data-dir", data]
        if os.geteuid() == 0:  # root ignores permissions: run as nobody
            if not shutil.which("setpriv"):
                pytest.skip("running as root without setpriv")
            cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + cmd
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
        err = r.stderr.decode("utf-8", "replace")
        assert r.returncode == 1, err
        assert "cannot create the store directory %s/store: Permission denied" % data in err, err
        for marker in brokerproc.SANITIZER_MARKERS:
            assert marker not in err
    finally:
        os.chmod(os.path.join(base, "data"), 0o755)
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.broker_config(limits={"max_queued_bytes": 100, "queue_qos0_offline": True})
def test_queue_bounded_by_bytes_drops_qos0_first_then_refuses(broker):
    sub, _ = persistent_subscriber(broker, "bytes-sub", ["b/#"])
    sub.disconnect()
    pub = broker.raw()
    pub.connect("bytes-pub")
    # Each message is 3 topic + 30 payload = 33 bytes: three fit in 100.
    pub.publish("b/0", b"a" * 30, qos=0)
    pub.publish("b/1", b"b" * 30, qos=1, pid=1)
    pub.publish("b/2", b"c" * 30, qos=1, pid=2)
    pub.publish("b/3", b"d" * 30, qos=1, pid=3)  # evicts the QoS 0 one
    pub.publish("b/4", b"e" * 30, qos=1, pid=4)  # no QoS 0 left: not queued
    pub.publish("b/5", b"f" * 30, qos=0)         # QoS 0 into a full queue: dropped
    pub.disconnect()
    broker.restart()
    sub = broker.raw()
    assert sub.connect("bytes-sub", clean=False, props=EXPIRY).session_present
    got = receive_all(sub, 3)
    sub.expect_nothing(0.3)
    assert [p.topic for p in got] == ["b/1", "b/2", "b/3"]
