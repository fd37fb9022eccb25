"""The QoS 1 inflight window follows what the client allows.

An MQTT 5 subscriber that announces Receive Maximum R and acknowledges
nothing gets exactly min(R, max_inflight_messages) QoS 1 PUBLISHes, then
exactly one more per PUBACK it sends; an MQTT 3.1.1 subscriber (which
announces nothing) gets max_inflight_messages_mqtt311; max_inflight_bytes
bounds the topic + payload bytes in the window.

"Exactly" is read without guessing from silence: after its QoS 1 messages
the publisher sends a QoS 0 marker, which no window holds back and which
takes the same path through the broker, so everything the broker sent
before deciding to hold the rest arrives before the marker."""

import pytest

import raw
from raw import V311, V5

pytestmark = pytest.mark.strata_only

TOPIC = "iw/t"
MARKER = "iw/marker"


def _subscriber(broker, name, version=V5, receive_maximum=None):
    props = {"receive_maximum": receive_maximum} if receive_maximum is not None else None
    s = broker.raw_connect(name, version=version, props=props)
    s.subscribe([(TOPIC, 1), (MARKER, 0)], expect=[1, 0])
    return s


def _body(i, pad):
    return b"%05d" % i + pad


def _publish(p, first, count, pad=b"", batch=200):
    """QoS 1 messages first..first+count-1 (payload: the number in five
    digits, then `pad`), pipelined in batches; returns once the broker
    acknowledged all (each was routed: sent or queued)."""
    n = first
    end = first + count
    while n < end:
        k = min(batch, end - n)
        p.send(b"".join(raw.publish(TOPIC, _body(i, pad), qos=1, pid=1 + i % 60000,
                                    version=p.version) for i in range(n, n + k)))
        for _ in range(k):
            p.expect(raw.PUBACK, timeout=30)
        n += k


def _until_marker(s, marker, timeout=30):
    """The QoS 1 PUBLISHes that arrive before the QoS 0 marker `marker`."""
    got = []
    while True:
        m = s.expect(raw.PUBLISH, timeout=timeout)
        if m.topic == MARKER:
            assert m.payload == marker, "marker %r, expected %r" % (m.payload, marker)
            return got
        assert m.topic == TOPIC and m.qos == 1, m
        got.append(m)


def _window_then_one_per_puback(broker, s, window, extra=5, pad=b""):
    p = broker.raw_connect("iw-pub")
    _publish(p, 0, window + extra, pad)
    p.publish(MARKER, b"m0")
    inflight = _until_marker(s, b"m0")
    assert len(inflight) == window, "%d PUBLISHes before acknowledging, window %d" % (len(inflight), window)
    assert [m.payload for m in inflight] == [_body(i, pad) for i in range(window)]
    assert len({m.pid for m in inflight}) == window
    # One PUBACK: exactly one more; then two: exactly two more.
    sent = window
    for k, marker in ((1, b"m1"), (2, b"m2")):
        if k > window:
            break
        for m in inflight[:k]:
            s.send(raw.puback(m.pid, version=s.version))
        inflight = inflight[k:]
        more = [s.expect(raw.PUBLISH, timeout=30) for _ in range(k)]
        p.publish(MARKER, marker)
        more += _until_marker(s, marker)
        assert [m.payload for m in more] == [_body(i, pad) for i in range(sent, sent + k)]
        inflight += more
        sent += k
    p.disconnect()


@pytest.mark.broker_config(limits={"max_inflight_messages": 500})
@pytest.mark.parametrize("announced,window", [(200, 200), (65535, 500), (None, 500)],
                         ids=["client-smaller", "broker-smaller", "announces-none"])
def test_v5_window_is_receive_maximum_up_to_broker_limit(broker, announced, window):
    s = _subscriber(broker, "iw-v5", receive_maximum=announced)
    _window_then_one_per_puback(broker, s, window)


def test_v5_large_receive_maximum_gets_large_window_by_default(broker):
    # The default max_inflight_messages (65535) leaves the window to the
    # client: 3000 here, far beyond the 64 of before.
    s = _subscriber(broker, "iw-big", receive_maximum=3000)
    _window_then_one_per_puback(broker, s, 3000)


def test_v311_client_gets_the_default_window(broker):
    s = _subscriber(broker, "iw-311", version=V311)
    _window_then_one_per_puback(broker, s, 64)


@pytest.mark.broker_config(limits={"max_inflight_messages_mqtt311": 10})
def test_v311_window_is_configurable(broker):
    s = _subscriber(broker, "iw-311c", version=V311)
    _window_then_one_per_puback(broker, s, 10)


@pytest.mark.broker_config(limits={"max_inflight_bytes": 1000})
def test_window_bounded_by_bytes(broker):
    # Topic "iw/t" (4 bytes) + payload (5 digits + 91 bytes) is 100 bytes:
    # ten fit in 1000 bytes, an eleventh waits for a PUBACK.
    s = _subscriber(broker, "iw-bytes", receive_maximum=65535)
    _window_then_one_per_puback(broker, s, 10, pad=b"x" * 91)


@pytest.mark.broker_config(limits={"max_inflight_bytes": 10})
def test_message_larger_than_byte_bound_still_goes_alone(broker):
    s = _subscriber(broker, "iw-huge", receive_maximum=65535)
    _window_then_one_per_puback(broker, s, 1, extra=3, pad=b"y" * 100)
