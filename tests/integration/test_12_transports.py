"""MQTT over TLS, WebSocket and secure WebSocket (Strata's tls://, ws://,
wss:// listeners) with real clients: mosquitto_pub/sub with --cafile and
client certificates, paho over TLS and websockets, MQTT.js over ws:// and
wss://, and a hand-made WebSocket client for framing details. The
certificates are made per module with the openssl command line (certs.py).
"""

import os
import socket
import ssl
import subprocess
import time

import pytest

import brokerproc
import certs
import pahoc
import raw
import ws_raw
from extclients import MosquittoSub, MqttJs, b64

pytestmark = pytest.mark.strata_only


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return certs.make_pki(tmp_path_factory.mktemp("pki"))


class Endpoint:
    """host/port of one listener, usable where the helpers take a broker."""

    def __init__(self, broker, port):
        self.host, self.port, self.clients = broker.host, port, broker.clients


class SecureBroker(brokerproc.Broker):
    """A broker with a TCP listener (self.port) and tls/tls-required/ws/wss."""

    def __init__(self, workdir, pki, extra=None, limits=None):
        self.ports = {k: brokerproc.free_port() for k in ("tls", "mtls", "ws", "wss", "expired")}
        tls = {"cert_file": pki["server.crt"], "key_file": pki["server.key"]}
        p = self.ports
        listeners = [
            dict(url="tls://127.0.0.1:%d" % p["tls"], ca_file=pki["ca.crt"], client_certs="optional",
                 cert_username="cn", **tls),
            dict(url="tls://127.0.0.1:%d" % p["mtls"], ca_file=pki["ca.crt"], client_certs="required", **tls),
            dict(url="ws://127.0.0.1:%d/mqtt" % p["ws"]),
            dict(url="wss://127.0.0.1:%d/mqtt" % p["wss"], **tls),
            dict(url="tls://127.0.0.1:%d" % p["expired"], cert_file=pki["expired.crt"], key_file=pki["server.key"]),
        ]
        config = {"listener": listeners}
        if limits:
            config["limits"] = limits
        config.update(extra or {})
        super().__init__(workdir, config, config_listeners=True)

    def start(self, timeout=10.0):
        # The TCP port answers first; wait for every listener of the config.
        super().start(timeout)
        deadline = time.monotonic() + timeout
        for listener in self.config["listener"]:
            port = int(listener["url"].split(":")[2].split("/")[0])
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)
        return self

    def at(self, kind):
        return Endpoint(self, self.ports[kind])


@pytest.fixture
def sb(tmp_path, pki):
    brokers = []

    def make(**kw):
        b = SecureBroker(tmp_path / ("b%d" % len(brokers)), pki, **kw)
        os.makedirs(b.workdir, exist_ok=True)
        brokers.append(b)
        return b.start()

    yield make
    problems = []
    for b in brokers:
        b.close_clients()
        try:
            b.stop()
        except brokerproc.BrokerError as e:
            problems.append(str(e))
        problems += b.health_problems()
    if problems:
        pytest.fail("broker problems:\n  " + "\n  ".join(problems) + "\n" + brokers[-1].log_tail(60), pytrace=False)


def tls_args(pki, ca="ca.crt", cert=None):
    args = ["--cafile", pki[ca]]
    if cert:
        args += ["--cert", pki[cert + ".crt"], "--key", pki[cert + ".key"]]
    return args


def pub(endpoint, topic, message, extra=(), qos=1):
    argv = ["mosquitto_pub", "-h", endpoint.host, "-p", str(endpoint.port), "-V", "mqttv311",
            "-t", topic, "-m", message, "-q", str(qos)] + list(extra)
    return subprocess.run(argv, capture_output=True, timeout=15)


def client_ssl(pki, cert=None):
    ctx = ssl.create_default_context(cafile=pki["ca.crt"])
    if cert:
        ctx.load_cert_chain(pki[cert + ".crt"], pki[cert + ".key"])
    return ctx


# ---------------------------------------------------------------------------
# TLS

def test_tls_mosquitto_with_cafile(sb, pki):
    b = sb()
    sub = MosquittoSub(b.at("tls"), "plant/#", qos=1, extra=tls_args(pki))
    sub.wait_subscribed()
    r = pub(b.at("tls"), "plant/a", "over tls", tls_args(pki))
    assert r.returncode == 0, r.stderr
    assert sub.message() == b"plant/a|1|0|over tls"
    # TLS and TCP clients share one broker: TCP publish reaches the TLS subscriber.
    r = pub(Endpoint(b, b.port), "plant/b", "over tcp")
    assert r.returncode == 0, r.stderr
    assert sub.message() == b"plant/b|1|0|over tcp"


def test_tls_client_certificates(sb, pki):
    b = sb()
    mtls = b.at("mtls")
    # required: no certificate, or one from another CA, fails the handshake
    assert pub(mtls, "t", "x", tls_args(pki)).returncode != 0
    assert pub(mtls, "t", "x", tls_args(pki, cert="rogue")).returncode != 0
    assert pub(mtls, "t", "x", tls_args(pki, cert="alice")).returncode == 0
    # optional: with or without, but not a rogue one
    assert pub(b.at("tls"), "t", "x", tls_args(pki)).returncode == 0
    assert pub(b.at("tls"), "t", "x", tls_args(pki, cert="alice")).returncode == 0
    assert pub(b.at("tls"), "t", "x", tls_args(pki, cert="rogue")).returncode != 0
    assert b.wait_log("TLS handshake failed")


def test_tls_wrong_ca_and_expired_certificate_rejected(sb, pki):
    b = sb()
    r = pub(b.at("tls"), "t", "x", tls_args(pki, ca="other-ca.crt"))
    assert r.returncode != 0
    r = pub(b.at("expired"), "t", "x", tls_args(pki))
    assert r.returncode != 0
    # mosquitto_pub only says "A TLS error occurred"; Python's ssl says why
    with pytest.raises(ssl.SSLCertVerificationError) as e:
        with socket.create_connection(("127.0.0.1", b.ports["expired"]), timeout=5) as s:
            client_ssl(pki).wrap_socket(s, server_hostname="127.0.0.1")
    assert "expired" in str(e.value)
    wrong = ssl.create_default_context(cafile=pki["other-ca.crt"])
    with pytest.raises(ssl.SSLCertVerificationError) as e:
        with socket.create_connection(("127.0.0.1", b.ports["tls"]), timeout=5) as s:
            wrong.wrap_socket(s, server_hostname="127.0.0.1")
    assert "certificate verify failed" in str(e.value)


def test_plain_mqtt_on_tls_port_gets_no_connack(sb, pki):
    b = sb()
    c = raw.RawClient("127.0.0.1", b.ports["tls"])
    b.clients.append(c)
    c.send(raw.connect("plain"))
    # The broker answers with at most a TLS alert record and closes; never
    # an MQTT CONNACK.
    deadline = time.monotonic() + 5
    data = b""
    c.sock.settimeout(5)
    while time.monotonic() < deadline:
        chunk = c.sock.recv(4096)
        if not chunk:
            break
        data += chunk
    else:
        raise AssertionError("connection still open")
    assert not data.startswith(b"\x20"), data
    assert data == b"" or data[0] == 0x15, data  # TLS alert content type
    # the broker keeps serving
    assert pub(b.at("tls"), "t", "x", tls_args(pki)).returncode == 0


def test_paho_over_tls_with_client_certificate(sb, pki):
    b = sb()
    c = pahoc.PahoClient("127.0.0.1", b.ports["mtls"], "paho-tls")
    b.clients.append(c)
    c.client.tls_set(ca_certs=pki["ca.crt"], certfile=pki["alice.crt"], keyfile=pki["alice.key"])
    c.connect()
    c.subscribe("paho/t", qos=1)
    c.publish("paho/t", b"round trip", qos=1)
    m = c.wait_message()
    assert (m.topic, m.payload, m.qos) == ("paho/t", b"round trip", 1)


def test_tls_handshake_counts_against_connect_timeout(sb, pki):
    b = sb(limits={"connect_timeout": 1})
    socks = []
    for kind in ("tls", "wss", "ws"):
        s = socket.create_connection(("127.0.0.1", b.ports[kind]), timeout=5)
        socks.append(s)
    # half a TLS ClientHello / half an HTTP request: slowloris
    socks[1].sendall(b"\x16\x03\x01\x00")
    socks[2].sendall(b"GET /mqtt HTTP/1.1\r\nHost: x\r\n")
    for s in socks:
        # closed by the broker (recv returns b""); our timeout would raise
        s.settimeout(30)
        try:
            while s.recv(4096):
                pass
        except ConnectionResetError:
            pass
        s.close()


def test_certificate_reload_on_sighup(sb, pki, tmp_path):
    # The listener's files are copies; SIGHUP after replacing them with the
    # expired certificate makes new handshakes fail, the open connection stays.
    import shutil
    import signal
    crt = str(tmp_path / "live.crt")
    shutil.copy(pki["server.crt"], crt)
    p = brokerproc.free_port()
    b = sb(extra={})
    b.stop()
    b.config["listener"].append(dict(url="tls://127.0.0.1:%d" % p, cert_file=crt, key_file=pki["server.key"]))
    b.start()
    ep = Endpoint(b, p)
    keep = pahoc.PahoClient("127.0.0.1", p, "kept")
    b.clients.append(keep)
    keep.client.tls_set(ca_certs=pki["ca.crt"])
    keep.connect()
    keep.subscribe("r/t", qos=1)
    shutil.copy(pki["expired.crt"], crt)
    b.proc.send_signal(signal.SIGHUP)
    assert b.wait_log("listener tls://127.0.0.1:%d: certificates reloaded" % p)
    assert pub(ep, "r/t", "after", tls_args(pki)).returncode != 0
    assert pub(Endpoint(b, b.port), "r/t", "still here").returncode == 0
    assert keep.wait_message().payload == b"still here"
    # a broken file: the reload fails, the running certificate stays
    with open(crt, "w") as f:
        f.write("not a certificate\n")
    b.proc.send_signal(signal.SIGHUP)
    assert b.wait_log("keeping the running certificates: listener tls://127.0.0.1:%d: cannot load cert_file" % p)
    with pytest.raises(ssl.SSLCertVerificationError):
        with socket.create_connection(("127.0.0.1", p), timeout=5) as s:
            client_ssl(pki).wrap_socket(s, server_hostname="127.0.0.1")


# ---------------------------------------------------------------------------
# WebSocket

@pytest.mark.parametrize("scheme", ["ws", "wss"])
def test_mqttjs_over_websocket(sb, pki, scheme, monkeypatch):
    b = sb()
    monkeypatch.setenv("NODE_EXTRA_CA_CERTS", pki["ca.crt"])
    url = "%s://127.0.0.1:%d/mqtt" % (scheme, b.ports[scheme])
    tcp_sub = b.raw_connect("tcp-sub")
    tcp_sub.subscribe(("js/#", 1), expect=[1])
    js = MqttJs(b, {"url": url, "protocolVersion": 5, "clientId": "js-" + scheme,
                    "subscribe": [{"topic": "js/back", "qos": 1}],
                    "publish": [{"topic": "js/out", "payload_b64": b64(b"from " + scheme.encode()), "qos": 1}],
                    "expect": 1, "timeoutMs": 8000})
    events = js.until("published", timeout=10)
    assert events[0]["event"] == "connack" and events[0]["reasonCode"] == 0
    m = tcp_sub.expect(raw.PUBLISH)
    assert (m.topic, m.payload) == ("js/out", b"from " + scheme.encode())
    tcp_sub.send(raw.puback(m.pid))
    tcp_sub.publish("js/back", b"to " + scheme.encode(), qos=1)
    events = js.until("done", timeout=10)
    msgs = [e for e in events if e["event"] == "message"]
    assert len(msgs) == 1 and msgs[0]["topic"] == "js/back"


def test_paho_over_websockets(sb, pki):
    b = sb()
    for kind in ("ws", "wss"):
        c = pahoc.PahoClient("127.0.0.1", b.ports[kind], "paho-" + kind, transport="websockets")
        b.clients.append(c)
        cb = c.client
        cb.ws_set_options(path="/mqtt")
        if kind == "wss":
            cb.tls_set(ca_certs=pki["ca.crt"])
        c.connect()
        c.subscribe("pw/" + kind, qos=2)
        c.publish("pw/" + kind, b"paho " + kind.encode(), qos=2)
        m = c.wait_message()
        assert (m.topic, m.payload, m.qos) == ("pw/" + kind, b"paho " + kind.encode(), 2)


def ws_client(b, kind="ws", pki=None, **kw):
    ctx = client_ssl(pki) if kind == "wss" else None
    c = ws_raw.WsRawClient("127.0.0.1", b.ports[kind], ssl_context=ctx, **kw)
    b.clients.append(c)
    return c


@pytest.mark.parametrize("kind", ["ws", "wss"])
def test_packets_split_across_frames_and_many_per_frame(sb, pki, kind):
    b = sb()
    c = ws_client(b, kind, pki)
    assert c.headers.get("sec-websocket-protocol") == "mqtt"
    # CONNECT one byte per frame, as separate messages
    c.send_frames(raw.connect("split"), [1])
    assert c.expect(raw.CONNACK).rc == 0
    # SUBSCRIBE as one fragmented message of 3-byte continuation frames
    c.send_frames(raw.subscribe(1, [("f/t", 1)]), [3], fragmented=True)
    assert c.expect(raw.SUBACK).rcs == [1]
    # three packets in one frame: two PUBLISH and a PINGREQ
    c.send(raw.publish("f/t", b"one", qos=1, pid=7) + raw.publish("f/t", b"two") + raw.pingreq())
    got = [c.recv() for _ in range(4)]
    types = sorted(p.type for p in got)
    assert types == sorted([raw.PUBACK, raw.PUBLISH, raw.PUBLISH, raw.PINGRESP])
    payloads = [p.payload for p in got if p.type == raw.PUBLISH]
    assert payloads == [b"one", b"two"]
    # a 100 kB publish spread over 7-byte ... 64 kB frames arrives whole at a TCP subscriber
    tcp = b.raw_connect("tcp-side")
    tcp.subscribe(("f/big", 0), expect=[0])
    big = os.urandom(100_000)
    c.send_frames(raw.publish("f/big", big), [7, 65536, 1000])
    m = tcp.expect(raw.PUBLISH)
    assert m.payload == big
    # WebSocket ping is answered with a pong carrying the same data
    c.send_raw_frame(ws_raw.OP_PING, b"hb")
    c.send(raw.pingreq())
    assert c.expect(raw.PINGRESP)
    assert c.pongs == [b"hb"]


def test_websocket_close_frame_and_text_frame(sb, pki):
    b = sb()
    c = ws_client(b)
    c.connect("closer")
    c.send_raw_frame(ws_raw.OP_CLOSE, b"\x03\xe8")
    c.expect_closed()
    assert c.close_frame[:2] == b"\x03\xe8"  # the broker echoes the close (RFC 6455 5.5.1)
    t = ws_client(b)
    t.connect("texter")
    t.send_raw_frame(ws_raw.OP_TEXT, b"hello")
    t.expect_closed()
    assert b.wait_log("text frame")


def test_websocket_upgrade_checks(sb):
    b = sb()
    with pytest.raises(ws_raw.Refused) as e:
        ws_client(b, path="/other")
    assert e.value.status == 404
    with pytest.raises(ws_raw.Refused) as e:
        ws_client(b, protocols="chat, superchat")
    assert e.value.status == 400
    # the old MQTT 3.1 name is accepted and echoed; no subprotocol at all is accepted too
    c = ws_client(b, protocols="chat, mqttv3.1")
    assert c.headers.get("sec-websocket-protocol") == "mqttv3.1"
    c.connect("old-name")
    d = ws_client(b, protocols=None)
    assert "sec-websocket-protocol" not in d.headers
    d.connect("no-proto")
    # malformed MQTT over WebSocket closes only that connection
    d.send(b"\x30\xff\xff\xff\xff\x7f")
    d.expect_closed(allow=(raw.DISCONNECT,))
    c.subscribe(("still/ok", 0), expect=[0])


# ---------------------------------------------------------------------------
# Server-initiated close: TLS close_notify, WebSocket close frame

def tls_read_to_close(sock, timeout=5.0):
    """Reads until the TLS connection ends; returns (bytes, clean) where clean
    means the broker sent close_notify before closing TCP."""
    data = b""
    sock.settimeout(timeout)
    while True:
        try:
            chunk = sock.recv(4096)
        except ssl.SSLEOFError:
            return data, False
        except (ConnectionResetError, BrokenPipeError):
            return data, False
        if not chunk:
            return data, True
        data += chunk


@pytest.mark.parametrize("how", ["client DISCONNECT", "malformed packet", "shutdown"])
def test_tls_close_notify_when_the_broker_closes(sb, pki, how):
    b = sb()
    ctx = client_ssl(pki)
    # Python ignores an EOF without close_notify by default; this test is about it.
    ctx.options &= ~getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
    sock = ctx.wrap_socket(socket.create_connection((b.host, b.ports["tls"]), timeout=5),
                           server_hostname="127.0.0.1", suppress_ragged_eofs=False)
    sock.sendall(raw.connect("tls-closer"))
    c = raw.RawClient.over(sock)
    assert c.expect(raw.CONNACK).rc == 0
    rc = None
    if how == "client DISCONNECT":
        sock.sendall(raw.disconnect())
    elif how == "malformed packet":
        sock.sendall(b"\x30\xff\xff\xff\xff\x7f")
        rc = 0x81  # DISCONNECT, malformed packet
    else:
        b.stop()
        rc = 0x8B  # DISCONNECT, server shutting down
    data, clean = tls_read_to_close(sock)
    if rc is None:
        assert data == b""
    else:
        assert (data[0], data[2]) == (0xE0, rc), data.hex()
    assert clean, "the broker closed TCP without TLS close_notify"
    sock.close()


@pytest.mark.parametrize("kind", ["ws", "wss"])
def test_websocket_close_frame_when_the_broker_closes(sb, pki, kind):
    b = sb()
    # client DISCONNECT: 1000 normal closure
    c = ws_client(b, kind, pki)
    c.connect("ws-bye")
    c.send(raw.disconnect())
    assert c.expect_closed() == []
    assert c.close_frame == b"\x03\xe8"
    # malformed packet: DISCONNECT 0x81, then 1002 protocol error
    c = ws_client(b, kind, pki)
    c.connect("ws-bad")
    c.send(b"\x30\xff\xff\xff\xff\x7f")
    assert [p.rc for p in c.expect_closed(allow=(raw.DISCONNECT,))] == [0x81]
    assert c.close_frame == b"\x03\xea"
    # a refused CONNECT (client id over max_client_id_length): CONNACK 0x85,
    # then 1008 policy violation
    c = ws_client(b, kind, pki)
    c.connect("x" * 300, expect_rc=0x85)
    assert c.expect_closed() == []
    assert c.close_frame == b"\x03\xf0"
    # a first packet that is not CONNECT: 1002
    c = ws_client(b, kind, pki)
    c.send(raw.pingreq())
    assert c.expect_closed() == []
    assert c.close_frame == b"\x03\xea"
    # shutdown: DISCONNECT 0x8B, then 1001 going away
    c = ws_client(b, kind, pki)
    c.connect("ws-shutdown")
    b.stop()
    assert [p.rc for p in c.expect_closed(allow=(raw.DISCONNECT,))] == [0x8B]
    assert c.close_frame == b"\x03\xe9"


# ---------------------------------------------------------------------------
# TLS settings: minimum version, ciphers, SAN as username

def tls_mqtt(port, ctx, client_id):
    """A raw MQTT 5 client over TLS; returns (client, negotiated version, cipher)."""
    sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5),
                           server_hostname="127.0.0.1")
    c = raw.RawClient.over(sock)
    return c, sock.version(), sock.cipher()[0]


def test_tls_min_version_ciphers_and_san_username(sb, pki, tmp_path):
    ports = {k: brokerproc.free_port() for k in ("tls13", "cipher", "san")}
    tls = {"cert_file": pki["server.crt"], "key_file": pki["server.key"]}
    acl = tmp_path / "acl"
    acl.write_text("allow readwrite devices/%u/#\n")
    b = sb(extra={"auth": {"acl_file": str(acl)}})
    b.stop()
    b.config["listener"] += [
        dict(url="tls://127.0.0.1:%d" % ports["tls13"], tls_min_version="1.3", **tls),
        dict(url="tls://127.0.0.1:%d" % ports["cipher"], ciphers="ECDHE-ECDSA-AES128-GCM-SHA256", **tls),
        dict(url="tls://127.0.0.1:%d" % ports["san"], ca_file=pki["ca.crt"], client_certs="required",
             cert_username="san", allow_anonymous=False, **tls),
    ]
    b.ports.update(ports)
    b.start()

    # tls_min_version 1.3: a TLS 1.2-only client fails the handshake; 1.3 works.
    old = client_ssl(pki)
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises(ssl.SSLError):
        tls_mqtt(ports["tls13"], old, "old")
    c, version, _ = tls_mqtt(ports["tls13"], client_ssl(pki), "new")
    b.clients.append(c)
    assert version == "TLSv1.3"
    c.connect("tls13")
    # ciphers (TLS 1.2): only the configured suite is negotiated
    tls12 = client_ssl(pki)
    tls12.maximum_version = ssl.TLSVersion.TLSv1_2
    c, version, cipher = tls_mqtt(ports["cipher"], tls12, "c12")
    b.clients.append(c)
    assert (version, cipher) == ("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256")
    c.connect("cipher")
    other = client_ssl(pki)
    other.maximum_version = ssl.TLSVersion.TLSv1_2
    other.set_ciphers("ECDHE-ECDSA-AES256-GCM-SHA384")
    with pytest.raises(ssl.SSLError):
        tls_mqtt(ports["cipher"], other, "c256")
    # cert_username san: alice's certificate has SAN DNS:device-7, which is
    # the username the ACL sees
    c, _, _ = tls_mqtt(ports["san"], client_ssl(pki, "alice"), "san")
    b.clients.append(c)
    c.connect("san-client")
    c.subscribe([("devices/device-7/#", 1), ("devices/alice/#", 1)], expect=[1, 0x87])
