"""A raw MQTT 3.1.1 / 5.0 client for Strata's integration tests.

Packets are encoded by hand and read back byte by byte, so tests can assert
exact bytes, flags, reason codes and properties — and can send what no real
client library would (malformed lengths, reserved bits, packets out of order).

Nothing here hides protocol behaviour: every wait has a deadline, and
`recv` returns exactly one decoded packet or raises.
"""

import socket
import struct
import time

# Packet types
CONNECT = 1
CONNACK = 2
PUBLISH = 3
PUBACK = 4
PUBREC = 5
PUBREL = 6
PUBCOMP = 7
SUBSCRIBE = 8
SUBACK = 9
UNSUBSCRIBE = 10
UNSUBACK = 11
PINGREQ = 12
PINGRESP = 13
DISCONNECT = 14
AUTH = 15

TYPE_NAMES = {
    1: "CONNECT", 2: "CONNACK", 3: "PUBLISH", 4: "PUBACK", 5: "PUBREC",
    6: "PUBREL", 7: "PUBCOMP", 8: "SUBSCRIBE", 9: "SUBACK", 10: "UNSUBSCRIBE",
    11: "UNSUBACK", 12: "PINGREQ", 13: "PINGRESP", 14: "DISCONNECT", 15: "AUTH",
}

V311 = 4
V5 = 5

# ---------------------------------------------------------------------------
# Properties (MQTT 5.0, section 2.2.2.2)
# ---------------------------------------------------------------------------

BYTE, TWO, FOUR, VARINT, UTF8, BINARY, PAIR = range(7)

PROPERTIES = {
    0x01: ("payload_format_indicator", BYTE),
    0x02: ("message_expiry_interval", FOUR),
    0x03: ("content_type", UTF8),
    0x08: ("response_topic", UTF8),
    0x09: ("correlation_data", BINARY),
    0x0B: ("subscription_identifier", VARINT),
    0x11: ("session_expiry_interval", FOUR),
    0x12: ("assigned_client_identifier", UTF8),
    0x13: ("server_keep_alive", TWO),
    0x15: ("authentication_method", UTF8),
    0x16: ("authentication_data", BINARY),
    0x17: ("request_problem_information", BYTE),
    0x18: ("will_delay_interval", FOUR),
    0x19: ("request_response_information", BYTE),
    0x1A: ("response_information", UTF8),
    0x1C: ("server_reference", UTF8),
    0x1F: ("reason_string", UTF8),
    0x21: ("receive_maximum", TWO),
    0x22: ("topic_alias_maximum", TWO),
    0x23: ("topic_alias", TWO),
    0x24: ("maximum_qos", BYTE),
    0x25: ("retain_available", BYTE),
    0x26: ("user_property", PAIR),
    0x27: ("maximum_packet_size", FOUR),
    0x28: ("wildcard_subscription_available", BYTE),
    0x29: ("subscription_identifier_available", BYTE),
    0x2A: ("shared_subscription_available", BYTE),
}
PROPERTY_IDS = {name: (pid, kind) for pid, (name, kind) in PROPERTIES.items()}


class MalformedError(Exception):
    """The peer sent bytes this decoder cannot accept."""


class Props:
    """Ordered MQTT 5 properties: a list of (name, value) pairs.

    `get(name)` gives the single value (or a default), `all(name)` every value
    (user properties are (key, value) tuples, subscription identifiers ints),
    `names()` the names in wire order.
    """

    def __init__(self, items=None):
        self.items = list(items or [])

    def get(self, name, default=None):
        for n, v in self.items:
            if n == name:
                return v
        return default

    def all(self, name):
        return [v for n, v in self.items if n == name]

    def names(self):
        return [n for n, _ in self.items]

    def __contains__(self, name):
        return any(n == name for n, _ in self.items)

    def __len__(self):
        return len(self.items)

    def __repr__(self):
        return "Props(%r)" % (self.items,)


def _props_items(props):
    if props is None:
        return []
    if isinstance(props, Props):
        return props.items
    if isinstance(props, dict):
        out = []
        for name, value in props.items():
            if name in ("user_property", "subscription_identifier") and isinstance(value, list):
                out.extend((name, v) for v in value)
            else:
                out.append((name, value))
        return out
    return list(props)


# ---------------------------------------------------------------------------
# Primitive encoders / decoders
# ---------------------------------------------------------------------------

def varint(n):
    if n < 0 or n > 268435455:
        raise ValueError("varint out of range: %d" % n)
    out = bytearray()
    while True:
        byte = n % 128
        n //= 128
        if n:
            byte |= 0x80
        out.append(byte)
        if not n:
            return bytes(out)


def utf8(s):
    b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
    return struct.pack("!H", len(b)) + b


def binary(b):
    b = b.encode() if isinstance(b, str) else bytes(b)
    return struct.pack("!H", len(b)) + b


def encode_props(props):
    """Encodes properties (dict, list of pairs or Props) with their length."""
    body = bytearray()
    for name, value in _props_items(props):
        if isinstance(name, int):
            pid, kind = name, PROPERTIES[name][1]
        else:
            pid, kind = PROPERTY_IDS[name]
        body += varint(pid)
        if kind == BYTE:
            body += struct.pack("!B", value)
        elif kind == TWO:
            body += struct.pack("!H", value)
        elif kind == FOUR:
            body += struct.pack("!I", value)
        elif kind == VARINT:
            body += varint(value)
        elif kind == UTF8:
            body += utf8(value)
        elif kind == BINARY:
            body += binary(value)
        elif kind == PAIR:
            body += utf8(value[0]) + utf8(value[1])
    return varint(len(body)) + bytes(body)


class Reader:
    def __init__(self, data):
        self.data = bytes(data)
        self.pos = 0

    def remaining(self):
        return len(self.data) - self.pos

    def take(self, n):
        if self.pos + n > len(self.data):
            raise MalformedError("truncated: need %d bytes at %d of %d" % (n, self.pos, len(self.data)))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def u8(self):
        return self.take(1)[0]

    def u16(self):
        return struct.unpack("!H", self.take(2))[0]

    def u32(self):
        return struct.unpack("!I", self.take(4))[0]

    def varint(self):
        value, mult = 0, 1
        for i in range(4):
            b = self.u8()
            value += (b & 0x7F) * mult
            if not b & 0x80:
                return value
            mult *= 128
        raise MalformedError("varint longer than 4 bytes")

    def utf8(self):
        raw = self.take(self.u16())
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise MalformedError("bad UTF-8: %r" % raw) from e

    def binary(self):
        return self.take(self.u16())

    def rest(self):
        return self.take(self.remaining())

    def props(self):
        length = self.varint()
        sub = Reader(self.take(length))
        items = []
        while sub.remaining():
            pid = sub.varint()
            if pid not in PROPERTIES:
                raise MalformedError("unknown property id 0x%02x" % pid)
            name, kind = PROPERTIES[pid]
            if kind == BYTE:
                v = sub.u8()
            elif kind == TWO:
                v = sub.u16()
            elif kind == FOUR:
                v = sub.u32()
            elif kind == VARINT:
                v = sub.varint()
            elif kind == UTF8:
                v = sub.utf8()
            elif kind == BINARY:
                v = sub.binary()
            else:
                v = (sub.utf8(), sub.utf8())
            items.append((name, v))
        return Props(items)


def fixed(ptype, flags, body):
    return bytes([(ptype << 4) | (flags & 0x0F)]) + varint(len(body)) + bytes(body)


# ---------------------------------------------------------------------------
# Packet encoders (client -> server)
# ---------------------------------------------------------------------------

def connect(client_id="", version=V5, clean=True, keepalive=60, props=None,
            will_topic=None, will_payload=b"", will_qos=0, will_retain=False,
            will_props=None, username=None, password=None,
            protocol_name="MQTT", flags=None, extra=b""):
    """CONNECT. `flags` overrides the computed connect-flags byte."""
    f = 0
    if clean:
        f |= 0x02
    if will_topic is not None:
        f |= 0x04 | (will_qos << 3)
        if will_retain:
            f |= 0x20
    if password is not None:
        f |= 0x40
    if username is not None:
        f |= 0x80
    if flags is not None:
        f = flags
    body = bytearray()
    body += utf8(protocol_name)
    body.append(version)
    body.append(f)
    body += struct.pack("!H", keepalive)
    if version == V5:
        body += encode_props(props)
    body += utf8(client_id)
    if will_topic is not None:
        if version == V5:
            body += encode_props(will_props)
        body += utf8(will_topic)
        body += binary(will_payload)
    if username is not None:
        body += utf8(username)
    if password is not None:
        body += binary(password)
    body += extra
    return fixed(CONNECT, 0, body)


def publish(topic, payload=b"", qos=0, retain=False, dup=False, pid=None,
            props=None, version=V5):
    if isinstance(payload, str):
        payload = payload.encode()
    flags = (0x08 if dup else 0) | (qos << 1) | (0x01 if retain else 0)
    body = bytearray(utf8(topic))
    if qos > 0:
        body += struct.pack("!H", pid if pid is not None else 1)
    if version == V5:
        body += encode_props(props)
    body += payload
    return fixed(PUBLISH, flags, body)


def _ack(ptype, flags, pid, rc, props, version):
    body = bytearray(struct.pack("!H", pid))
    if version == V5 and (rc is not None or props):
        body.append(rc or 0)
        if props:
            body += encode_props(props)
    return fixed(ptype, flags, body)


def puback(pid, rc=None, props=None, version=V5):
    return _ack(PUBACK, 0, pid, rc, props, version)


def pubrec(pid, rc=None, props=None, version=V5):
    return _ack(PUBREC, 0, pid, rc, props, version)


def pubrel(pid, rc=None, props=None, version=V5, flags=0x02):
    return _ack(PUBREL, flags, pid, rc, props, version)


def pubcomp(pid, rc=None, props=None, version=V5):
    return _ack(PUBCOMP, 0, pid, rc, props, version)


def subscribe(pid, filters, props=None, version=V5, flags=0x02):
    """filters: list of (filter, options) where options is the whole byte
    (QoS | nl<<2 | rap<<3 | rh<<4), or a bare filter string (QoS 0)."""
    body = bytearray(struct.pack("!H", pid))
    if version == V5:
        body += encode_props(props)
    for item in filters:
        if isinstance(item, str):
            item = (item, 0)
        f, opts = item
        body += utf8(f)
        body.append(opts)
    return fixed(SUBSCRIBE, flags, body)


def sub_opts(qos=0, nl=False, rap=False, rh=0):
    return qos | (0x04 if nl else 0) | (0x08 if rap else 0) | (rh << 4)


def unsubscribe(pid, filters, props=None, version=V5, flags=0x02):
    body = bytearray(struct.pack("!H", pid))
    if version == V5:
        body += encode_props(props)
    for f in filters:
        body += utf8(f)
    return fixed(UNSUBSCRIBE, flags, body)


def pingreq():
    return b"\xc0\x00"


def disconnect(rc=None, props=None, version=V5):
    body = bytearray()
    if version == V5 and (rc is not None or props):
        body.append(rc or 0)
        if props:
            body += encode_props(props)
    return fixed(DISCONNECT, 0, body)


def auth(rc=0, props=None):
    body = bytearray([rc])
    body += encode_props(props)
    return fixed(AUTH, 0, body)


# ---------------------------------------------------------------------------
# Decoded packets (server -> client)
# ---------------------------------------------------------------------------

class Packet:
    """One decoded packet. Always has: type, flags, raw (all bytes), body.
    Per type: session_present/rc/props (CONNACK), topic/qos/retain/dup/pid/
    props/payload (PUBLISH), pid/rc/props (acks), pid/props/rcs (SUBACK,
    UNSUBACK), rc/props (DISCONNECT, AUTH)."""

    def __init__(self, ptype, flags, body, raw):
        self.type = ptype
        self.flags = flags
        self.body = body
        self.raw = raw
        self.props = Props()
        self.rc = None
        self.pid = None

    @property
    def name(self):
        if self.type == -1:
            return "UNDECODABLE"
        return TYPE_NAMES.get(self.type, "TYPE%d" % self.type)

    def __repr__(self):
        fields = ["%s=%r" % (k, v) for k, v in self.__dict__.items()
                  if k not in ("body", "raw", "type", "flags") and v not in (None, [])
                  and not (isinstance(v, Props) and not len(v))]
        return "<%s flags=0x%x %s>" % (self.name, self.flags, " ".join(fields))


def decode(ptype, flags, body, version):
    raw_header = bytes([(ptype << 4) | flags]) + varint(len(body))
    p = Packet(ptype, flags, body, raw_header + body)
    r = Reader(body)
    if ptype == CONNACK:
        ack_flags = r.u8()
        p.session_present = bool(ack_flags & 1)
        p.ack_flags = ack_flags
        p.rc = r.u8()
        if version == V5 and r.remaining():
            p.props = r.props()
    elif ptype == PUBLISH:
        p.qos = (flags >> 1) & 3
        p.retain = bool(flags & 1)
        p.dup = bool(flags & 8)
        p.topic = r.utf8()
        if p.qos:
            p.pid = r.u16()
        if version == V5:
            p.props = r.props()
        p.payload = r.rest()
    elif ptype in (PUBACK, PUBREC, PUBREL, PUBCOMP):
        p.pid = r.u16()
        p.rc = 0
        if version == V5 and r.remaining():
            p.rc = r.u8()
            if r.remaining():
                p.props = r.props()
    elif ptype in (SUBACK, UNSUBACK):
        p.pid = r.u16()
        if version == V5:
            p.props = r.props()
        p.rcs = list(r.rest())
    elif ptype in (DISCONNECT, AUTH):
        p.rc = 0
        if r.remaining():
            p.rc = r.u8()
            if r.remaining():
                p.props = r.props()
    elif ptype in (PINGRESP,):
        pass
    if r.remaining() and ptype != PUBLISH:
        raise MalformedError("%s has %d trailing bytes" % (p.name, r.remaining()))
    return p


class Closed(Exception):
    """The broker closed the connection (EOF or reset)."""


class Timeout(Exception):
    """Nothing arrived before the deadline."""


class RawClient:
    """A TCP connection speaking hand-made MQTT.

    recv(timeout) returns the next decoded Packet; it raises Closed when the
    broker closed the connection and Timeout when nothing came in time.
    """

    def __init__(self, host, port, version=V5, timeout=5.0):
        self.version = version
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.closed = False
        self.received = []

    @classmethod
    def over(cls, sock, version=V5):
        """A client on a socket the caller connected (a TLS socket, one
        bound to a given source address, one that sent a PROXY header)."""
        c = cls.__new__(cls)
        c.version, c.sock, c.buf, c.closed, c.received = version, sock, bytearray(), False, []
        return c

    # -- sending --------------------------------------------------------
    def send(self, data):
        self.sock.sendall(bytes(data))

    def try_send(self, data):
        """Sends, returning False if the broker already closed the socket."""
        try:
            self.sock.sendall(bytes(data))
            return True
        except OSError:
            return False

    # -- receiving ------------------------------------------------------
    def _fill(self, deadline):
        if self.closed:
            raise Closed()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise Timeout()
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise Timeout()
        except (ConnectionResetError, ConnectionAbortedError, BrokenPipeError):
            self.closed = True
            raise Closed()
        if not chunk:
            self.closed = True
            raise Closed()
        self.buf += chunk

    def _try_parse(self):
        if len(self.buf) < 2:
            return None
        value, mult, i = 0, 1, 1
        while True:
            if i >= len(self.buf):
                return None
            b = self.buf[i]
            value += (b & 0x7F) * mult
            i += 1
            if not b & 0x80:
                break
            mult *= 128
            if i > 4:
                raise MalformedError("remaining length longer than 4 bytes")
        if len(self.buf) < i + value:
            return None
        first = self.buf[0]
        whole = bytes(self.buf[:i + value])
        body = whole[i:]
        del self.buf[:i + value]
        try:
            return decode(first >> 4, first & 0x0F, body, self.version)
        except MalformedError as e:
            raise MalformedError("%s in %s" % (e, whole.hex())) from None

    def recv(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            p = self._try_parse()
            if p is not None:
                self.received.append(p)
                return p
            self._fill(deadline)

    def recv_raw_bytes(self, timeout=5.0):
        """Returns the next whole packet's bytes (header included)."""
        p = self.recv(timeout)
        return p.raw

    def expect(self, ptype, timeout=5.0):
        p = self.recv(timeout)
        assert p.type == ptype, "expected %s, got %r" % (TYPE_NAMES[ptype], p)
        return p

    def expect_nothing(self, timeout=0.5):
        """Asserts that no packet arrives (and the socket stays open) for `timeout`."""
        try:
            p = self.recv(timeout)
        except Timeout:
            return
        raise AssertionError("expected nothing, got %r" % (p,))

    def recv_until_closed(self, timeout=5.0):
        """Reads packets until the broker closes the connection; returns them.
        Fails (AssertionError) if the connection is still open at the deadline."""
        deadline = time.monotonic() + timeout
        got = []
        while True:
            try:
                got.append(self.recv(max(0.0, deadline - time.monotonic())))
            except Closed:
                return got
            except Timeout:
                raise AssertionError("connection still open after %.1fs; got %r" % (timeout, got))
            except MalformedError as e:
                # keep what could not be decoded so callers see it; whatever
                # followed cannot be trusted, so wait for the close
                bad = Packet(-1, 0, bytes(self.buf), bytes(self.buf))
                bad.error = str(e)
                got.append(bad)
                self.buf.clear()

    def expect_closed(self, timeout=5.0, allow=()):
        """Waits for the close; returns the packets received before it.
        Any packet whose type is not in `allow` fails the assertion."""
        got = self.recv_until_closed(timeout)
        for p in got:
            assert p.type in allow, "unexpected %r before close" % (p,)
        return got

    def expect_disconnect(self, rc, timeout=5.0):
        """v5: expects DISCONNECT with reason `rc` and then the close.
        Returns the DISCONNECT packet."""
        got = self.recv_until_closed(timeout)
        discs = [p for p in got if p.type == DISCONNECT]
        assert discs, "no DISCONNECT before close (got %r)" % (got,)
        assert discs[-1] is got[-1], "packets after DISCONNECT: %r" % (got,)
        assert discs[0].rc == rc, "DISCONNECT reason 0x%02x, expected 0x%02x (%r)" % (discs[0].rc, rc, discs[0])
        return discs[0]

    def is_open(self, timeout=0.3):
        """True if the connection is not closed within `timeout` (packets
        arriving in the meantime are kept in self.received)."""
        try:
            self.recv(timeout)
        except Timeout:
            return True
        except Closed:
            return False
        return True

    # -- conveniences ----------------------------------------------------
    def connect(self, client_id="", clean=True, keepalive=60, props=None, expect_rc=0, **kw):
        self.send(connect(client_id, version=self.version, clean=clean,
                          keepalive=keepalive, props=props, **kw))
        ack = self.expect(CONNACK)
        if expect_rc is not None:
            assert ack.rc == expect_rc, "CONNACK rc 0x%02x, expected 0x%02x (%r)" % (ack.rc, expect_rc, ack)
        return ack

    def subscribe(self, filters, pid=1, props=None, expect=None, timeout=5.0):
        if isinstance(filters, (str, tuple)):
            filters = [filters]
        self.send(subscribe(pid, filters, props=props, version=self.version))
        ack = self.expect(SUBACK, timeout)
        assert ack.pid == pid
        if expect is not None:
            assert ack.rcs == list(expect), "SUBACK %r, expected %r" % (ack.rcs, expect)
        return ack

    def unsubscribe(self, filters, pid=1, props=None):
        self.send(unsubscribe(pid, filters, props=props, version=self.version))
        ack = self.expect(UNSUBACK)
        assert ack.pid == pid
        return ack

    def publish(self, topic, payload=b"", qos=0, retain=False, pid=None, props=None, dup=False):
        """Publishes; for QoS 1 waits for PUBACK, for QoS 2 runs the whole
        PUBREC/PUBREL/PUBCOMP flow. Returns the final ack (or None)."""
        if qos and pid is None:
            pid = 1
        self.send(publish(topic, payload, qos=qos, retain=retain, pid=pid, props=props,
                          dup=dup, version=self.version))
        if qos == 1:
            ack = self.expect(PUBACK)
            assert ack.pid == pid
            return ack
        if qos == 2:
            rec = self.expect(PUBREC)
            assert rec.pid == pid
            self.send(pubrel(pid, version=self.version))
            comp = self.expect(PUBCOMP)
            assert comp.pid == pid
            return comp
        return None

    def ping(self, timeout=5.0):
        self.send(pingreq())
        return self.expect(PINGRESP, timeout)

    def disconnect(self, rc=None, props=None, wait=2.0):
        """Sends DISCONNECT and waits (up to `wait` seconds) for the broker to
        close its side, so the broker has handled it before the test goes on
        (a reconnect with the same client id must not race the DISCONNECT)."""
        if self.try_send(disconnect(rc, props, version=self.version)):
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            deadline = time.monotonic() + wait
            try:
                while time.monotonic() < deadline:
                    self.sock.settimeout(max(0.01, deadline - time.monotonic()))
                    if not self.sock.recv(65536):
                        break
            except OSError:
                pass
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True

    def abort(self):
        """Closes without DISCONNECT, resetting the connection."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close()
