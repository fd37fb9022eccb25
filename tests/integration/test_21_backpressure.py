"""Publisher back-pressure for QoS 1/2 (issue 5, README "Slow subscribers").

A subscriber with Receive Maximum 1 that does not acknowledge takes one
message into flight; the rest wait in its session queue. With
max_queued_messages = 40 the broker holds a publisher once 20 messages wait
(half the queue) and reads it again when fewer than 10 (a quarter) do. Every
publisher is a raw client that sends its whole burst at once, so what the
broker acknowledges shows exactly where it stopped reading.
"""

import time

import pytest

import raw
from common import collect_publishes

pytestmark = pytest.mark.strata_only

# One core, so what is counted when is exact (test_held_across_cores covers two).
ONE_CORE = {"threads": 1}
QUEUE = {"max_queued_messages": 40}
N = 200


def burst(topic, n=N, first_pid=1):
    return b"".join(raw.publish(topic, b"%d" % i, qos=1, pid=first_pid + i) for i in range(n))


def acks_until_silent(c, quiet=1.0, limit=30.0):
    """PUBACK packet ids received until nothing came for `quiet` seconds.
    PUBLISHes received meanwhile are kept, unacknowledged, for exchange()."""
    pids = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            p = c.recv(quiet)
        except raw.Timeout:
            return pids
        if p.type == raw.PUBLISH:
            c.unanswered = getattr(c, "unanswered", []) + [p]
            continue
        assert p.type == raw.PUBACK, p
        assert p.rc == 0, p
        pids.append(p.pid)
    raise AssertionError("acknowledgements did not stop within %.0fs" % limit)


def exchange(clients, want_pubacks, want_messages, limit=30.0):
    """Reads every client until each has its number of PUBACKs and of
    PUBLISHes, acknowledging each PUBLISH. Returns {client: payloads}."""
    got = {c: [] for c in clients}
    acked = {c: 0 for c in clients}
    for c in clients:
        for p in getattr(c, "unanswered", []):
            got[c].append(p.payload)
            c.send(raw.puback(p.pid))
        c.unanswered = []
    deadline = time.monotonic() + limit
    while any(acked[c] < want_pubacks[c] or len(got[c]) < want_messages[c] for c in clients):
        assert time.monotonic() < deadline, "stuck: acks %r, messages %r" % (
            [acked[c] for c in clients], [len(got[c]) for c in clients])
        for c in clients:
            try:
                p = c.recv(0.05)
            except raw.Timeout:
                continue
            if p.type == raw.PUBLISH:
                got[c].append(p.payload)
                c.send(raw.puback(p.pid))
            else:
                assert p.type == raw.PUBACK and p.rc == 0, p
                acked[c] += 1
    return got


def slow_subscriber(broker, name, topic_filter):
    sub = broker.raw_connect(name, props={"receive_maximum": 1})
    sub.subscribe((topic_filter, 1), expect=[1])
    return sub


@pytest.mark.broker_config(broker=ONE_CORE, limits=QUEUE)
def test_publisher_held_at_half_queue_and_nothing_lost(broker):
    sub = slow_subscriber(broker, "slow", "bp/#")
    pub = broker.raw_connect("pub")
    pub.send(burst("bp/t"))
    # 1 goes into flight, 2..21 wait: the 21st takes the queue to the hold
    # level, is acknowledged, and then the publisher is not read.
    assert acks_until_silent(pub) == list(range(1, 22))
    # The subscriber takes everything, in order; the publisher goes on as
    # its queue drains.
    got = exchange([pub, sub], {pub: N - 21, sub: 0}, {pub: 0, sub: N})
    assert got[sub] == [b"%d" % i for i in range(N)]
    assert pub.ping()


@pytest.mark.broker_config(broker=ONE_CORE, limits=QUEUE)
def test_held_publisher_is_not_timed_out_by_keep_alive(broker):
    # The broker does not read a held publisher, so its PINGREQs wait in the
    # socket: the silence is the broker's doing and must not count against
    # the client's keep alive (1 s: closed after 1.5 s of silence otherwise).
    sub = slow_subscriber(broker, "slow", "bp/#")
    pub = broker.raw_connect("pub", keepalive=1)
    pub.send(burst("bp/t"))
    assert acks_until_silent(pub, quiet=0.5) == list(range(1, 22))
    for _ in range(6):  # 3 s held, pinging as a client does
        pub.send(raw.pingreq())
        pub.expect_nothing(0.5)
    got = exchange([sub], {sub: 0}, {sub: N})
    assert got[sub] == [b"%d" % i for i in range(N)]
    # the pings and the rest of the acknowledgements, then still open
    types = [pub.recv(5).type for _ in range(N - 21 + 6)]
    assert types.count(raw.PINGRESP) == 6 and types.count(raw.PUBACK) == N - 21
    assert pub.ping()


@pytest.mark.broker_config(broker={"threads": 2}, limits=QUEUE)
def test_held_across_cores(broker):
    # Subscriber and publisher on different cores (connections are spread
    # round robin): a message is counted from the moment the publisher's
    # core routes it, so the one on its way to the subscriber's core counts
    # too and the publisher may stop one message earlier.
    sub = slow_subscriber(broker, "slow", "bp/#")
    pub = broker.raw_connect("pub")
    pub.send(burst("bp/t"))
    acked = acks_until_silent(pub)
    assert acked in (list(range(1, 21)), list(range(1, 22)))
    got = exchange([pub, sub], {pub: N - len(acked), sub: 0}, {pub: 0, sub: N})
    assert got[sub] == [b"%d" % i for i in range(N)]


@pytest.mark.broker_config(broker=ONE_CORE, limits=dict(QUEUE, backpressure_timeout=0))
def test_without_backpressure_a_full_queue_drops(broker):
    sub = slow_subscriber(broker, "slow", "bp/#")
    pub = broker.raw_connect("pub")
    pub.send(burst("bp/t"))
    assert acks_until_silent(pub) == list(range(1, N + 1))
    # one in flight + 40 queued; the other 159 were refused by the full queue
    got = exchange([sub], {sub: 0}, {sub: 41})
    assert got[sub] == [b"%d" % i for i in range(41)]
    sub.expect_nothing(0.5)


@pytest.mark.broker_config(broker=ONE_CORE, limits=dict(QUEUE, backpressure_timeout=1))
def test_subscriber_that_takes_nothing_stops_holding_publishers(broker):
    sub = slow_subscriber(broker, "hung", "bp/#")
    pub = broker.raw_connect("pub")
    pub.send(burst("bp/t"))
    # Held at 21; one second without progress marks the subscriber stalled
    # and the publisher is read again: all 200 are acknowledged.
    pids = acks_until_silent(pub, quiet=5.0)
    assert pids == list(range(1, N + 1))
    assert broker.wait_log("hung: took no message for 1 s; publishers no longer wait for it")
    # Its queue limits apply as without back-pressure: 1 + 40 arrive.
    got = exchange([sub], {sub: 0}, {sub: 41})
    assert got[sub] == [b"%d" % i for i in range(41)]
    sub.expect_nothing(0.5)


@pytest.mark.broker_config(broker=ONE_CORE, limits=QUEUE)
def test_client_publishing_to_its_own_slow_subscription_is_not_held(broker):
    # A client never waits for itself: it could not read the
    # acknowledgements that would drain its own queue.
    c = slow_subscriber(broker, "self", "loop/#")
    c.send(burst("loop/t"))
    got = exchange([c], {c: N}, {c: 41})
    assert got[c] == [b"%d" % i for i in range(41)]
    assert c.ping()


@pytest.mark.broker_config(broker=ONE_CORE, limits=QUEUE)
def test_two_clients_filling_each_other_do_not_deadlock(broker):
    # a subscribes to b's topic and b to a's, both slow. a fills b and is
    # held; b, whose own queue is backed up by then, is not held when it
    # fills a: it must stay readable so its acknowledgements can free a.
    # Neither waits for the other for ever; what a client with a backed-up
    # queue of its own sends to a full queue is subject to that queue's
    # limits.
    a = slow_subscriber(broker, "a", "from-b/#")
    b = slow_subscriber(broker, "b", "from-a/#")
    a.send(burst("from-a/t"))
    assert acks_until_silent(a) == list(range(1, 22))
    b.send(burst("from-b/t"))
    assert acks_until_silent(b) == list(range(1, N + 1))
    got = exchange([a, b], {a: N - 21, b: 0}, {a: 41, b: 21})
    assert got[a] == [b"%d" % i for i in range(41)]  # 1 in flight + 40 queued
    got_b = got[b] + [p.payload for p in collect_publishes(b, 1.0, ack=True)]
    # a's first 21 (sent while a was held) arrive; the rest in order,
    # those b's queue had room for
    assert got_b[:21] == [b"%d" % i for i in range(21)]
    seq = [int(x) for x in got_b]
    assert seq == sorted(set(seq)) and seq[-1] <= N - 1
    assert a.ping() and b.ping()
