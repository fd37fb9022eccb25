"""Shared pieces of the bridge tests (test_24_bridge*.py): a steady QoS 1
publisher that records what its broker acknowledged, a subscriber that
survives its broker's restarts (persistent session, reconnecting), and the
loss / order / duplicate accounting every outage test reports."""

import threading
import time

import paho.mqtt.client as mqtt

V5 = mqtt.MQTTv5
V311 = mqtt.MQTTv311


def _client(client_id, version, clean):
    if version == V5:
        c = mqtt.Client(client_id=client_id, protocol=V5)
    else:
        c = mqtt.Client(client_id=client_id, protocol=V311, clean_session=clean)
    c.reconnect_delay_set(0.1, 0.5)
    return c


class Subscriber:
    """A persistent-session QoS 1 subscriber of `filter` on host:port that
    reconnects by itself; `payloads` is everything received, in order."""

    def __init__(self, port, filter, client_id, version=V5, host="127.0.0.1"):
        self.payloads = []
        self.messages = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.filter = filter
        self.c = _client(client_id, version, clean=False)
        self.c.on_connect = self._on_connect
        self.c.on_message = self._on_message
        self.c.on_subscribe = lambda *a, **k: self._subscribed.set()
        if version == V5:
            from paho.mqtt.properties import Properties
            from paho.mqtt.packettypes import PacketTypes
            p = Properties(PacketTypes.CONNECT)
            p.SessionExpiryInterval = 3600
            self.c.connect(host, port, 60, clean_start=False, properties=p)
        else:
            self.c.connect(host, port, 60)
        self.c.loop_start()
        if not self._subscribed.wait(10):
            raise AssertionError("subscriber on %d: no SUBACK within 10 s" % port)

    def _on_connect(self, client, userdata, flags, rc, properties=None):
        client.subscribe(self.filter, 1)

    def _on_message(self, client, userdata, msg):
        with self._lock:
            self.payloads.append(msg.payload)
            self.messages.append(msg)

    def count(self):
        with self._lock:
            return len(self.payloads)

    def snapshot(self):
        with self._lock:
            return list(self.payloads)

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


class Publisher:
    """Publishes "<tag>:<seq>" QoS 1 messages on `topic` at `rate` per
    second in a thread; `acked` holds the sequence numbers the broker
    acknowledged (PUBACK). Bounded by `count` and by `seconds`."""

    def __init__(self, port, topic, tag, rate, count, seconds, host="127.0.0.1", qos=1):
        self.topic, self.tag, self.rate, self.total, self.seconds = topic, tag, rate, count, seconds
        self.qos = qos
        self.acked = set()
        self.sent = 0
        # paho reuses a message id once it is acknowledged, so a PUBACK is
        # matched to its sequence number as soon as both are known: the
        # PUBACK can come before publish() has returned the id.
        self._mids = {}          # mid -> seq, sent and not acknowledged yet
        self._early = set()      # mids acknowledged before their seq was recorded
        self._lock = threading.Lock()
        self.c = _client("pub-" + tag, V5, clean=True)
        self.c.max_inflight_messages_set(1000)
        self.c.max_queued_messages_set(0)
        self.c.on_publish = self._on_publish
        self.c.connect(host, port, 60)
        self.c.loop_start()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _on_publish(self, client, userdata, mid):
        # Called with paho's lock held: take only our own, never call paho.
        with self._lock:
            seq = self._mids.pop(mid, None)
            if seq is None:
                self._early.add(mid)
            else:
                self.acked.add(seq)

    def start(self):
        self._thread.start()
        return self

    def _run(self):
        begin = time.monotonic()
        for seq in range(self.total):
            due = begin + seq / self.rate
            now = time.monotonic()
            if now - begin > self.seconds:
                break
            if due > now:
                time.sleep(due - now)
            info = self.c.publish(self.topic, ("%s:%d" % (self.tag, seq)).encode(), self.qos)
            with self._lock:
                if info.mid in self._early:
                    self._early.discard(info.mid)
                    self.acked.add(seq)
                else:
                    self._mids[info.mid] = seq
            self.sent = seq + 1

    def join(self, timeout=60):
        self._thread.join(timeout)

    def wait_acked(self, timeout=20):
        """Waits until every message sent so far is acknowledged, or
        `timeout`; returns the acknowledged sequence numbers."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if not self._mids or time.monotonic() >= deadline:
                    return set(self.acked)
            time.sleep(0.05)

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()


def account(tag, acked, payloads):
    """Lost (acknowledged, never arrived), out-of-order and duplicate counts
    of one publisher's messages among `payloads`."""
    prefix = (tag + ":").encode()
    seqs = [int(p[len(prefix):]) for p in payloads if p.startswith(prefix)]
    seen = set()
    duplicates = 0
    order_breaks = 0
    highest = -1
    for s in seqs:
        if s in seen:
            duplicates += 1
            continue
        seen.add(s)
        if s < highest:
            order_breaks += 1
        highest = max(highest, s)
    lost = sorted(acked - seen)
    return {"acked": len(acked), "arrived": len(seen), "lost": lost, "duplicates": duplicates,
            "order_breaks": order_breaks, "extra": sorted(seen - acked)}
