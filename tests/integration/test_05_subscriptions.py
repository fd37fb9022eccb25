"""Subscriptions: overlapping filters, subscription identifiers, no local,
unsubscribe, invalid filters, $-topics, shared subscriptions."""

import time

import pytest

import raw
from common import STRICT, collect_publishes, expect_server_disconnect
from raw import V311, V5, sub_opts


# --- overlapping subscriptions ---------------------------------------------------

@pytest.mark.mosquitto_deviation("sends a copy per matching subscription (the spec allows it; Strata sends one)")
def test_v5_overlapping_subscriptions_one_copy_with_all_identifiers(broker):
    c = broker.raw_connect("ov")
    c.subscribe(("ov/#", 0), pid=1, props={"subscription_identifier": 1}, expect=[0])
    c.subscribe(("ov/+", 2), pid=2, props={"subscription_identifier": 2}, expect=[2])
    c.subscribe(("ov/a", 1), pid=3, props={"subscription_identifier": 3}, expect=[1])
    c.subscribe(("+/b", 1), pid=4, props={"subscription_identifier": 4}, expect=[1])
    p = broker.raw_connect("p")
    p.publish("ov/a", b"x", qos=2, pid=1)
    got = collect_publishes(c, ack=True)
    assert len(got) == 1, got
    m = got[0]
    assert (m.topic, m.qos, m.payload) == ("ov/a", 2, b"x")
    assert sorted(m.props.all("subscription_identifier")) == [1, 2, 3]


@pytest.mark.mosquitto_deviation("delivers one copy at the QoS of one subscription, not the highest")
def test_v311_overlapping_subscriptions_one_copy_at_highest_qos(broker):
    c = broker.raw_connect("ov3", version=V311)
    c.subscribe([("ov/#", 0), ("ov/+", 1), ("+/a", 2)], expect=[0, 1, 2])
    p = broker.raw_connect("p", version=V311)
    p.publish("ov/a", b"x", qos=2, pid=1)
    got = collect_publishes(c, ack=True)
    assert [(m.topic, m.qos) for m in got] == [("ov/a", 2)]


def test_subscription_identifier_only_on_matching_subscriptions(broker):
    c = broker.raw_connect("sid")
    c.subscribe(("sid/a", 1), pid=1, props={"subscription_identifier": 268435455}, expect=[1])
    c.subscribe(("sid/b", 1), pid=2, expect=[1])
    p = broker.raw_connect("p")
    p.publish("sid/a", b"1", qos=1)
    p.publish("sid/b", b"2", qos=1, pid=2)
    got = collect_publishes(c, ack=True)
    assert [(m.topic, m.props.all("subscription_identifier")) for m in got] == [
        ("sid/a", [268435455]), ("sid/b", [])]


def test_resubscribe_replaces_options_and_identifier(broker):
    c = broker.raw_connect("re")
    c.subscribe(("re/t", 0), pid=1, props={"subscription_identifier": 5}, expect=[0])
    c.subscribe(("re/t", 1), pid=2, props={"subscription_identifier": 6}, expect=[1])
    p = broker.raw_connect("p")
    p.publish("re/t", b"x", qos=1)
    got = collect_publishes(c, ack=True)
    assert [(m.qos, m.props.all("subscription_identifier")) for m in got] == [(1, [6])]


@pytest.mark.mosquitto_deviation("answers 0x81 (malformed); the spec calls it a Protocol Error")
def test_subscription_identifier_zero_is_protocol_error(broker):
    c = broker.raw_connect("sid0")
    c.send(raw.subscribe(1, [("sid0/t", 0)], props={"subscription_identifier": 0}))
    expect_server_disconnect(c, 0x82, required=STRICT)


@pytest.mark.mosquitto_deviation("accepts a Subscription Identifier in a client PUBLISH")
def test_publish_with_subscription_identifier_is_protocol_error(broker):
    a = broker.raw_connect("a")
    a.subscribe(("fw/t", 0), props={"subscription_identifier": 9}, expect=[0])
    b = broker.raw_connect("b")
    b.subscribe(("fw/t", 0), expect=[0])
    p = broker.raw_connect("p")
    # A PUBLISH from a client must not carry a Subscription Identifier.
    p.send(raw.publish("fw/t", b"x", props={"subscription_identifier": 77}))
    expect_server_disconnect(p, 0x82, required=STRICT)
    a.expect_nothing(0.3)
    b.expect_nothing(0.1)


# --- no local -------------------------------------------------------------------------

def test_no_local(broker):
    c = broker.raw_connect("nl")
    c.subscribe([("nl/on", sub_opts(qos=0, nl=True)), ("nl/off", sub_opts(qos=0))], expect=[0, 0])
    c.publish("nl/on", b"own")
    c.publish("nl/off", b"own")
    other = broker.raw_connect("other")
    other.publish("nl/on", b"theirs", qos=1, pid=3)
    got = collect_publishes(c, ack=True)
    # Two publishers: MQTT orders messages per publisher only, and with the
    # two connections on different cores "theirs" may be routed before the
    # broker has read c's own (failed once so with both cores busy).
    assert sorted((m.topic, m.payload) for m in got) == [("nl/off", b"own"), ("nl/on", b"theirs")]


@pytest.mark.mosquitto_deviation("accepts No Local on a shared subscription")
def test_no_local_on_shared_subscription_is_protocol_error(broker):
    c = broker.raw_connect("nls")
    c.send(raw.subscribe(1, [("$share/g/nls/t", sub_opts(nl=True))]))
    expect_server_disconnect(c, 0x82, required=STRICT)


# --- unsubscribe ----------------------------------------------------------------------------

def test_v5_unsubscribe_reason_codes(broker):
    c = broker.raw_connect("u")
    c.subscribe([("u/a", 1), ("u/+/c", 0)], expect=[1, 0])
    ack = c.unsubscribe(["u/a", "u/never", "u/+/c"], pid=77)
    assert ack.rcs == [0x00, 0x11, 0x00]
    p = broker.raw_connect("p")
    p.publish("u/a", b"x", qos=1)
    p.publish("u/b/c", b"y", qos=1, pid=2)
    c.expect_nothing(0.4)
    # a second unsubscribe finds nothing
    assert c.unsubscribe(["u/a"], pid=78).rcs == [0x11]


def test_v311_unsubscribe_exact_bytes(broker):
    c = broker.raw_connect("u3", version=V311)
    c.subscribe(("u3/a", 1), expect=[1])
    c.send(raw.unsubscribe(0x1234, ["u3/a", "u3/none"], version=V311))
    assert c.recv().raw == b"\xb0\x02\x12\x34"
    p = broker.raw_connect("p", version=V311)
    p.publish("u3/a", b"x", qos=1)
    c.expect_nothing(0.4)


def test_unsubscribe_keeps_other_subscriptions(broker):
    c = broker.raw_connect("keep")
    c.subscribe([("k/1", 0), ("k/2", 0)], expect=[0, 0])
    assert c.unsubscribe(["k/1"]).rcs == [0]
    p = broker.raw_connect("p")
    p.publish("k/1", b"a")
    p.publish("k/2", b"b")
    assert [m.topic for m in collect_publishes(c, ack=True)] == ["k/2"]


# --- topic filter validation ----------------------------------------------------------------

BAD_FILTERS = ["a/#/b", "a+", "#a", "a/b#", "+a/b", "a/+b", "a/b/##", "$share/g", "$share//t",
               "$share/g+/t", "$share/g#/t"]


@pytest.mark.mosquitto_deviation("disconnects (0x81) instead of SUBACK 0x8F")
@pytest.mark.parametrize("bad", BAD_FILTERS)
def test_v5_invalid_filter_suback_0x8f(broker, bad):
    c = broker.raw_connect("bad")
    ack = c.subscribe([("ok/1", 1), (bad, 0), ("ok/2", 2)])
    assert ack.rcs == [1, 0x8F, 2], (bad, ack.rcs)
    c.ping()  # still connected


@pytest.mark.mosquitto_deviation("closes the connection instead of SUBACK 0x80")
@pytest.mark.parametrize("bad", ["a/#/b", "a+", "#a", "a/b#", "+a/b"])
def test_v311_invalid_filter_suback_0x80(broker, bad):
    c = broker.raw_connect("bad3", version=V311)
    ack = c.subscribe([("ok/1", 1), (bad, 0), ("ok/2", 2)])
    assert ack.rcs == [1, 0x80, 2], (bad, ack.rcs)
    c.ping()


@pytest.mark.parametrize("good", ["#", "+", "/", "a//b", "+/+/+", "a/+/#", "/#", "+/", "$share/g/#",
                                  "$share/g/+/x", "\u00fc/\u6771\u4eac"])
def test_valid_unusual_filters_accepted(broker, good):
    c = broker.raw_connect("good")
    c.subscribe((good, 1), expect=[1])


def test_empty_levels_are_distinct(broker):
    c = broker.raw_connect("empty")
    c.subscribe([("a//b", 0), ("/x", 0)], expect=[0, 0])
    p = broker.raw_connect("p")
    for t in ("a/b", "a//b", "/x", "x", "a///b"):
        p.publish(t, t.encode())
    assert sorted(m.topic for m in collect_publishes(c, ack=True)) == ["/x", "a//b"]


MATCH_TOPICS = ["sport", "sport/", "sport/tennis", "sport/tennis/player1", "sport/tennis/p/ranking",
                "/finance", "finance", "$SYS/x", "$app/sport"]


@pytest.mark.parametrize("filt,expected", [
    ("sport/tennis/#", ["sport/tennis", "sport/tennis/player1", "sport/tennis/p/ranking"]),
    ("sport/#", ["sport", "sport/", "sport/tennis", "sport/tennis/player1", "sport/tennis/p/ranking"]),
    ("sport/+", ["sport/", "sport/tennis"]),
    ("+/+", ["sport/", "sport/tennis", "/finance"]),
    ("+", ["sport", "finance"]),
    ("/+", ["/finance"]),
    ("#", ["sport", "sport/", "sport/tennis", "sport/tennis/player1", "sport/tennis/p/ranking",
           "/finance", "finance"]),
    ("+/tennis/#", ["sport/tennis", "sport/tennis/player1", "sport/tennis/p/ranking"]),
    ("$app/+", ["$app/sport"]),
])
def test_wildcard_matching(broker, filt, expected):
    c = broker.raw_connect("wc")
    c.subscribe((filt, 0), expect=[0])
    p = broker.raw_connect("p")
    for t in MATCH_TOPICS:
        if t.startswith("$SYS"):
            continue  # clients may not publish to $SYS
        p.publish(t, t.encode())
    got = [m.topic for m in collect_publishes(c, ack=True) if not m.topic.startswith("$SYS")]
    assert got == expected


def test_dollar_topics_not_matched_by_leading_wildcards(broker):
    subs = {}
    for f in ("#", "+/x", "+/+"):
        subs[f] = broker.raw_connect("s" + f)
        subs[f].subscribe((f, 0), expect=[0])
    dollar = broker.raw_connect("dollar")
    dollar.subscribe([("$app/#", 0)], expect=[0])
    p = broker.raw_connect("p")
    p.publish("$app/x", b"d", qos=1)
    p.publish("app/x", b"n", qos=1, pid=2)
    for f, c in subs.items():
        got = [(m.topic, m.payload) for m in collect_publishes(c, ack=True) if not m.topic.startswith("$SYS/")]
        assert got == [("app/x", b"n")], f
    assert [(m.topic, m.payload) for m in collect_publishes(dollar, ack=True)] == [("$app/x", b"d")]


@pytest.mark.broker_config(sys={"interval": 1})
def test_sys_topics_not_matched_by_hash(broker):
    c = broker.raw_connect("nosys")
    c.subscribe([("#", 0), ("+/broker/#", 0), ("+/+", 0)], expect=[0, 0, 0])
    sys_sub = broker.raw_connect("sys")
    sys_sub.subscribe(("$SYS/#", 0), expect=[0])
    time.sleep(1.5)
    assert [m.topic for m in collect_publishes(c, 0.2, ack=True)] == []
    assert collect_publishes(sys_sub, 0.2, ack=True), "no $SYS messages at all: the check above proves nothing"


# --- shared subscriptions ---------------------------------------------------------------------

def _members(broker, n, filt="$share/g/sh/t", qos=1, version=V5, prefix="m"):
    out = []
    for i in range(n):
        c = broker.raw_connect("%s%d" % (prefix, i), version=version)
        c.subscribe((filt, qos), expect=[qos])
        out.append(c)
    return out


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_shared_subscription_each_message_to_one_member(broker, qos):
    members = _members(broker, 3, qos=qos)
    members.append(broker.raw_connect("m3", version=V311))
    members[-1].subscribe(("$share/g/sh/t", qos), expect=[qos])
    normal = broker.raw_connect("normal")
    normal.subscribe(("sh/t", qos), expect=[qos])
    p = broker.raw_connect("p")
    n = 40
    for i in range(n):
        p.publish("sh/t", b"%d" % i, qos=qos, pid=i + 1)
    per_member = [[m.payload for m in collect_publishes(c, ack=True)] for c in members]
    everything = sorted(x for got in per_member for x in got)
    assert everything == sorted(b"%d" % i for i in range(n)), per_member
    assert [m.payload for m in collect_publishes(normal, ack=True)] == [b"%d" % i for i in range(n)]
    counts = [len(g) for g in per_member]
    assert sum(counts) == n
    assert all(c > 0 for c in counts), "a member got nothing: %r" % counts


def test_shared_groups_each_get_a_copy(broker):
    g1 = _members(broker, 2, "$share/g1/grp/t", prefix="a")
    g2 = _members(broker, 2, "$share/g2/grp/t", prefix="b")
    p = broker.raw_connect("p")
    for i in range(10):
        p.publish("grp/t", b"%d" % i, qos=1, pid=i + 1)
    all1 = sorted(m.payload for c in g1 for m in collect_publishes(c, ack=True))
    all2 = sorted(m.payload for c in g2 for m in collect_publishes(c, ack=True))
    expected = sorted(b"%d" % i for i in range(10))
    assert all1 == expected and all2 == expected


def test_shared_subscription_with_wildcard_filter(broker):
    members = _members(broker, 2, "$share/w/sw/+/v")
    p = broker.raw_connect("p")
    for i in range(6):
        p.publish("sw/%d/v" % i, b"x", qos=1, pid=i + 1)
    p.publish("sw/x/y", b"no", qos=1, pid=50)
    topics = sorted(m.topic for c in members for m in collect_publishes(c, ack=True))
    assert topics == sorted("sw/%d/v" % i for i in range(6))


def test_unsubscribe_shared(broker):
    a, b = _members(broker, 2, "$share/u/su/t")
    assert a.unsubscribe(["$share/u/su/t"]).rcs == [0]
    p = broker.raw_connect("p")
    for i in range(4):
        p.publish("su/t", b"%d" % i, qos=1, pid=i + 1)
    assert collect_publishes(a, ack=True) == []
    assert [m.payload for m in collect_publishes(b, ack=True)] == [b"0", b"1", b"2", b"3"]


@pytest.mark.mosquitto_deviation("drops a departed member's unacknowledged messages instead of redistributing them")
def test_shared_member_unacked_messages_go_to_another_member(broker):
    a, b = _members(broker, 2, "$share/r/sr/t")
    p = broker.raw_connect("p")
    n = 6
    for i in range(n):
        p.publish("sr/t", b"%d" % i, qos=1, pid=i + 1)
    got_a = collect_publishes(a)  # a never acknowledges
    got_b = [m.payload for m in collect_publishes(b, ack=True)]
    assert got_a, "member a got nothing to leave unacknowledged"
    a.abort()  # a's session (expiry 0) ends
    more = [m.payload for m in collect_publishes(b, timeout=1.5, ack=True)]
    assert sorted(got_b + more) == sorted(b"%d" % i for i in range(n))
    assert sorted(more) == sorted(m.payload for m in got_a)


# --- features switched off (Strata limits) ---------------------------------------------------------

@pytest.mark.strata_only
@pytest.mark.broker_config(limits={"wildcard_subscriptions": False})
def test_wildcards_disabled_suback_0xa2(broker):
    c = broker.raw_connect("nw")
    assert c.subscribe([("a/+", 0), ("a/#", 0), ("a/b", 0)]).rcs == [0xA2, 0xA2, 0]
    c3 = broker.raw_connect("nw3", version=V311)
    assert c3.subscribe([("a/+", 0), ("a/b", 0)]).rcs == [0x80, 0]


@pytest.mark.strata_only
@pytest.mark.broker_config(limits={"shared_subscriptions": False})
def test_shared_disabled_suback_0x9e(broker):
    c = broker.raw_connect("ns")
    assert c.subscribe([("$share/g/a", 0), ("a", 0)]).rcs == [0x9E, 0]


@pytest.mark.strata_only
@pytest.mark.broker_config(limits={"subscription_identifiers": False})
def test_subscription_identifiers_disabled_disconnect_0xa1(broker):
    c = broker.raw_connect("nsi")
    c.send(raw.subscribe(1, [("a", 0)], props={"subscription_identifier": 3}))
    expect_server_disconnect(c, 0xA1)


@pytest.mark.strata_only
@pytest.mark.broker_config(limits={"max_topic_levels": 4, "max_topic_length": 32})
def test_topic_limits_on_filters(broker):
    c = broker.raw_connect("lim")
    assert c.subscribe([("a/b/c/d", 0), ("a/b/c/d/e", 0), ("x" * 32, 0), ("x" * 33, 0)]).rcs == [
        0, 0x8F, 0, 0x8F]


@pytest.mark.strata_only
@pytest.mark.broker_config(limits={"max_topic_levels": 4, "max_topic_length": 32})
# "////": five empty levels in four bytes, the shortest topic over the limit.
@pytest.mark.parametrize("topic", ["a/b/c/d/e", "////", "y" * 33])
def test_topic_limits_on_publish(broker, topic):
    sub = broker.raw_connect("s")
    sub.subscribe(("#", 1), expect=[1])
    c = broker.raw_connect("lim")
    c.send(raw.publish(topic, b"x", qos=1, pid=1))
    p = c.recv()
    # either refused with PUBACK 0x90 (Topic Name invalid), or disconnected with 0x90
    assert (p.type, p.rc) in ((raw.PUBACK, 0x90), (raw.DISCONNECT, 0x90)), p
    sub.expect_nothing(0.3)


@pytest.mark.mosquitto_deviation("sends retained messages to new shared subscriptions")
def test_retained_not_sent_to_new_shared_subscription(broker):
    # MQTT 5.0 3.3.1.3: retained messages go to new non-shared subscriptions
    p = broker.raw_connect("p")
    p.publish("shret/t", b"stored", qos=1, retain=True)
    m = broker.raw_connect("member")
    m.subscribe(("$share/g/shret/t", 1), expect=[1])
    m.expect_nothing(0.4)
    p.publish("shret/t", b"live", qos=1, pid=2)
    got = m.expect(raw.PUBLISH)
    assert (got.payload, got.retain) == (b"live", False)


def test_one_subscribe_with_many_filters(broker):
    c = broker.raw_connect("many")
    filters = [("many/%d/+" % i, i % 3) for i in range(500)]
    ack = c.subscribe(filters)
    assert ack.rcs == [i % 3 for i in range(500)]
    p = broker.raw_connect("p")
    p.publish("many/321/x", b"hit", qos=2, pid=1)
    m = c.expect(raw.PUBLISH)
    assert (m.topic, m.qos) == ("many/321/x", 0)
    p.publish("many/500/x", b"miss", qos=1, pid=2)
    c.expect_nothing(0.3)


def test_own_message_via_overlapping_subscription_without_no_local(broker):
    c = broker.raw_connect("ovnl")
    c.subscribe([("ovnl/t", sub_opts(qos=0, nl=True)), ("ovnl/+", sub_opts(qos=0))], expect=[0, 0])
    c.publish("ovnl/t", b"mine")
    got = collect_publishes(c, ack=True)
    assert [m.payload for m in got] == [b"mine"]  # once, through the subscription without No Local

