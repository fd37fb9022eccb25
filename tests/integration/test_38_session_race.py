"""Two connections resuming one persistent session at once, on two cores.

A client that reconnects twice in quick succession (a retry while the first
attempt is still on its way, or two instances with one client id) sends two
CONNECTs without Clean Start. With two broker threads the connections land
on different cores, and the second asks for the session while the first is
still bringing it to its own core. The session must never be found missing
in between: both connections resume it (CONNACK with Session Present), the
one the broker handles second takes it over (the other gets DISCONNECT
0x8E), and every QoS 1 message acknowledged to the publisher while the
subscriber was away reaches the connection that keeps the session, each
exactly once. Before Core::take waited for a session on its way, about one
attempt in three started a new, empty session: the subscription and the
queued messages were gone.
"""

import time

import pytest

import raw

pytestmark = pytest.mark.strata_only

EXPIRY = {"session_expiry_interval": 300}
ROUNDS = 40
PER_ROUND = 5


def read_round(a, b, want, limit=15.0):
    """Reads both connections until one was closed and the other has every
    payload in `want`, acknowledging the publishes the survivor gets.
    Returns {client: {"connack", "publishes", "disconnect", "closed"}}."""
    seen = {c: {"connack": None, "publishes": [], "disconnect": None, "closed": False} for c in (a, b)}
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        for c in (a, b):
            st = seen[c]
            if st["closed"]:
                continue
            try:
                p = c.recv(0.02)
            except raw.Timeout:
                continue
            except raw.Closed:
                st["closed"] = True
                continue
            if p.type == raw.CONNACK:
                st["connack"] = p
            elif p.type == raw.PUBLISH:
                st["publishes"].append(p)
            elif p.type == raw.DISCONNECT:
                st["disconnect"] = p
        closed = [c for c in (a, b) if seen[c]["closed"]]
        alive = [c for c in (a, b) if not seen[c]["closed"]]
        if len(closed) == 1 and want <= {p.payload for p in seen[alive[0]]["publishes"]}:
            return seen
    return seen


@pytest.mark.broker_config(broker={"threads": 2})
def test_two_resumes_at_once_keep_the_session_and_its_messages(broker):
    sub = raw.RawClient(broker.host, broker.port)
    sub.connect("racer", clean=True, props=EXPIRY)
    sub.subscribe([("race/#", raw.sub_opts(qos=1))])
    sub.disconnect()
    pub = raw.RawClient(broker.host, broker.port)
    pub.connect("race-pub")

    lost, duplicates, takeovers = [], [], []
    pid = 0
    for r in range(ROUNDS):
        want = set()
        for i in range(PER_ROUND):
            pid += 1
            payload = b"%d/%d" % (r, i)
            pub.send(raw.publish("race/%d" % r, payload, qos=1, pid=pid))
            ack = pub.expect(raw.PUBACK)
            assert (ack.pid, ack.rc) == (pid, 0)
            want.add(payload)
        a = raw.RawClient(broker.host, broker.port)
        b = raw.RawClient(broker.host, broker.port)
        a.send(raw.connect("racer", clean=False, props=EXPIRY))
        b.send(raw.connect("racer", clean=False, props=EXPIRY))
        seen = read_round(a, b, want)
        for c in (a, b):
            ack = seen[c]["connack"]
            assert ack is not None and ack.rc == 0, "round %d: no CONNACK: %r" % (r, seen[c])
            assert ack.session_present, "round %d: a connection started a new session" % r
        closed = [c for c in (a, b) if seen[c]["closed"]]
        assert len(closed) == 1, "round %d: closed %d of 2: %r" % (r, len(closed), seen)
        loser, survivor = closed[0], (b if closed[0] is a else a)
        assert seen[loser]["disconnect"] is not None and seen[loser]["disconnect"].rc == 0x8E
        takeovers.append(loser is a)
        got = [p.payload for p in seen[survivor]["publishes"]]
        lost += sorted(want - set(got))
        duplicates += [g for g in set(got) if got.count(g) > 1]
        for p in seen[survivor]["publishes"]:
            survivor.send(raw.puback(p.pid))
        survivor.disconnect()
        loser.close()
    print("rounds %d, acknowledged %d, lost %d, duplicates %d, first connection taken over in %d"
          % (ROUNDS, ROUNDS * PER_ROUND, len(lost), len(duplicates), sum(takeovers)))
    assert lost == [] and duplicates == []
