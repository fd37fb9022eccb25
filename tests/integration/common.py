"""Shared checks for the integration tests."""

import time

import brokerproc
import raw

MOSQUITTO = brokerproc.KIND == "mosquitto"

# Where the spec lets a server either send a reason code (CONNACK/DISCONNECT
# 0x81, 0x82, ...) or just close, Strata sends the reason code (DESIGN.md:
# "a malformed packet closes that connection with the right reason code");
# Mosquitto 2.0.11 often just closes. STRICT makes the reason code required.
STRICT = not MOSQUITTO

# Defaults a v5 CONNACK implies when a property is absent (MQTT 5.0 3.2.2.3).
CONNACK_DEFAULTS = {
    "receive_maximum": 65535,
    "maximum_qos": 2,
    "retain_available": 1,
    "maximum_packet_size": None,  # no limit
    "topic_alias_maximum": 0,
    "wildcard_subscription_available": 1,
    "subscription_identifier_available": 1,
    "shared_subscription_available": 1,
}


def effective(connack, name):
    return connack.props.get(name, CONNACK_DEFAULTS[name])


def expect_refused_connect(c, rcs, required=True, timeout=5.0):
    """After a bad CONNECT: the connection must close; before the close the
    broker may send only one CONNACK whose reason is in `rcs` (required if
    `required`). rcs=() means nothing at all may be sent. Returns the
    CONNACK or None."""
    got = c.recv_until_closed(timeout)
    assert len(got) <= 1, "more than one packet before close: %r" % (got,)
    if not got:
        assert not (required and rcs), "closed without CONNACK (expected reason in %s)" % (
            ["0x%02x" % r for r in rcs],)
        return None
    p = got[0]
    assert p.type == raw.CONNACK, "expected CONNACK or nothing, got %r" % (p,)
    assert p.rc in rcs, "CONNACK reason 0x%02x not in %s" % (p.rc, ["0x%02x" % r for r in rcs])
    assert not p.session_present, "session present set on a refused CONNACK"
    return p


def expect_server_disconnect(c, rc, required=True, timeout=5.0):
    """v5 after CONNACK: expect DISCONNECT `rc` then close (the DISCONNECT is
    optional when not `required`). v3: expect just the close."""
    got = c.recv_until_closed(timeout)
    discs = [p for p in got if p.type == raw.DISCONNECT]
    if c.version != raw.V5:
        assert not discs, "3.1.1 client got a DISCONNECT: %r" % (got,)
        return None
    if required:
        assert discs, "closed without DISCONNECT 0x%02x (got %r)" % (rc, got)
    if discs:
        assert len(discs) == 1 and got[-1] is discs[0], "packets after DISCONNECT: %r" % (got,)
        assert discs[0].rc == rc, "DISCONNECT reason 0x%02x, expected 0x%02x: %r" % (discs[0].rc, rc, discs[0])
        return discs[0]
    return None


def wait_until(pred, timeout=5.0, interval=0.02, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def check_alive(broker, version=raw.V5):
    """Another client can still connect, subscribe and get a publish."""
    sub = broker.raw_connect("alive-sub-%d" % time.monotonic_ns(), version=version)
    sub.subscribe(("alive/check", 1), expect=[1])
    pub = broker.raw_connect("alive-pub-%d" % time.monotonic_ns(), version=version)
    pub.publish("alive/check", b"still here", qos=1, pid=7)
    m = sub.expect(raw.PUBLISH)
    assert (m.topic, m.payload, m.qos) == ("alive/check", b"still here", 1)
    sub.send(raw.puback(m.pid, version=version))
    sub.disconnect()
    pub.disconnect()


def collect_publishes(c, timeout=0.4, ack=False):
    """Every PUBLISH that arrives until the broker has nothing more for `c`.
    With `ack` the client completes QoS 1 and 2 flows as it goes (PUBACK;
    PUBREC, then PUBCOMP for the broker's PUBREL); without, anything other
    than a PUBLISH fails the test.

    It does not guess from silence alone: it sends a PINGREQ and reads up to
    its PINGRESP (waiting up to 30 s), which the broker answers after every
    delivery already on its way to this client and after whatever the
    client's own acknowledgements released. Only a round with nothing new
    before the PINGRESP ends it, after a last quiet `timeout` for anything
    still being routed from another client. So a busy machine that delays
    deliveries does not cut the collection short."""
    out = []

    def handle(p):
        if ack and p.type == raw.PUBREL:
            c.send(raw.pubcomp(p.pid, version=c.version))
            return
        assert p.type == raw.PUBLISH, p
        out.append(p)
        if ack and p.qos == 1:
            c.send(raw.puback(p.pid, version=c.version))
        elif ack and p.qos == 2:
            c.send(raw.pubrec(p.pid, version=c.version))

    while True:
        seen = len(c.received)
        if c.try_send(raw.pingreq()):
            while True:
                p = c.recv(30.0)
                if p.type == raw.PINGRESP:
                    break
                handle(p)
            if len(c.received) > seen + 1:  # more than the PINGRESP: go round again
                continue
        try:
            handle(c.recv(timeout))
        except (raw.Timeout, raw.Closed):
            return out
