"""paho-mqtt (1.6) clients for the integration tests, v3.1.1 and v5, with a
queue of received messages and waits that always have a deadline."""

import queue
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

V311 = mqtt.MQTTv311
V5 = mqtt.MQTTv5


def props(packet_type=PacketTypes.PUBLISH, **kw):
    """Properties(...) from keyword arguments named as paho names them
    (MessageExpiryInterval=..., UserProperty=[(k, v), ...], ...)."""
    p = Properties(packet_type)
    for k, v in kw.items():
        setattr(p, k, v)
    return p


class Received:
    __slots__ = ("topic", "payload", "qos", "retain", "dup", "mid", "properties")

    def __init__(self, msg):
        self.topic = msg.topic
        self.payload = msg.payload
        self.qos = msg.qos
        self.retain = bool(msg.retain)
        self.dup = bool(msg.dup)
        self.mid = msg.mid
        self.properties = getattr(msg, "properties", None)

    def prop(self, name, default=None):
        if self.properties is None:
            return default
        return getattr(self.properties, name, default)

    def __repr__(self):
        return "<msg %s %r qos=%d retain=%s>" % (self.topic, self.payload, self.qos, self.retain)


class PahoClient:
    def __init__(self, host, port, client_id="", version=V5, clean=True, transport="tcp"):
        self.host, self.port = host, port
        self.version = version
        self.clean = clean
        kwargs = {"client_id": client_id, "protocol": version, "transport": transport}
        if version != V5:
            kwargs["clean_session"] = clean
        self.client = mqtt.Client(**kwargs)
        self.client.reconnect_delay_set(60, 120)  # never silently reconnect during a test
        self.messages = queue.Queue()
        self._connected = threading.Event()
        self._disconnected = threading.Event()
        self._lock = threading.Lock()
        self._acks = {}
        self.connack = None
        self.disconnect_rc = None
        self.disconnect_props = None
        c = self.client
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        c.on_subscribe = self._on_subscribe
        c.on_unsubscribe = self._on_unsubscribe
        c.on_publish = self._on_publish

    # -- callbacks ------------------------------------------------------------
    def _on_connect(self, client, userdata, flags, rc, properties=None):
        self.connack = (rc, flags, properties)
        self._connected.set()

    def _on_disconnect(self, client, userdata, rc, properties=None):
        self.disconnect_rc = rc
        self.disconnect_props = properties
        self._disconnected.set()

    def _on_message(self, client, userdata, msg):
        self.messages.put(Received(msg))

    def _ack(self, mid, value):
        with self._lock:
            ev = self._acks.setdefault(mid, [threading.Event(), None])
            ev[1] = value
            ev[0].set()

    def _wait_ack(self, mid, timeout, what):
        with self._lock:
            ev = self._acks.setdefault(mid, [threading.Event(), None])
        if not ev[0].wait(timeout):
            raise AssertionError("no %s for mid %d within %.1fs" % (what, mid, timeout))
        with self._lock:
            del self._acks[mid]
        return ev[1]

    def _on_subscribe(self, client, userdata, mid, granted, properties=None):
        if self.version == V5:
            self._ack(mid, [rc.value for rc in granted])
        else:
            self._ack(mid, list(granted))

    def _on_unsubscribe(self, client, userdata, mid, properties=None, reasoncodes=None):
        if reasoncodes is None:
            self._ack(mid, None)
        elif isinstance(reasoncodes, list):
            self._ack(mid, [rc.value for rc in reasoncodes])
        else:
            self._ack(mid, [reasoncodes.value])

    def _on_publish(self, client, userdata, mid):
        pass

    # -- operations -----------------------------------------------------------
    def connect(self, keepalive=60, properties=None, will=None, timeout=5.0, expect_rc=0,
                username=None, password=None):
        """Connects and waits for CONNACK. will: dict(topic, payload, qos,
        retain, properties). Returns (rc, flags, properties)."""
        if will:
            self.client.will_set(will["topic"], will.get("payload"), will.get("qos", 0),
                                 will.get("retain", False), will.get("properties"))
        if username is not None:
            self.client.username_pw_set(username, password)
        if self.version == V5:
            self.client.connect(self.host, self.port, keepalive, clean_start=self.clean,
                                properties=properties)
        else:
            self.client.connect(self.host, self.port, keepalive)
        self.client.loop_start()
        if not self._connected.wait(timeout):
            raise AssertionError("no CONNACK within %.1fs" % timeout)
        rc = self.connack[0]
        rc_value = getattr(rc, "value", rc)
        if expect_rc is not None:
            assert rc_value == expect_rc, "CONNACK rc %r, expected %r" % (rc, expect_rc)
        return self.connack

    @property
    def session_present(self):
        return bool(self.connack[1].get("session present"))

    def subscribe(self, topic, qos=0, timeout=5.0, properties=None, no_local=False,
                  retain_as_published=False, retain_handling=0, expect=None):
        """Subscribes and waits for SUBACK; returns the granted list (v3) or
        the reason codes (v5) as ints."""
        if self.version == V5:
            opts = SubscribeOptions(qos=qos, noLocal=no_local,
                                    retainAsPublished=retain_as_published,
                                    retainHandling=retain_handling)
            if isinstance(topic, list):
                rc, mid = self.client.subscribe([(t, SubscribeOptions(qos=q)) for t, q in topic],
                                                properties=properties)
            else:
                rc, mid = self.client.subscribe(topic, options=opts, properties=properties)
        else:
            rc, mid = self.client.subscribe(topic, qos)
        assert rc == mqtt.MQTT_ERR_SUCCESS, "subscribe failed locally: %d" % rc
        granted = self._wait_ack(mid, timeout, "SUBACK")
        if expect is not None:
            assert granted == list(expect), "SUBACK %r, expected %r" % (granted, expect)
        return granted

    def unsubscribe(self, topic, timeout=5.0):
        rc, mid = self.client.unsubscribe(topic)
        assert rc == mqtt.MQTT_ERR_SUCCESS
        return self._wait_ack(mid, timeout, "UNSUBACK")

    def publish(self, topic, payload=b"", qos=0, retain=False, properties=None, timeout=5.0,
                wait=True):
        info = self.client.publish(topic, payload, qos, retain, properties)
        assert info.rc == mqtt.MQTT_ERR_SUCCESS, "publish failed locally: %d" % info.rc
        if wait:
            info.wait_for_publish(timeout)
            assert info.is_published(), "publish of %r not acknowledged within %.1fs" % (topic, timeout)
        return info

    def wait_messages(self, n, timeout=5.0):
        """Returns exactly the next n messages, failing if fewer arrive in time."""
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            remaining = deadline - time.monotonic()
            try:
                out.append(self.messages.get(timeout=max(0.001, remaining)))
            except queue.Empty:
                raise AssertionError("got %d of %d messages within %.1fs: %r" % (len(out), n, timeout, out))
        return out

    def wait_message(self, timeout=5.0):
        return self.wait_messages(1, timeout)[0]

    def expect_no_message(self, timeout=0.5):
        try:
            m = self.messages.get(timeout=timeout)
        except queue.Empty:
            return
        raise AssertionError("expected no message, got %r" % (m,))

    def drain(self):
        out = []
        while True:
            try:
                out.append(self.messages.get_nowait())
            except queue.Empty:
                return out

    def wait_disconnected(self, timeout=5.0):
        if not self._disconnected.wait(timeout):
            raise AssertionError("client still connected after %.1fs" % timeout)
        return self.disconnect_rc

    def disconnect(self, reasoncode=None, properties=None):
        if self.version == V5 and reasoncode is not None:
            from paho.mqtt.reasoncodes import ReasonCodes
            rc = ReasonCodes(PacketTypes.DISCONNECT, identifier=reasoncode)
            self.client.disconnect(reasoncode=rc, properties=properties)
        else:
            self.client.disconnect()
        self._disconnected.wait(2.0)
        self.client.loop_stop()

    def close(self):
        try:
            self.client.disconnect()
        except Exception:
            pass
        try:
            self.client.loop_stop()
        except Exception:
            pass
