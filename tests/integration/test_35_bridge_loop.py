"""Bridges between several brokers (issue 12): the loop guard of two strata
bridged both ways on overlapping filters, the hop limit along a chain of
three, an MQTT 3.1.1 bridge to a real mosquitto both ways, wrong
credentials (backing off, then every queued message once the peer lets
the bridge in), the drop_oldest and drop_new overflow policies with exact
counts while the peer is down, and order = "live_first" (live messages
ahead of a backlog, which carries `strata-backlog: 1`). Every test counts
exactly what arrived on each side and reports duplicates; none sleeps:
each waits for a later marker message or a counter."""

import os
import signal
import subprocess

import pytest

import brokerproc
import pahoc
from adminhttp import AdminClient
from bridgeload import Subscriber, V311, account
from common import wait_until
from test_24_bridge import bridge, edge_config, start

pytestmark = pytest.mark.skipif(brokerproc.KIND != "strata", reason="bridges are a strata feature")


def healthy(*nodes):
    """After stopping: no crash, no unexpected exit, no sanitizer report."""
    problems = [p for n in nodes for p in n.health_problems()]
    assert problems == [], problems


def api(node, name=None):
    s, body = AdminClient(node.admin_url).get("/api/v1/bridges" + ("/" + name if name else ""))
    assert s == 200, body
    return body


def post(node, path):
    s, body = AdminClient(node.admin_url).post(path)
    assert s == 200, body
    return body


def metrics(node):
    s, body = AdminClient(node.admin_url).get("/metrics")
    assert s == 200
    return body if isinstance(body, str) else body.decode()


def client(node, client_id, version=pahoc.V5, **kw):
    c = pahoc.PahoClient(node.host, node.port, client_id, version)
    c.connect(**kw)
    return c


def until_marker(sub, marker, timeout=15):
    """Every message `sub` receives up to and including the one with
    payload `marker` (which must come), probes left out."""
    out = []
    while True:
        m = sub.wait_message(timeout)
        if m.payload == PROBE:
            continue
        out.append(m)
        if m.payload == marker:
            return out


PROBE = b"probe"


def probe(pub, topic, sub, arrives_as):
    """Publishes probes on `topic` until `sub` gets one on `arrives_as` (a
    bridge subscribes on its peer after CONNACK); returns how many were
    published. Later copies are left out by until_marker."""
    n = [0]

    def seen():
        pub.publish(topic, PROBE, qos=1)
        n[0] += 1
        return any(m.payload == PROBE and m.topic == arrives_as for m in sub.drain())

    wait_until(seen, 10, interval=0.2, what="a probe on %s" % arrives_as)
    return n[0]


def hops(m):
    return [v for k, v in (m.prop("UserProperty") or []) if k == "strata-hops"]


def bridge_subscribed(peer, name, filter):
    """Waits until bridge `name` (client id strata-bridge-<name>) holds its
    subscription to `filter` on the strata `peer` (it subscribes after
    CONNACK)."""
    def there():
        st, body = AdminClient(peer.admin_url).get("/api/v1/clients/strata-bridge-" + name)
        return st == 200 and any(x["topic"] == filter for x in body.get("subscriptions", []))

    wait_until(there, 15, what="bridge %s subscribed to %s" % (name, filter))


def connected(node, name):
    wait_until(lambda: api(node, name)["state"] == "connected", 15, what="%s connected" % name)


# -- (a) loop guard ------------------------------------------------------------

def test_both_ways_on_overlapping_filters_each_message_once_never_back(tmp_path):
    """A bridges to B with out plant/# and in plant/# (v5: No Local, and
    what came in is never sent back out): a message published on A reaches
    B's subscriber once and never comes back to A's, and the other way."""
    b = start(tmp_path, "b")
    a = start(tmp_path, "a", edge_config([bridge("ab", b.port, [
        {"filter": "plant/#", "qos": 1},
        {"direction": "in", "filter": "plant/#", "qos": 1}])]))
    try:
        connected(a, "ab")
        sub_a, sub_b = client(a, "loop-sub-a"), client(b, "loop-sub-b")
        sub_a.subscribe("plant/#", 1)
        sub_b.subscribe("plant/#", 1)
        pub_a, pub_b = client(a, "loop-pub-a"), client(b, "loop-pub-b")
        bridge_subscribed(b, "ab", "plant/#")
        for i in range(20):
            pub_a.publish("plant/a/%d" % (i % 3), b"a:%d" % i, qos=1)
            pub_b.publish("plant/b/%d" % (i % 3), b"b:%d" % i, qos=1)
        # An echo of A's messages from B would come before B's later marker
        # (one connection, in order); of B's, before A's marker at B.
        pub_b.publish("plant/end", b"end-b", qos=1)
        got_a = until_marker(sub_a, b"end-b")
        pub_a.publish("plant/end", b"end-a", qos=1)
        got_b = until_marker(sub_b, b"end-a")  # end-b (local) came before it
        got_a += until_marker(sub_a, b"end-a")
        for side, got in (("A", got_a), ("B", got_b)):
            payloads = [m.payload for m in got]
            for tag in ("a", "b"):
                r = account(tag, set(range(20)), payloads)
                print("loop guard at %s, %s's messages:" % (side, tag), {k: (v if not isinstance(v, list) else len(v)) for k, v in r.items()})
                assert r["lost"] == [] and r["duplicates"] == 0 and r["extra"] == [] and r["order_breaks"] == 0
            assert sorted(payloads.count(x) for x in (b"end-a", b"end-b")) == [1, 1]
        # Messages that crossed the bridge carry one hop; local ones none.
        assert {tuple(hops(m)) for m in got_b if m.payload.startswith(b"a:")} == {("1",)}
        assert {tuple(hops(m)) for m in got_a if m.payload.startswith(b"b:")} == {("1",)}
        assert {tuple(hops(m)) for m in got_a if m.payload.startswith(b"a:")} == {()}
        sub_a.expect_no_message(0.3)
        sub_b.expect_no_message(0.3)
        one = api(a, "ab")
        assert one["dropped"]["hops"] == 0
        assert one["received"] == 20 + 1  # B's 20 and end-b
        for c in (sub_a, sub_b, pub_a, pub_b):
            c.close()
    finally:
        a.stop()
        b.stop()
        healthy(a, b)


def test_two_one_way_bridges_into_each_other_stop_at_the_hop_limit(tmp_path):
    """A pulls plant/# from B and B pulls plant/# from A (two connections:
    No Local cannot help). Each crossing counts a hop, so a message goes
    round until max_hops (2) and is then dropped and counted: it reaches
    B once (hops 1) and comes back to A once (hops 2), never more."""
    a_port, b_port = brokerproc.free_port(), brokerproc.free_port()
    a = brokerproc_strata(tmp_path, "a2", b_port, "pull_b", a_port)
    b = brokerproc_strata(tmp_path, "b2", a_port, "pull_a", b_port)
    try:
        connected(a, "pull_b")
        connected(b, "pull_a")
        sub_a, sub_b = client(a, "ring-sub-a"), client(b, "ring-sub-b")
        sub_a.subscribe("plant/#", 1)
        sub_b.subscribe("plant/#", 1)
        pub_a = client(a, "ring-pub-a")
        bridge_subscribed(a, "pull_a", "plant/#")
        bridge_subscribed(b, "pull_b", "plant/#")
        for i in range(5):
            pub_a.publish("plant/x", b"r:%d" % i, qos=1)
        pub_a.publish("plant/end", b"end", qos=1)
        got_b = until_marker(sub_b, b"end")
        got_a = until_marker(sub_a, b"end")  # A's own copy ...
        got_a += until_marker(sub_a, b"end")  # ... and the one that came back
        assert [m.payload for m in got_b] == [b"r:%d" % i for i in range(5)] + [b"end"]
        assert [hops(m) for m in got_b] == [["1"]] * 6
        a_own = [m for m in got_a if hops(m) == []]
        a_back = [m for m in got_a if hops(m) == ["2"]]
        assert [m.payload for m in a_own] == [m.payload for m in a_back] == [b"r:%d" % i for i in range(5)] + [b"end"]
        assert len(got_a) == 12
        sub_a.expect_no_message(0.3)
        sub_b.expect_no_message(0.1)
        # The 5 and the marker: dropped at B's pull, where each would have
        # crossed a third time; nothing at A's.
        wait_until(lambda: api(b, "pull_a")["dropped"]["hops"] == 6, 10, what="6 dropped at B's pull")
        assert api(a, "pull_b")["dropped"]["hops"] == 0
        for c in (sub_a, sub_b, pub_a):
            c.close()
    finally:
        a.stop()
        b.stop()
        healthy(a, b)


def brokerproc_strata(tmp, name, peer_port, bridge_name, own_port):
    """A strata on `own_port` pulling plant/# from the strata on `peer_port`
    (which may not be up yet), max_hops 2."""
    d = os.path.join(str(tmp), name)
    os.makedirs(d, exist_ok=True)
    from test_24_bridge import Strata
    s = Strata(d, edge_config([bridge(bridge_name, peer_port, [
        {"direction": "in", "filter": "plant/#", "qos": 1}], max_hops=2)]))
    s.port = own_port
    return s.start()


# -- (b) hop limit along a chain -----------------------------------------------

def test_hop_limit_along_a_chain_of_three(tmp_path):
    """A pushes plant/# to B; B pushes plant/# to C as push/{topic}, and C
    pulls plant/# from B as pull/{topic}, both with max_hops = 2. A message
    from A is at B with strata-hops 1 and at C with 2; one that already
    carried a hop from upstream is at B with 2 and dropped by both ways to
    C, counted where each bridge shows it ($SYS, the API, /metrics)."""
    c = start(tmp_path, "c", {"sys": {"interval": 1}})
    b = start(tmp_path, "b", edge_config([bridge("bc", c.port, [{"filter": "plant/#", "remote": "push/{topic}", "qos": 1}],
                                                 max_hops=2)]))
    a = start(tmp_path, "a", edge_config([bridge("ab", b.port, [{"filter": "plant/#", "qos": 1}])]))
    c.stop()
    c = start_with_bridges(c, [bridge("pull", b.port, [{"direction": "in", "filter": "plant/#", "local": "pull/{topic}",
                                                           "qos": 1}], max_hops=2)])
    try:
        for node, name in ((a, "ab"), (b, "bc"), (c, "pull")):
            connected(node, name)
        sub_b, sub_c = client(b, "chain-sub-b"), client(c, "chain-sub-c")
        sub_b.subscribe("plant/#", 1)
        sub_c.subscribe("push/#", 1)
        sub_c.subscribe("pull/#", 1)
        pub_a, pub_b = client(a, "chain-pub-a"), client(b, "chain-pub-b")
        bridge_subscribed(b, "pull", "plant/#")
        upstream = pahoc.props(UserProperty=[("strata-hops", "1")])
        for i in range(3):
            pub_a.publish("plant/a", b"a:%d" % i, qos=1)
            pub_a.publish("plant/h", b"h:%d" % i, qos=1, properties=upstream)
        pub_a.publish("plant/end-a", b"end-a", qos=1)
        at_b = until_marker(sub_b, b"end-a")  # A's bridge keeps order: all of A's are at B
        for i in range(3):
            pub_b.publish("plant/b", b"b:%d" % i, qos=1)
        pub_b.publish("plant/end", b"end", qos=1)
        at_b += until_marker(sub_b, b"end")
        hop_of = lambda msgs: {(m.topic, m.payload): tuple(hops(m)) for m in msgs}
        want_b = {}
        for i in range(3):
            want_b[("plant/a", b"a:%d" % i)] = ("1",)
            want_b[("plant/h", b"h:%d" % i)] = ("2",)
            want_b[("plant/b", b"b:%d" % i)] = ()
        want_b[("plant/end-a", b"end-a")] = ("1",)
        want_b[("plant/end", b"end")] = ()
        assert hop_of(at_b) == want_b and len(at_b) == len(want_b)
        want_c = {}
        for way in ("push", "pull"):
            for i in range(3):
                want_c[(way + "/plant/a", b"a:%d" % i)] = ("2",)
                want_c[(way + "/plant/b", b"b:%d" % i)] = ("1",)
            want_c[(way + "/plant/end-a", b"end-a")] = ("2",)
            want_c[(way + "/plant/end", b"end")] = ("1",)
        # The two ways to C are two streams: gather until every expected
        # message is there, then nothing more may come.
        at_c = []
        wait_until(lambda: at_c.extend(sub_c.drain()) or set(want_c) <= {(m.topic, m.payload) for m in at_c}, 15,
                   what="everything expected at C")
        sub_c.expect_no_message(0.3)
        assert hop_of(at_c) == want_c and len(at_c) == len(want_c), [(m.topic, m.payload) for m in at_c]
        # Dropped and counted: 3 by B's push, 3 by C's pull; none by A's.
        wait_until(lambda: api(b, "bc")["dropped"]["hops"] == 3 and api(c, "pull")["dropped"]["hops"] == 3, 10,
                   what="3 dropped on each way to C")
        assert api(a, "ab")["dropped"]["hops"] == 0
        assert 'strata_bridge_dropped_total{bridge="bc",reason="hops"} 3' in metrics(b)
        assert 'strata_bridge_dropped_total{bridge="pull",reason="hops"} 3' in metrics(c)
        s = client(c, "chain-sys")
        s.subscribe("$SYS/bridges/pull/dropped/hops", 0)
        wait_until(lambda: any(m.payload == b"3" for m in s.drain()), 10, what="$SYS dropped/hops 3")
        for cl in (sub_b, sub_c, pub_a, pub_b, s):
            cl.close()
    finally:
        a.stop()
        b.stop()
        c.stop()
        healthy(a, b, c)


def start_with_bridges(node, bridges):
    node.config["__bridges__"] = bridges
    return node.start()


# -- (c), (d) mosquitto with a password file -----------------------------------

class Mosquitto(brokerproc.Broker):
    """A mosquitto that asks for a user name and password (password_file)."""

    def __init__(self, workdir):
        super().__init__(workdir, {"limits": {"max_queued_messages": 100000}}, kind="mosquitto")
        self.passwd = os.path.join(self.workdir, "passwd")

    def set_users(self, users):
        with open(self.passwd, "w") as f:
            f.write("")
        for user, password in users.items():
            subprocess.run(["mosquitto_passwd", "-b", self.passwd, user, password], check=True,
                           capture_output=True)

    def command(self):
        cmd = super().command()
        with open(self.conf_path) as f:
            conf = f.read().replace("allow_anonymous true", "allow_anonymous false")
        with open(self.conf_path, "w") as f:
            # Started as root, mosquitto becomes user mosquitto unless told
            # otherwise, and could not read the test's private directory.
            f.write(conf + "password_file %s\n" % self.passwd + ("user root\n" if os.geteuid() == 0 else ""))
        return cmd


@pytest.fixture(scope="module")
def mosq(tmp_path_factory):
    m = Mosquitto(str(tmp_path_factory.mktemp("mosq-auth")))
    m.set_users({"edge": "edge-pass", "sub": "sub-pass"})
    m.start()
    yield m
    m.stop()


def test_mqtt311_bridge_to_mosquitto_both_ways(tmp_path, mosq):
    """protocol = "3.1.1" against mosquitto (with a user name): out plant/#
    as e311/{topic}, in cmd/# as c/{#}; each message once, in order, with
    its QoS and retain as the route says, in both directions."""
    e = start(tmp_path, "e311", edge_config([bridge("m311", mosq.port, [
        {"filter": "plant/#", "remote": "e311/{topic}", "qos": 2},
        {"direction": "in", "filter": "cmd/#", "local": "c/{#}", "qos": 1}],
        protocol="3.1.1", username="edge", password="edge-pass")]))
    try:
        connected(e, "m311")
        remote = client(mosq, "m311-remote", version=pahoc.V311, username="sub", password="sub-pass")
        remote.subscribe("e311/#", 2)
        local = client(e, "m311-local")
        local.subscribe("c/#", 1)
        probes = probe(remote, "cmd/probe", local, "c/probe")
        pub = client(e, "m311-pub")
        for i in range(10):
            pub.publish("plant/l%d/t" % (i % 2), b"o:%d" % i, qos=1 if i % 2 else 2, retain=(i == 9))
        for i in range(10):
            remote.publish("cmd/valve/%d" % i, b"i:%d" % i, qos=1)
        remote.publish("cmd/end", b"end", qos=1)
        # QoS 2, so that mosquitto passes it on after the last QoS 2 message
        # (at its PUBREL), not ahead of it.
        pub.publish("plant/end", b"end", qos=2)
        out = until_marker(remote, b"end")
        inn = until_marker(local, b"end")
        # In order per QoS (mosquitto passes a QoS 2 message on at PUBREL,
        # so a QoS 1 message may overtake it).
        want = [("e311/plant/l%d/t" % (i % 2), b"o:%d" % i, 1 if i % 2 else 2) for i in range(10)]
        for q in (1, 2):
            assert [(m.topic, m.payload, m.qos) for m in out[:-1] if m.qos == q] == [w for w in want if w[2] == q]
        assert len(out) == 11
        assert out[-1].topic == "e311/plant/end"
        # mosquitto sends a retained message to a live subscriber with retain 0.
        assert [(m.topic, m.payload, m.qos) for m in inn[:-1]] == [("c/valve/%d" % i, b"i:%d" % i, 1) for i in range(10)]
        assert inn[-1].topic == "c/end"
        # What came in is not sent back to mosquitto (no out route matches c/#).
        remote.expect_no_message(0.3)
        one = api(e, "m311")
        assert (one["acknowledged"], one["received"], one["duplicates"]) == (11, 11 + probes, 0)
        for c in (remote, local, pub):
            c.close()
    finally:
        e.stop()
        healthy(e)


def test_wrong_credentials_back_off_and_lose_nothing(tmp_path, mosq):
    """A bridge whose user mosquitto does not know backs off (state
    backing_off, failures counted) while its outbox keeps every message;
    once mosquitto learns the user (password file, SIGHUP) all of them
    arrive, in order, once."""
    e = start(tmp_path, "ecred", edge_config([bridge("cred", mosq.port, [{"filter": "plant/#", "remote": "cred/{topic}",
                                                                              "qos": 1}],
                                                     username="late", password="late-pass")]))
    try:
        sub = client(mosq, "cred-sub", username="sub", password="sub-pass")
        sub.subscribe("cred/#", 1)
        wait_until(lambda: api(e, "cred")["state"] == "backing_off" and api(e, "cred")["connection_failures"] >= 2, 15,
                   what="backing off after refusals")
        pub = client(e, "cred-pub")
        for i in range(30):
            pub.publish("plant/c", b"cred:%d" % i, qos=1)
        # (A publisher may have its PUBACK a moment before its message is in
        # the outbox: the counts are waited for.)
        wait_until(lambda: api(e, "cred")["queued_messages"] == 30, 10, what="30 queued")
        one = api(e, "cred")
        assert one["sent"] == 0
        assert one["state"] in ("backing_off", "connecting")
        assert e.log.count("cred: the peer refused the connection") == 1, e.log  # once, then at debug level
        mosq.set_users({"edge": "edge-pass", "sub": "sub-pass", "late": "late-pass"})
        mosq.proc.send_signal(signal.SIGHUP)
        connected(e, "cred")
        got = sub.wait_messages(30, 15)
        r = account("cred", set(range(30)), [m.payload for m in got])
        print("wrong credentials, then fixed:", {k: (v if not isinstance(v, list) else len(v)) for k, v in r.items()})
        assert r["lost"] == [] and r["duplicates"] == 0 and r["order_breaks"] == 0 and r["extra"] == []
        wait_until(lambda: api(e, "cred")["queued_messages"] == 0, 10, what="outbox empty")
        assert api(e, "cred")["acknowledged"] == 30
        sub.expect_no_message(0.3)
        sub.close()
        pub.close()
    finally:
        e.stop()
        healthy(e)


# -- (e) overflow policies while the peer is down --------------------------------

def test_drop_oldest_and_drop_new_exact_counts(tmp_path):
    """The peer is down; 12 QoS 1 messages go to each of two bridges with
    max_messages = 5: drop_oldest keeps the newest 5 (7 counted as
    dropped/oldest), drop_new the first 5 (7 dropped/new); once the peer is
    back exactly those arrive, in order, once."""
    peer = start(tmp_path, "peer", {})
    Subscriber(peer.port, "ov/#", "ov-sub").close()  # a persistent session waits on the peer
    peer.stop()
    e = start(tmp_path, "eov", edge_config([
        bridge("old", peer.port, [{"filter": "ov/old/#", "qos": 1}], max_messages=5, overflow="drop_oldest"),
        bridge("new", peer.port, [{"filter": "ov/new/#", "qos": 1}], max_messages=5, overflow="drop_new")]))
    sub = None
    try:
        pub = client(e, "ov-pub")
        for i in range(12):
            pub.publish("ov/old/x", b"old:%d" % i, qos=1)  # every one acknowledged: the policy drops, not the publisher
            pub.publish("ov/new/x", b"new:%d" % i, qos=1)
        pub.close()
        wait_until(lambda: sum(x["appended"] + x["dropped"]["new"] for x in api(e)["data"]) == 24, 10,
                   what="all 24 through the outboxes")
        bs = {x["name"]: x for x in api(e)["data"]}
        assert (bs["old"]["queued_messages"], bs["old"]["dropped"]["oldest"], bs["old"]["dropped"]["new"]) == (5, 7, 0)
        assert (bs["new"]["queued_messages"], bs["new"]["dropped"]["new"], bs["new"]["dropped"]["oldest"]) == (5, 7, 0)
        assert bs["old"]["appended"] == 12 and bs["new"]["appended"] == 5
        m = metrics(e)
        assert 'strata_bridge_dropped_total{bridge="old",reason="oldest"} 7' in m
        assert 'strata_bridge_dropped_total{bridge="new",reason="new"} 7' in m
        peer.start()
        sub = Subscriber(peer.port, "ov/#", "ov-sub")
        wait_until(lambda: sum(x["queued_messages"] for x in api(e)["data"]) == 0, 15, what="both outboxes drained")
        wait_until(lambda: sub.count() >= 10, 10, what="10 at the peer")
        got = sub.snapshot()
        old = account("old", set(range(7, 12)), got)
        new = account("new", set(range(5)), got)
        print("drop_oldest:", old, "drop_new:", new)
        for r in (old, new):
            assert r["lost"] == [] and r["extra"] == [] and r["duplicates"] == 0 and r["order_breaks"] == 0
        assert len(got) == 10
        bs = {x["name"]: x for x in api(e)["data"]}
        assert (bs["old"]["acknowledged"], bs["old"]["dropped"]["oldest"]) == (5, 7)
        assert (bs["new"]["acknowledged"], bs["new"]["dropped"]["new"]) == (5, 7)
    finally:
        if sub:
            sub.close()
        e.stop()
        peer.stop()
        healthy(e, peer)


# -- live_first ---------------------------------------------------------------

def test_live_first_sends_new_messages_ahead_of_the_backlog(tmp_path):
    """An edge bridge with order = "live_first", live_threshold = 20 and a
    window of 5 to a peer strata. Paused, it queues 100 messages (the
    backlog); resumed, it starts draining into a peer whose own outbox
    (overflow = "block", paused) fills and holds the bridge's publishes, so
    the drain stops with the window full. 10 live messages are published
    then; once the peer lets go, its subscriber sees every live message
    before the backlog's last, backlog messages marked strata-backlog: 1,
    live ones not, and in the end all 110 once."""
    peer = start(tmp_path, "lpeer", {})
    e = start(tmp_path, "ledge", edge_config([bridge("up", peer.port, [{"filter": "lf/#", "qos": 1}], order="live_first",
                                                     live_threshold=20, inflight=5, keep_alive=60)]))
    # The peer's own bridge back to the edge (as sunk/..., which the edge's
    # route does not take): max_messages 5, overflow block, paused.
    peer.stop()
    peer = start_with_bridges(peer, [bridge("hold", e.port, [{"filter": "lf/#", "remote": "sunk/{topic}", "qos": 1}],
                                            max_messages=5, overflow="block", block_timeout=120)])
    try:
        connected(e, "up")
        connected(peer, "hold")
        sub = client(peer, "lf-sub")
        sub.subscribe("lf/#", 1)
        post(peer, "/api/v1/bridges/hold/pause")
        post(e, "/api/v1/bridges/up/pause")
        pub = client(e, "lf-pub")
        for i in range(100):
            pub.publish("lf/x", b"back:%d" % i, qos=1)
        wait_until(lambda: api(e, "up")["queued_messages"] == 100, 10, what="the backlog of 100 queued")
        post(e, "/api/v1/bridges/up/resume")
        # The peer takes 5 into its outbox, then holds the next publish and
        # stops reading: 5 acknowledged, the window of 5 in flight.
        wait_until(lambda: api(peer, "hold")["blocking"] and (api(e, "up")["acknowledged"], api(e, "up")["sent"]) == (5, 10),
                   15, what="the peer's outbox full, the edge's window stuck")
        for i in range(10):
            pub.publish("lf/x", b"live:%d" % i, qos=1)
        wait_until(lambda: api(e, "up")["appended"] == 110, 10, what="the live messages queued")
        post(peer, "/api/v1/bridges/hold/resume")
        got = sub.wait_messages(110, 30)
        payloads = [m.payload for m in got]
        back = account("back", set(range(100)), payloads)
        live = account("live", set(range(10)), payloads)
        print("live_first: backlog", back, "live", live)
        for r in (back, live):
            assert r["lost"] == [] and r["duplicates"] == 0 and r["extra"] == [] and r["order_breaks"] == 0
        last_live = max(i for i, p in enumerate(payloads) if p.startswith(b"live:"))
        last_back = payloads.index(b"back:99")
        assert last_live < last_back, payloads
        marks = {m.payload: [v for k, v in (m.prop("UserProperty") or []) if k == "strata-backlog"] for m in got}
        assert all(marks[b"back:%d" % i] == ["1"] for i in range(100))
        assert all(marks[b"live:%d" % i] == [] for i in range(10))
        wait_until(lambda: api(e, "up")["queued_messages"] == 0, 10, what="the edge's outbox empty")
        one = api(e, "up")
        assert (one["acknowledged"], one["acknowledged_offset"], one["resent"]) == (110, 110, 0)
        sub.expect_no_message(0.2)
        for c in (sub, pub):
            c.close()
    finally:
        e.stop()
        peer.stop()
        healthy(e, peer)
