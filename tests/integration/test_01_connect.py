"""CONNECT / CONNACK: validation, client identifiers, sessions, keep-alive,
takeover, authentication methods, CONNACK properties."""

import select
import socket
import time

import pytest

import raw
from common import STRICT, effective, expect_refused_connect, expect_server_disconnect, wait_until, write_through_close
from raw import V311, V5


# --- accepted connections ---------------------------------------------------

def test_v311_connack_exact_bytes(broker):
    c = broker.raw(V311)
    c.send(raw.connect("c311", version=V311))
    assert c.expect(raw.CONNACK).raw == b"\x20\x02\x00\x00"
    assert c.ping().raw == b"\xd0\x00"


def test_v5_connack_accepted(broker):
    c = broker.raw(V5)
    c.send(raw.connect("c5", version=V5))
    ack = c.expect(raw.CONNACK)
    assert ack.raw[0] == 0x20
    assert (ack.ack_flags, ack.rc) == (0, 0)
    # a client that chose its own id gets no assigned id
    assert "assigned_client_identifier" not in ack.props
    assert c.ping().raw == b"\xd0\x00"


# --- protocol name and level ---------------------------------------------------

def test_unsupported_protocol_level_3_gets_connack_0x01(broker):
    # Level 3 is MQTT 3.1 ("MQIsdp"); with the name "MQTT" only 4 and 5 exist.
    c = broker.raw(V311)
    c.send(raw.connect("lvl3", version=3))
    got = c.recv_until_closed()
    assert [p.raw for p in got] == [b"\x20\x02\x00\x01"]


def test_unknown_protocol_level_6_refused(broker):
    c = broker.raw(V5)
    c.send(raw.connect("lvl6", version=6))
    got = c.recv_until_closed()
    assert len(got) == 1 and got[0].type == raw.CONNACK, got
    # The server cannot know which version the client speaks: either the
    # 3.1.1 form (0x01) or the v5 form (0x84) is correct.
    assert got[0].raw == b"\x20\x02\x00\x01" or got[0].rc == 0x84, got


@pytest.mark.parametrize("version,rc", [(V311, 0x01), (V5, 0x84)])
def test_bad_protocol_name_refused(broker, version, rc):
    c = broker.raw(version)
    c.send(raw.connect("badname", version=version, protocol_name="MQTX"))
    expect_refused_connect(c, [rc], required=STRICT)


# --- connect flags -------------------------------------------------------------

def test_v311_reserved_flag_closes_without_connack(broker):
    c = broker.raw(V311)
    c.send(raw.connect("rsv", version=V311, flags=0x03))
    expect_refused_connect(c, [])


def test_v5_reserved_flag_is_malformed(broker):
    c = broker.raw(V5)
    c.send(raw.connect("rsv", version=V5, flags=0x03))
    expect_refused_connect(c, [0x81], required=STRICT)


@pytest.mark.parametrize("case", ["will_qos_3", "qos_without_will", "retain_without_will"])
@pytest.mark.parametrize("version", [V311, V5])
def test_invalid_will_flags_close(broker, version, case):
    if case == "will_qos_3":
        pkt = raw.connect("w", version=version, will_topic="will/t", will_payload=b"x", will_qos=3)
        v5_rcs = [0x81]
    elif case == "qos_without_will":
        pkt = raw.connect("w", version=version, flags=0x02 | 0x08)
        v5_rcs = [0x81, 0x82]
    else:
        pkt = raw.connect("w", version=version, flags=0x02 | 0x20)
        v5_rcs = [0x81, 0x82]
    c = broker.raw(version)
    c.send(pkt)
    if version == V311:
        expect_refused_connect(c, [])
    else:
        expect_refused_connect(c, v5_rcs, required=STRICT)


def test_v311_password_without_username_closes(broker):
    c = broker.raw(V311)
    c.send(raw.connect("pw", version=V311, flags=0x02 | 0x40, extra=raw.binary(b"secret")))
    expect_refused_connect(c, [])


def test_v5_password_without_username_accepted(broker):
    # MQTT 5 allows a password without a user name.
    c = broker.raw(V5)
    c.send(raw.connect("pw5", version=V5, password=b"secret"))
    ack = c.expect(raw.CONNACK)
    assert ack.rc == 0x00, ack  # no authentication configured


@pytest.mark.parametrize("version", [V311, V5])
def test_second_connect_is_protocol_error(broker, version):
    c = broker.raw_connect("twice", version=version)
    c.send(raw.connect("twice", version=version))
    expect_server_disconnect(c, 0x82, required=STRICT)


@pytest.mark.parametrize("props", [
    {"receive_maximum": 0},
    {"maximum_packet_size": 0},
    [("session_expiry_interval", 10), ("session_expiry_interval", 20)],
    {"topic_alias_maximum": 1, "request_problem_information": 2},
], ids=["receive_max_0", "max_packet_size_0", "duplicate_property", "request_problem_info_2"])
def test_v5_bad_connect_properties_refused(broker, props):
    # MQTT 5.0 3.1.2.11: each of these is a Protocol Error
    c = broker.raw(V5)
    c.send(raw.connect("props", version=V5, props=props))
    expect_refused_connect(c, [0x82], required=STRICT)


def test_v5_property_not_allowed_in_connect_refused(broker):
    # Topic Alias (0x23) belongs to PUBLISH only.
    c = broker.raw(V5)
    c.send(raw.connect("props", version=V5, props={"topic_alias": 1}))
    expect_refused_connect(c, [0x81, 0x82], required=STRICT)


@pytest.mark.strata_only
@pytest.mark.broker_config(limits={"max_connections": 3})
def test_max_connections(broker):
    held = [broker.raw_connect("held%d" % i) for i in range(3)]
    c5 = broker.raw(V5)
    c5.send(raw.connect("one-too-many"))
    # refused: CONNACK Quota exceeded / Server busy, or closed before CONNACK
    expect_refused_connect(c5, [0x97, 0x89], required=False)
    c3 = broker.raw(V311)
    c3.send(raw.connect("one-too-many-3", version=V311))
    got = c3.recv_until_closed()
    assert [p.raw for p in got] in ([], [b"\x20\x02\x00\x03"]), got
    held[0].disconnect()
    # The slot is free once the broker has let go of the connection, which
    # is just after the client sees it closed: a connect in between may
    # still be refused, so try again until one is taken.

    def one_more():
        again = broker.raw(V5)
        again.send(raw.connect("after-one-left"))
        ack = again.expect(raw.CONNACK)
        if ack.rc != 0:
            assert ack.rc == 0x97, hex(ack.rc)  # still full: refused as before
            again.close()
        return ack.rc == 0

    wait_until(one_more, timeout=10, interval=0.05, what="a connection accepted after one left")


# --- client identifiers ---------------------------------------------------------

def test_v5_empty_client_id_gets_assigned_identifier(broker):
    ids = []
    for _ in range(2):
        c = broker.raw(V5)
        c.send(raw.connect("", version=V5))
        ack = c.expect(raw.CONNACK)
        assert ack.rc == 0
        assigned = ack.props.get("assigned_client_identifier")
        assert isinstance(assigned, str) and assigned, ack
        ids.append(assigned)
    assert ids[0] != ids[1]


def test_v5_assigned_identifier_names_the_session(broker):
    c = broker.raw(V5)
    ack = c.connect("", clean=True, props={"session_expiry_interval": 60})
    cid = ack.props.get("assigned_client_identifier")
    assert cid
    c.subscribe(("assigned/t", 1), expect=[1])
    c.disconnect()
    again = broker.raw(V5)
    ack2 = again.connect(cid, clean=False, props={"session_expiry_interval": 60})
    assert ack2.session_present
    pub = broker.raw_connect("assigned-pub")
    pub.publish("assigned/t", b"for you", qos=1)
    m = again.expect(raw.PUBLISH)
    assert (m.topic, m.payload) == ("assigned/t", b"for you")


def test_v311_empty_client_id_with_clean_session_accepted(broker):
    c = broker.raw(V311)
    c.send(raw.connect("", version=V311, clean=True))
    assert c.expect(raw.CONNACK).raw == b"\x20\x02\x00\x00"
    assert c.ping().raw == b"\xd0\x00"


def test_v311_empty_client_id_without_clean_session_rejected(broker):
    c = broker.raw(V311)
    c.send(raw.connect("", version=V311, clean=False))
    got = c.recv_until_closed()
    assert [p.raw for p in got] == [b"\x20\x02\x00\x02"]


@pytest.mark.strata_only
@pytest.mark.broker_config(limits={"max_client_id_length": 23})
@pytest.mark.parametrize("version,rc", [(V311, 0x02), (V5, 0x85)])
def test_client_id_too_long_rejected(broker, version, rc):
    c = broker.raw(version)
    c.send(raw.connect("x" * 24, version=version))
    got = c.recv_until_closed()
    assert len(got) == 1 and got[0].type == raw.CONNACK and got[0].rc == rc, got
    ok = broker.raw(version)
    assert ok.connect("y" * 23).rc == 0


# --- session present ---------------------------------------------------------------

def test_v5_session_present_flag(broker):
    props = {"session_expiry_interval": 60}
    a = broker.raw(V5)
    assert a.connect("sp5", clean=False, props=props).ack_flags == 0
    a.disconnect()
    b = broker.raw(V5)
    assert b.connect("sp5", clean=False, props=props).ack_flags == 1
    b.disconnect()
    c = broker.raw(V5)
    assert c.connect("sp5", clean=True, props=props).ack_flags == 0
    c.disconnect()
    # clean start discarded it; a session with expiry 0 ends at disconnect
    d = broker.raw(V5)
    assert d.connect("sp5", clean=False).ack_flags == 1
    d.disconnect()
    e = broker.raw(V5)
    assert e.connect("sp5", clean=False).ack_flags == 0


def test_v311_session_present_flag(broker):
    a = broker.raw(V311)
    a.send(raw.connect("sp311", version=V311, clean=False))
    assert a.expect(raw.CONNACK).raw == b"\x20\x02\x00\x00"
    a.disconnect()
    b = broker.raw(V311)
    b.send(raw.connect("sp311", version=V311, clean=False))
    assert b.expect(raw.CONNACK).raw == b"\x20\x02\x01\x00"
    b.disconnect()
    c = broker.raw(V311)
    c.send(raw.connect("sp311", version=V311, clean=True))
    assert c.expect(raw.CONNACK).raw == b"\x20\x02\x00\x00"
    c.disconnect()
    d = broker.raw(V311)
    d.send(raw.connect("sp311", version=V311, clean=False))
    assert d.expect(raw.CONNACK).raw == b"\x20\x02\x00\x00"


# --- keep alive -------------------------------------------------------------------

def _time_to_close(c, limit=15.0):
    """Seconds until the broker closes `c`, and what it sent before. The
    limit is only how long to wait for the close at all: tests assert that
    it did not come early, never how fast a busy machine got to it."""
    t0 = time.monotonic()
    got = c.recv_until_closed(limit)
    return time.monotonic() - t0, got


@pytest.mark.mosquitto_deviation("checks keep-alive only every few seconds and sends no DISCONNECT 0x8D")
@pytest.mark.parametrize("version", [V311, V5])
def test_keep_alive_timeout_closes_after_one_and_a_half_times(broker, version):
    c = broker.raw_connect("ka%d" % version, version=version, keepalive=1)
    elapsed, got = _time_to_close(c)
    assert elapsed >= 1.4, "closed after %.2fs, before 1.5 times the keep alive" % elapsed
    if version == V5:
        assert [(p.type, p.rc) for p in got] == [(raw.DISCONNECT, 0x8D)], got
    else:
        assert got == []


# Keep alive 2 s: the broker allows 3 s between packets; the client sends one
# every 0.4 s for 4 s, so a busy machine has 2.6 s of slack.
def test_keep_alive_satisfied_by_pings(broker):
    c = broker.raw_connect("kaping", keepalive=2)
    deadline = time.monotonic() + 4.0
    while time.monotonic() < deadline:
        c.ping()
        time.sleep(0.4)
    assert c.is_open(0.2)


def test_keep_alive_satisfied_by_any_packet(broker):
    c = broker.raw_connect("kapub", keepalive=2)
    deadline = time.monotonic() + 4.0
    while time.monotonic() < deadline:
        c.publish("ka/any", b"x", qos=0)
        time.sleep(0.4)
    c.ping()


@pytest.mark.broker_config(limits={"max_keep_alive": 10})
def test_server_keep_alive_override(broker):
    c = broker.raw(V5)
    assert c.connect("ska1", keepalive=60).props.get("server_keep_alive") == 10
    c2 = broker.raw(V5)
    # 0 means "no keep alive", which is longer than the maximum
    assert c2.connect("ska2", keepalive=0).props.get("server_keep_alive") == 10
    c3 = broker.raw(V5)
    assert c3.connect("ska3", keepalive=5).props.get("server_keep_alive", 5) == 5


@pytest.mark.strata_only
@pytest.mark.broker_config(limits={"max_keep_alive": 1})
def test_server_keep_alive_is_enforced(broker):
    c = broker.raw(V5)
    assert c.connect("ska", keepalive=60).props.get("server_keep_alive") == 1
    elapsed, got = _time_to_close(c)
    assert elapsed >= 1.4, elapsed
    assert [(p.type, p.rc) for p in got] == [(raw.DISCONNECT, 0x8D)]


@pytest.mark.strata_only
@pytest.mark.broker_config(limits={"connect_timeout": 1})
def test_connection_without_connect_is_closed(broker):
    c = broker.raw(V5)
    elapsed, got = _time_to_close(c)
    assert got == []
    assert elapsed >= 0.8, elapsed


# --- server-initiated closes reach a client that is still sending -------------------
# (a lingering close: the broker shuts down its side, reads and drops what
# still comes, then closes; see common.write_through_close)

@pytest.mark.strata_only
def test_keep_alive_disconnect_reaches_a_client_that_answers_late(broker):
    c = broker.raw_connect("ka-late", keepalive=1)
    assert select.select([c.sock], [], [], 10)[0], "no keep-alive DISCONNECT"
    write_through_close(c, 0x8D, chunk=raw.pingreq())


@pytest.mark.strata_only
def test_takeover_disconnect_reaches_an_old_connection_still_sending(broker):
    old = broker.raw_connect("taken-busy")
    new = broker.raw(V5)
    assert new.connect("taken-busy").rc == 0
    more = raw.publish("takeover/t", b"x" * 100)
    write_through_close(old, 0x8E, chunk=more, first=more * 80)
    new.ping()


# A connection the broker closes while its write to the peer cannot finish
# (the peer stopped reading) waits a bounded time for it (5 s), then closes
# and frees its connection slot. Without the bound the slot would stay taken
# until the peer read: the third client below would never get in.
@pytest.mark.strata_only
@pytest.mark.broker_config(limits={"max_connections": 2})
def test_close_waits_a_bounded_time_for_a_peer_that_stops_reading(broker):
    stuck = broker.raw(V5)
    stuck.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.connect("stuck")
    stuck.subscribe(("stuck/#", 0), expect=[0])
    pub = broker.raw_connect("stuck-pub")
    chunk = raw.publish("stuck/t", b"x" * 65536) * 16
    for _ in range(16):  # 16 MiB of QoS 0 for the subscriber that never reads
        pub.send(chunk)
    pub.ping(timeout=30)  # all of it routed
    pub.disconnect()

    def connect_when_free(cid):
        c = broker.raw(V5)
        ack = c.connect(cid, expect_rc=None)
        if ack.rc == 0:
            return c
        assert ack.rc == 0x97, hex(ack.rc)  # both slots still taken
        c.close()
        return None

    # Taken over: DISCONNECT 0x8E goes behind what is stuck, then the close.
    taker = wait_until(lambda: connect_when_free("stuck"), timeout=10, interval=0.05,
                       what="the takeover accepted once the publisher's slot is free")
    wait_until(lambda: connect_when_free("third"), timeout=30, interval=0.2,
               what="the stuck connection closed and its slot free")
    taker.ping()


@pytest.mark.strata_only
def test_shutdown_disconnect_reaches_a_client_still_sending(broker):
    c = broker.raw_connect("shutdown-busy")
    broker.begin_stop()
    more = raw.publish("shutdown/t", b"x" * 100)
    write_through_close(c, 0x8B, chunk=more)
    assert broker.finish_stop() == []


# --- session takeover ---------------------------------------------------------------

@pytest.mark.mosquitto_deviation("closes the old connection without DISCONNECT 0x8E")
def test_v5_session_takeover_disconnects_old_with_0x8e(broker):
    old = broker.raw_connect("taken", version=V5)
    new = broker.raw(V5)
    assert new.connect("taken").rc == 0
    d = old.expect_disconnect(0x8E)
    assert d.raw[:3] in (b"\xe0\x01\x8e", b"\xe0\x02\x8e")
    new.ping()


def test_v311_session_takeover_closes_old(broker):
    old = broker.raw_connect("taken311", version=V311)
    new = broker.raw(V311)
    new.send(raw.connect("taken311", version=V311))
    assert new.expect(raw.CONNACK).raw == b"\x20\x02\x00\x00"
    assert old.recv_until_closed() == []
    new.ping()


def test_takeover_keeps_session(broker):
    props = {"session_expiry_interval": 60}
    old = broker.raw_connect("keep", clean=False, props=props)
    old.subscribe(("keep/t", 1), expect=[1])
    new = broker.raw(V5)
    assert new.connect("keep", clean=False, props=props).session_present
    expect_server_disconnect(old, 0x8E, required=STRICT)
    pub = broker.raw_connect("keep-pub")
    pub.publish("keep/t", b"still subscribed", qos=1)
    m = new.expect(raw.PUBLISH)
    assert (m.topic, m.payload, m.qos) == ("keep/t", b"still subscribed", 1)


def test_takeover_with_clean_start_drops_session(broker):
    props = {"session_expiry_interval": 60}
    old = broker.raw_connect("drop", clean=False, props=props)
    old.subscribe(("drop/t", 1), expect=[1])
    new = broker.raw(V5)
    assert not new.connect("drop", clean=True, props=props).session_present
    expect_server_disconnect(old, 0x8E, required=STRICT)
    pub = broker.raw_connect("drop-pub")
    pub.publish("drop/t", b"nobody", qos=1)
    new.expect_nothing(0.4)


# --- authentication ------------------------------------------------------------------

def test_unsupported_authentication_method_gets_0x8c(broker):
    c = broker.raw(V5)
    c.send(raw.connect("auth", version=V5, props={"authentication_method": "SCRAM-SHA-1",
                                                  "authentication_data": b"client-first"}))
    expect_refused_connect(c, [0x8C])


def test_auth_packet_without_method_is_protocol_error(broker):
    c = broker.raw_connect("auth2")
    c.send(raw.auth(0x19, {"authentication_method": "SCRAM-SHA-1"}))
    expect_server_disconnect(c, 0x82, required=STRICT)


# --- CONNACK properties ------------------------------------------------------------------

@pytest.mark.broker_config(limits={"receive_maximum": 20, "max_packet_size": 10000,
                                   "topic_alias_maximum": 5, "maximum_qos": 1,
                                   "retain_available": False})
def test_connack_properties_follow_config(broker):
    ack = broker.raw_connect("props").connack
    assert effective(ack, "receive_maximum") == 20
    assert effective(ack, "maximum_packet_size") == 10000
    assert effective(ack, "topic_alias_maximum") == 5
    assert effective(ack, "maximum_qos") == 1
    assert effective(ack, "retain_available") == 0


@pytest.mark.strata_only
def test_connack_properties_defaults(broker):
    # etc/strata.toml documents these defaults
    ack = broker.raw_connect("defaults").connack
    assert effective(ack, "receive_maximum") == 1024
    assert effective(ack, "maximum_packet_size") == 1024 * 1024
    assert effective(ack, "topic_alias_maximum") == 64
    assert effective(ack, "maximum_qos") == 2
    assert effective(ack, "retain_available") == 1
    assert effective(ack, "wildcard_subscription_available") == 1
    assert effective(ack, "subscription_identifier_available") == 1
    assert effective(ack, "shared_subscription_available") == 1


@pytest.mark.strata_only
@pytest.mark.broker_config(limits={"wildcard_subscriptions": False, "shared_subscriptions": False,
                                   "subscription_identifiers": False})
def test_connack_properties_features_off(broker):
    ack = broker.raw_connect("off").connack
    assert effective(ack, "wildcard_subscription_available") == 0
    assert effective(ack, "subscription_identifier_available") == 0
    assert effective(ack, "shared_subscription_available") == 0


@pytest.mark.strata_only
@pytest.mark.broker_config(limits={"session_expiry_max": 5})
def test_session_expiry_capped_in_connack(broker):
    c = broker.raw(V5)
    assert c.connect("cap", props={"session_expiry_interval": 3600}).props.get(
        "session_expiry_interval") == 5
    c2 = broker.raw(V5)
    assert c2.connect("cap2", props={"session_expiry_interval": 3}).props.get(
        "session_expiry_interval", 3) == 3


def test_v5_connack_has_property_length(broker):
    # A v5 CONNACK always has a properties length, even when empty.
    ack = broker.raw_connect("form").connack
    r = raw.Reader(ack.body)
    r.u8(), r.u8()
    plen = r.varint()
    assert r.remaining() == plen


@pytest.mark.parametrize("version", [V311, V5])
@pytest.mark.parametrize("topic", ["will/+", "will/#", ""])
def test_invalid_will_topic_refused(broker, version, topic):
    c = broker.raw(version)
    c.send(raw.connect("badwill", version=version, will_topic=topic, will_payload=b"x"))
    if version == V311:
        # no 3.1.1 return code applies: close without CONNACK (MQTT-3.2.2-6)
        expect_refused_connect(c, [])
    else:
        expect_refused_connect(c, [0x90, 0x81, 0x82], required=STRICT)
