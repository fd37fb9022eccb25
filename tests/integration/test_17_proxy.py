"""PROXY protocol on a listener (listener.proxy_protocol): the address in the
header from a load balancer is the client's address for logs and the
failed-login limiter. Headers are sent by hand on raw sockets (version 1
text, version 2 binary with IPv4, IPv6 and LOCAL) in front of MQTT, TLS and
the WebSocket upgrade, and by a real HAProxy with send-proxy and
send-proxy-v2. Malformed headers close only their connection; a listener
without PROXY protocol takes a header for a malformed MQTT packet.
"""

import os
import shutil
import socket
import ssl
import struct
import subprocess
import time

import pytest

import brokerproc
import certs
import raw
import ws_raw

pytestmark = pytest.mark.strata_only

V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def v1(source, sport, dest="127.0.0.1", dport=1883, proto="TCP4"):
    return ("PROXY %s %s %s %d %d\r\n" % (proto, source, dest, sport, dport)).encode()


def v2_inet(source, sport, dest="127.0.0.1", dport=1883, command=0x21):
    body = socket.inet_aton(source) + socket.inet_aton(dest) + struct.pack("!HH", sport, dport)
    return V2_SIGNATURE + bytes([command, 0x11]) + struct.pack("!H", len(body)) + body


def v2_inet6(source, sport, dest="::1", dport=1883):
    body = (socket.inet_pton(socket.AF_INET6, source) + socket.inet_pton(socket.AF_INET6, dest)
            + struct.pack("!HH", sport, dport))
    return V2_SIGNATURE + bytes([0x21, 0x21]) + struct.pack("!H", len(body)) + body


def v2_local():
    return V2_SIGNATURE + bytes([0x20, 0x00, 0x00, 0x00])


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return certs.make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def pb(tmp_path, pki):
    """A broker with a password file (alice/wonderland), at most 2 failed
    logins per address, and PROXY listeners: v1, v2 (connect timeout 2 s),
    any on TLS and any on WebSocket."""
    pw = str(tmp_path / "passwd")
    strata_passwd = os.path.join(os.path.dirname(brokerproc.strata_bin()), "strata-passwd")
    subprocess.run([strata_passwd, "-c", "-b", pw, "alice", "wonderland"], check=True, timeout=30)
    ports = {k: brokerproc.free_port() for k in ("v1", "v2", "tls", "ws")}
    tls = {"cert_file": pki["server.crt"], "key_file": pki["server.key"]}
    b = brokerproc.Broker(tmp_path, {
        "listener": [
            {"url": "tcp://127.0.0.1:%d" % ports["v1"], "proxy_protocol": "v1"},
            {"url": "tcp://127.0.0.1:%d" % ports["v2"], "proxy_protocol": "v2",
             "limits": {"connect_timeout": 2}},
            dict(url="tls://127.0.0.1:%d" % ports["tls"], proxy_protocol="any", **tls),
            {"url": "ws://127.0.0.1:%d/mqtt" % ports["ws"], "proxy_protocol": "any"},
        ],
        "auth": {"password_file": pw, "max_failed_logins": 2, "failed_login_window": 60},
        "limits": {"connect_timeout": 60},  # the v2 listener's own 2 s is told apart from it
    }, config_listeners=True, log_level="debug")
    b.ports = ports
    b.start()
    yield b
    b.close_clients()
    b.stop()
    assert not b.health_problems(), b.health_problems()


def proxied(b, kind, header, version=raw.V5):
    c = raw.RawClient(b.host, b.ports[kind], version=version)
    b.clients.append(c)
    c.send(header)
    return c


def login(c, password, client_id, expect_rc):
    return c.connect(client_id, username="alice", password=password.encode(), expect_rc=expect_rc)


def test_v1_source_address_is_the_client_everywhere(pb):
    b = pb
    for i in range(2):
        login(proxied(b, "v1", v1("203.0.113.7", 40001 + i)), "guess", "g%d" % i, 0x86)
        assert b.wait_log("203.0.113.7:%d: login refused: user 'alice': wrong password" % (40001 + i))
    assert b.wait_log("blocking logins from 203.0.113.7 for up to 60 s after 2 failures")
    # That address is banned now, even with the right password ...
    login(proxied(b, "v1", v1("203.0.113.7", 40003)), "wonderland", "g-right", 0x8A)
    # ... but not another client behind the same balancer, nor the balancer
    # itself (127.0.0.1) on a listener without PROXY protocol.
    login(proxied(b, "v1", v1("203.0.113.8", 40004)), "wonderland", "other", 0)
    direct = raw.RawClient(b.host, b.port)
    b.clients.append(direct)
    login(direct, "wonderland", "direct", 0)
    assert b.wait_log("203.0.113.8:40004: connected through 127.0.0.1:")
    assert b.wait_log("other: connected from 203.0.113.8:40004")


def test_v2_inet_inet6_and_local(pb):
    b = pb
    login(proxied(b, "v2", v2_inet("198.51.100.20", 50000)), "nope", "v2a", 0x86)
    assert b.wait_log("198.51.100.20:50000: login refused")
    login(proxied(b, "v2", v2_inet6("2001:db8::7", 50001)), "nope", "v2b", 0x86)
    assert b.wait_log("[2001:db8::7]:50001: login refused")
    # LOCAL (the balancer's own health check): the connection's address stands.
    c = proxied(b, "v2", v2_local())
    login(c, "wonderland", "health", 0)
    port = c.sock.getsockname()[1]
    assert b.wait_log("health: connected from 127.0.0.1:%d" % port)
    # The header and CONNECT in one segment, and the header byte by byte.
    c = raw.RawClient(b.host, b.ports["v2"])
    b.clients.append(c)
    c.send(v2_inet("192.0.2.55", 1234) + raw.connect("one-segment", username="alice", password=b"wonderland"))
    assert c.expect(raw.CONNACK).rc == 0
    c = raw.RawClient(b.host, b.ports["v2"])
    b.clients.append(c)
    for byte in v2_inet("192.0.2.56", 1235):
        c.send(bytes([byte]))
        time.sleep(0.005)
    login(c, "wonderland", "byte-by-byte", 0)
    assert b.wait_log("byte-by-byte: connected from 192.0.2.56:1235")
    # A version 1 header on the version 2 listener is refused.
    c = proxied(b, "v2", v1("192.0.2.57", 1236))
    c.try_send(raw.connect("wrong-version"))
    assert c.expect_closed() == []


@pytest.mark.parametrize("bad", [
    b"PROXY TCP4 192.0.2.256 127.0.0.1 1 2\r\n",            # bad address
    b"PROXY TCP4 192.0.2.1 127.0.0.1 99999 1883\r\n",       # bad port
    b"PROXY TCP5 192.0.2.1 127.0.0.1 1 1883\r\n",           # bad protocol
    b"PROXY UNKNOWN " + b"x" * 120 + b"\r\n",               # over 107 bytes
    b"GET / HTTP/1.1\r\n\r\n",                              # not a header
    raw.connect("no-header"),                               # MQTT straight to the PROXY port
], ids=["address", "port", "protocol", "too-long", "http", "mqtt"])
def test_malformed_header_closes_only_that_connection(pb, bad):
    b = pb
    keep = proxied(b, "v1", v1("192.0.2.1", 1000))
    login(keep, "wonderland", "keeper", 0)
    c = proxied(b, "v1", bad)
    c.try_send(raw.connect("after-bad-header"))
    assert c.expect_closed() == []  # no CONNACK: the MQTT layer never saw it
    assert b.wait_log("bad PROXY protocol header, closing")
    keep.subscribe(("still/ok", 0), expect=[0])


def test_oversized_v2_header_refused_before_it_is_read(pb):
    b = pb
    c = proxied(b, "v2", V2_SIGNATURE + bytes([0x21, 0x11]) + struct.pack("!H", 60000))
    assert c.expect_closed() == []
    assert b.wait_log("60000 bytes of addresses and TLVs; at most 2048 are accepted")


def test_unfinished_header_closed_after_the_listener_connect_timeout(pb):
    b = pb
    c = proxied(b, "v2", v2_inet("192.0.2.9", 9)[:10])
    # the v2 listener's own connect_timeout (2 s), not the broker's (60 s)
    assert c.expect_closed(timeout=30) == []
    assert b.wait_log("no CONNECT within the connect timeout")


def test_listener_without_proxy_protocol_sees_a_malformed_packet(pb):
    b = pb
    c = raw.RawClient(b.host, b.port)
    b.clients.append(c)
    c.send(v1("203.0.113.9", 4000) + raw.connect("behind"))
    assert c.expect_closed() == []
    assert b.wait_log("first packet is not CONNECT")
    assert "203.0.113.9" not in b.log


def test_proxy_header_before_tls_and_websocket(pb, pki):
    b = pb
    # TLS: the header in clear text, then the handshake.
    sock = socket.create_connection((b.host, b.ports["tls"]), timeout=5)
    sock.sendall(v2_inet("198.51.100.77", 7777))
    ctx = ssl.create_default_context(cafile=pki["ca.crt"])
    tls = ctx.wrap_socket(sock, server_hostname="127.0.0.1")
    c = raw.RawClient.over(tls)
    b.clients.append(c)
    login(c, "wonderland", "tls-behind", 0)
    assert b.wait_log("tls-behind: connected from 198.51.100.77:7777")
    # WebSocket: the header, then the HTTP upgrade.
    w = ws_raw.WsRawClient(b.host, b.ports["ws"], preamble=v1("198.51.100.78", 7778))
    b.clients.append(w)
    login(w, "wonderland", "ws-behind", 0)
    assert b.wait_log("ws-behind: connected from 198.51.100.78:7778")
    # A bad header on the WebSocket listener: no upgrade answer at all.
    s = socket.create_connection((b.host, b.ports["ws"]), timeout=5)
    s.sendall(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\nGET /mqtt HTTP/1.1\r\n\r\n")
    assert s.recv(100) == b""
    s.close()


# ---------------------------------------------------------------------------
# Through a real HAProxy

@pytest.fixture
def haproxy(tmp_path, pb):
    """HAProxy in TCP mode on two loopback ports: one forwards to the v1
    listener with send-proxy, one to the v2 listener with send-proxy-v2."""
    binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
    assert os.path.exists(binary), "haproxy is not installed (tools/setup.sh installs it)"
    fronts = {"v1": brokerproc.free_port(), "v2": brokerproc.free_port()}
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text("""
global
    maxconn 100
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend via_v1
    bind 127.0.0.1:%(f1)d
    default_backend strata_v1
backend strata_v1
    server s1 127.0.0.1:%(b1)d send-proxy
frontend via_v2
    bind 127.0.0.1:%(f2)d
    default_backend strata_v2
backend strata_v2
    server s2 127.0.0.1:%(b2)d send-proxy-v2
""" % {"f1": fronts["v1"], "b1": pb.ports["v1"], "f2": fronts["v2"], "b2": pb.ports["v2"]})
    log = open(tmp_path / "haproxy.log", "wb")
    proc = subprocess.Popen([binary, "-db", "-f", str(cfg)], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    for port in fronts.values():
        while True:
            assert proc.poll() is None, (tmp_path / "haproxy.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "haproxy did not listen"
                time.sleep(0.05)
    yield fronts
    proc.terminate()
    proc.wait(10)
    log.close()


@pytest.mark.parametrize("kind", ["v1", "v2"])
def test_through_haproxy(pb, haproxy, kind):
    b = pb
    # The client connects from 127.0.0.2: HAProxy's own connection to the
    # broker comes from 127.0.0.1, so only the PROXY header can tell.
    def from_127_0_0_2():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.2", 0))
        s.settimeout(5)
        s.connect(("127.0.0.1", haproxy[kind]))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c = raw.RawClient.over(s)
        b.clients.append(c)
        return c

    sub = from_127_0_0_2()
    login(sub, "wonderland", "sub-" + kind, 0)
    sub_port = sub.sock.getsockname()[1]
    assert b.wait_log("sub-%s: connected from 127.0.0.2:%d" % (kind, sub_port))
    sub.subscribe(("lb/#", 1), expect=[1])
    # A message published directly reaches the subscriber behind HAProxy.
    direct = raw.RawClient(b.host, b.port)
    b.clients.append(direct)
    login(direct, "wonderland", "direct-" + kind, 0)
    direct.publish("lb/t", b"through " + kind.encode(), qos=1)
    m = sub.expect(raw.PUBLISH)
    assert (m.topic, m.payload) == ("lb/t", b"through " + kind.encode())
    # Failed logins from 127.0.0.2 ban 127.0.0.2, not HAProxy's 127.0.0.1.
    for i in range(2):
        login(from_127_0_0_2(), "guess", "bad-%s-%d" % (kind, i), 0x86)
    assert b.wait_log("blocking logins from 127.0.0.2 for up to 60 s after 2 failures")
    login(from_127_0_0_2(), "wonderland", "banned-" + kind, 0x8A)
    again = raw.RawClient(b.host, b.port)
    b.clients.append(again)
    login(again, "wonderland", "direct-again-" + kind, 0)
