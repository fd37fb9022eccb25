"""MQTT 5 enhanced authentication (spec 4.12) with SCRAM-SHA-256 (RFC 5802,
RFC 7677): the AUTH exchange before CONNACK, re-authentication, the reason
codes of every refusal, the failed-login limiter, ACLs after a SCRAM login,
and the credentials strata-passwd writes.

The client side of SCRAM is written here with Python's hashlib and hmac
(independent of the broker's C++), over raw packets (raw.py), so every AUTH
and CONNACK is checked byte for byte; and once more with MQTT.js carrying
the AUTH packets (its handleAuth hook, SCRAM from Node's crypto).
paho-mqtt 1.6 cannot send AUTH packets, so it cannot drive the exchange.
"""

import base64
import hashlib
import hmac
import os
import signal
import subprocess

import pytest

import brokerproc
import raw
from extclients import MqttJs, b64
from scram_client import Scram

pytestmark = pytest.mark.strata_only

METHOD = "SCRAM-SHA-256"


def passwd(*args):
    exe = os.path.join(os.path.dirname(brokerproc.strata_bin()), "strata-passwd")
    return subprocess.run([exe] + list(args), capture_output=True, text=True, timeout=30)


def auth_props(data=None, method=METHOD):
    props = [("authentication_method", method)]
    if data is not None:
        props.append(("authentication_data", data))
    return props


def expect_auth(c, rc):
    """The next packet is AUTH with reason `rc`, the method and data; returns the data."""
    p = c.expect(raw.AUTH)
    assert p.rc == rc, p
    assert p.props.names() == ["authentication_method", "authentication_data"], p
    assert p.props.get("authentication_method") == METHOD
    return p.props.get("authentication_data")


def start(b, scram, client_id="s", username=None, version_props=()):
    """CONNECT with client-first; returns (client, server-first)."""
    c = raw.RawClient(b.host, b.port)
    b.clients.append(c)
    kw = {} if username is None else {"username": username}
    c.send(raw.connect(client_id, props=auth_props(scram.client_first()) + list(version_props), **kw))
    return c, expect_auth(c, 0x18)


def scram_login(b, user, password, client_id="s"):
    """A whole SCRAM login; returns the connected client and its CONNACK."""
    scram = Scram(user, password)
    c, server_first = start(b, scram, client_id)
    c.send(raw.auth(0x18, auth_props(scram.client_final(server_first))))
    ack = c.expect(raw.CONNACK)
    assert ack.rc == 0, ack
    assert ack.props.get("authentication_method") == METHOD
    assert ack.props.get("authentication_data") == scram.server_final()
    return c, ack


def refused(c, rc):
    """CONNACK with failure `rc`, no authentication data, then the close."""
    ack = c.expect(raw.CONNACK)
    assert ack.rc == rc, ack
    assert "authentication_data" not in ack.props
    c.expect_closed()
    return ack


ACL = """\
allow readwrite home/%u/#
user alice
allow readwrite plant/#
allow read home/#
"""


@pytest.fixture
def scram_broker(tmp_path):
    """alice/wonderland and bob/builder with SCRAM credentials, "legacy"
    written in the one-field format of files from before SCRAM support."""
    pw = str(tmp_path / "passwd")
    acl = str(tmp_path / "acl")
    assert passwd("-c", "-b", pw, "alice", "wonderland").returncode == 0
    assert passwd("-b", pw, "bob", "builder").returncode == 0
    assert passwd("-b", pw, "legacy", "old-times").returncode == 0
    lines = open(pw).read().splitlines()
    with open(pw, "w") as f:
        for line in lines:
            user, pbkdf2, scram = line.split(":")
            f.write("%s:%s\n" % (user, pbkdf2) if user == "legacy" else line + "\n")
    with open(acl, "w") as f:
        f.write(ACL)
    b = brokerproc.Broker(tmp_path, {
        "auth": {"password_file": pw, "acl_file": acl, "max_failed_logins": 20, "failed_login_window": 60},
    })
    b.pw = pw
    b.start()
    yield b
    b.close_clients()
    b.stop()
    assert not b.health_problems(), b.health_problems()


def test_strata_passwd_writes_scram_credentials(tmp_path):
    pw = str(tmp_path / "pw")
    assert passwd("-c", "-b", pw, "alice", "wonderland").returncode == 0
    assert passwd("-b", "-s", "5000", pw, "bob", "builder").returncode == 0
    r = passwd("-b", "-s", "4095", pw, "carol", "x")
    assert r.returncode == 2 and "-s takes a number in 4096..10000000" in r.stderr
    entries = {}
    for line in open(pw).read().splitlines():
        user, pbkdf2, scram = line.split(":")
        assert pbkdf2.startswith("$pbkdf2-sha512$10000$")
        entries[user] = scram.split("$")
    assert sorted(entries) == ["alice", "bob"]
    password = {"alice": "wonderland", "bob": "builder"}
    for user, (empty, scheme, iterations, salt, stored, server) in entries.items():
        assert (empty, scheme) == ("", "scram-sha-256")
        assert iterations == ("4096" if user == "alice" else "5000")
        assert len(base64.b64decode(salt)) == 16
        # The keys are RFC 5802's, from the password (computed here independently).
        salted = hashlib.pbkdf2_hmac("sha256", password[user].encode(), base64.b64decode(salt), int(iterations))
        client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
        assert base64.b64decode(stored) == hashlib.sha256(client_key).digest()
        assert base64.b64decode(server) == hmac.new(salted, b"Server Key", hashlib.sha256).digest()


def test_scram_login(scram_broker):
    b = scram_broker
    scram = Scram("alice", "wonderland")
    c, server_first = start(b, scram)
    # server-first: our nonce plus 24 characters of the broker's, alice's
    # salt and iterations from the password file.
    f = scram.server_first_fields(server_first)
    assert f["r"].startswith(scram.nonce) and len(f["r"]) == len(scram.nonce) + 24
    scram_field = [l for l in open(b.pw).read().splitlines() if l.startswith("alice:")][0].split(":")[2]
    assert (f["s"], f["i"]) == (scram_field.split("$")[3], "4096")
    c.send(raw.auth(0x18, auth_props(scram.client_final(server_first))))
    ack = c.expect(raw.CONNACK)
    assert (ack.rc, ack.session_present) == (0, False)
    # The broker proved it knows alice's ServerKey.
    assert ack.props.get("authentication_method") == METHOD
    assert ack.props.get("authentication_data") == scram.server_final()
    # The session works, and alice's ACL applies: plant/# and home/alice/#.
    c.subscribe([("plant/#", 1), ("home/alice/#", 1), ("secret/#", 1)], expect=[1, 1, 0x87])
    c.send(raw.publish("plant/a", b"1", qos=1, pid=1))
    got = sorted((p.type, p.pid) for p in (c.recv(), c.recv()))  # PUBACK and our PUBLISH, either order
    assert got == [(raw.PUBLISH, 1), (raw.PUBACK, 1)]
    c.send(raw.puback(1))
    assert c.publish("secret/a", b"1", qos=1, pid=2).rc == 0x87


def test_scram_exchange_exact_bytes(scram_broker):
    """The broker's AUTH 0x18 and the authentication properties of CONNACK,
    byte for byte."""
    b = scram_broker
    scram = Scram("bob", "builder", nonce="fyko+d2lbbFgONRv9qkxdawL")
    c = b.raw()
    c.send(raw.connect("bytes", props=auth_props(scram.client_first())))
    p = c.expect(raw.AUTH)
    server_first = p.props.get("authentication_data")
    # r= our 24-character nonce + 24 of the broker's, s= 16 bytes, i=4096
    assert len(server_first) == 2 + 48 + 3 + 24 + 7
    props = (b"\x15\x00\x0d" + b"SCRAM-SHA-256" +           # authentication method
             b"\x16\x00" + bytes([len(server_first)]) + server_first)  # authentication data
    body = b"\x18" + bytes([len(props)]) + props           # reason 0x18, property length
    assert p.raw == b"\xf0" + bytes([len(body)]) + body   # fixed header: AUTH, remaining length
    c.send(raw.auth(0x18, auth_props(scram.client_final(server_first))))
    ack = c.expect(raw.CONNACK)
    assert ack.raw[:4] == b"\x20" + bytes([len(ack.raw) - 2]) + b"\x00\x00"  # CONNACK, no session, success
    final = scram.server_final()
    tail = b"\x15\x00\x0dSCRAM-SHA-256\x16\x00" + bytes([len(final)]) + final
    assert tail in ack.raw


def test_wrong_password_unknown_user_and_user_without_scram(scram_broker):
    b = scram_broker
    for user, password, why in (("alice", "Wonderland", "user 'alice': wrong password"),
                                ("carol", "anything", "user 'carol': unknown user"),
                                ("legacy", "old-times", "user 'legacy': no SCRAM-SHA-256 credentials")):
        scram = Scram(user, password)
        c, server_first = start(b, scram, client_id="c-" + user)
        c.send(raw.auth(0x18, auth_props(scram.client_final(server_first))))
        ack = refused(c, 0x86)
        assert ack.props.get("reason_string") == "bad user name or password"
        assert b.wait_log("SCRAM-SHA-256: " + why)
    # The user without SCRAM credentials still logs in with its password.
    c = b.raw()
    c.connect("legacy-plain", username="legacy", password=b"old-times")


def test_unknown_user_server_first_looks_like_a_known_one(scram_broker):
    b = scram_broker
    firsts = []
    for user in ("nobody", "nobody", "alice"):
        scram = Scram(user, "x", nonce="abc")
        c, server_first = start(b, scram, client_id="probe")
        firsts.append(scram.server_first_fields(server_first))
        c.close()
    assert firsts[0]["s"] == firsts[1]["s"]  # the same decoy salt on each attempt
    assert len(base64.b64decode(firsts[0]["s"])) == len(base64.b64decode(firsts[2]["s"])) == 16
    assert firsts[0]["i"] == firsts[2]["i"] == "4096"


def test_unknown_method(scram_broker):
    b = scram_broker
    c = b.raw()
    c.send(raw.connect("m", props=auth_props(b"n,,n=alice,r=abc", method="SCRAM-SHA-1")))
    ack = refused(c, 0x8C)
    assert ack.props.get("reason_string") == "authentication method 'SCRAM-SHA-1' not supported"
    # 3.1.1 clients and plain v5 logins are unaffected.
    c = b.raw(version=raw.V311)
    c.connect("old", username="alice", password=b"wonderland")
    c = b.raw()
    c.connect("plain", username="alice", password=b"wonderland")


@pytest.mark.broker_config(auth={"methods": []})
def test_no_methods_enabled(broker):
    c = broker.raw()
    c.send(raw.connect("m", props=auth_props(b"n,,n=alice,r=abc")))
    refused(c, 0x8C)


def test_auth_without_method(scram_broker):
    b = scram_broker
    # Connected without a method: any AUTH is a protocol error.
    c = b.raw()
    c.connect("plain", username="alice", password=b"wonderland")
    c.send(raw.auth(0x19, auth_props(b"n,,n=alice,r=abc")))
    c.expect_disconnect(0x82)
    c = b.raw()
    c.connect("plain2")
    c.send(raw.auth(0x18))
    c.expect_disconnect(0x82)
    # During the exchange: AUTH without any property, with data but no
    # method (the codec's protocol error), or with another method.
    for props in ([], [("authentication_data", b"x")], auth_props(b"x", method="PLAIN")):
        scram = Scram("alice", "wonderland")
        c, server_first = start(b, scram)
        c.send(raw.auth(0x18, props))
        refused(c, 0x82)


def test_protocol_errors_during_the_exchange(scram_broker):
    b = scram_broker
    # Only AUTH or DISCONNECT before CONNACK.
    c, _ = start(b, Scram("alice", "wonderland"))
    c.send(raw.pingreq())
    refused(c, 0x82)
    # Re-authenticate (0x19) before CONNACK, and success (0x00) from a client.
    for rc in (0x19, 0x00):
        scram = Scram("alice", "wonderland")
        c, server_first = start(b, scram)
        c.send(raw.auth(rc, auth_props(scram.client_final(server_first))))
        refused(c, 0x82)
    # DISCONNECT abandons the exchange quietly.
    c, _ = start(b, Scram("alice", "wonderland"))
    c.send(raw.disconnect(0))
    assert c.expect_closed() == []


def test_malformed_scram_messages(scram_broker):
    b = scram_broker
    # client-first that is not SCRAM: refused at once.
    for data in (b"", b"hello", b"p=tls-unique,,n=alice,r=abc", b"n,a=bob,n=alice,r=abc"):
        c = b.raw()
        c.send(raw.connect("m", props=auth_props(data)))
        refused(c, 0x87)
    # client-final that is not SCRAM, or with another nonce.
    for bad in (lambda good: b"garbage",
                lambda good: good.replace(b"c=biws", b"c=eSws"),
                lambda good: good.split(b",p=")[0],
                lambda good: good.replace(b",r=", b",r=x")):
        scram = Scram("alice", "wonderland")
        c, server_first = start(b, scram)
        c.send(raw.auth(0x18, auth_props(bad(scram.client_final(server_first)))))
        refused(c, 0x87)
    assert b.wait_log("SCRAM-SHA-256: client-final nonce differs")
    # The broker is fine: a good login goes through.
    scram_login(b, "alice", "wonderland")


def test_connect_username_must_match(scram_broker):
    b = scram_broker
    scram = Scram("alice", "wonderland")
    c, server_first = start(b, scram, username="bob")
    c.send(raw.auth(0x18, auth_props(scram.client_final(server_first))))
    refused(c, 0x87)
    assert b.wait_log("authenticated as 'alice', not as 'bob'")
    # the same name in both is fine
    scram = Scram("alice", "wonderland")
    c, server_first = start(b, scram, client_id="same", username="alice")
    c.send(raw.auth(0x18, auth_props(scram.client_final(server_first))))
    assert c.expect(raw.CONNACK).rc == 0


def test_stalled_exchange_is_closed_by_the_connect_timeout(tmp_path):
    pw = str(tmp_path / "passwd")
    assert passwd("-c", "-b", pw, "alice", "wonderland").returncode == 0
    b = brokerproc.Broker(tmp_path, {"auth": {"password_file": pw}, "limits": {"connect_timeout": 1}})
    b.start()
    try:
        c, _ = start(b, Scram("alice", "wonderland"))
        # The close must come; the bound is generous (connect_timeout is 1 s).
        assert c.expect_closed(timeout=30) == []
        assert b.wait_log("enhanced authentication not finished within the connect timeout")
    finally:
        b.close_clients()
        b.stop()
    assert not b.health_problems()


def reauth(c, user, password):
    """AUTH 0x19 with client-first; returns (scram, server-first)."""
    scram = Scram(user, password)
    c.send(raw.auth(0x19, auth_props(scram.client_first())))
    return scram, expect_auth(c, 0x18)


def test_reauthentication(scram_broker):
    b = scram_broker
    c, _ = scram_login(b, "alice", "wonderland")
    c.subscribe([("plant/#", 1)], expect=[1])
    for round_ in range(2):
        scram, server_first = reauth(c, "alice", "wonderland")
        # Other packets keep flowing during re-authentication.
        assert c.publish("plant/r", b"%d" % round_, qos=1, pid=10 + round_).rc == 0
        m = c.expect(raw.PUBLISH)
        assert m.payload == b"%d" % round_
        c.send(raw.puback(m.pid))
        c.send(raw.auth(0x18, auth_props(scram.client_final(server_first))))
        assert expect_auth(c, 0x00) == scram.server_final()
    assert b.wait_log("s: re-authenticated as 'alice' (SCRAM-SHA-256)")
    c.ping()


def test_reauthentication_failures(scram_broker):
    b = scram_broker
    # A wrong password: DISCONNECT 0x87 (DISCONNECT has no 0x86).
    c, _ = scram_login(b, "alice", "wonderland", client_id="r1")
    scram, server_first = reauth(c, "alice", "wrong")
    c.send(raw.auth(0x18, auth_props(scram.client_final(server_first))))
    d = c.expect_disconnect(0x87)
    assert d.props.get("reason_string") == "re-authentication failed"
    # Another user's valid credentials: the connection stays alice's.
    c, _ = scram_login(b, "alice", "wonderland", client_id="r2")
    scram, server_first = reauth(c, "bob", "builder")
    c.send(raw.auth(0x18, auth_props(scram.client_final(server_first))))
    c.expect_disconnect(0x87)
    assert b.wait_log("authenticated as 'bob', not as 'alice'")
    # A malformed client-first.
    c, _ = scram_login(b, "alice", "wonderland", client_id="r3")
    c.send(raw.auth(0x19, auth_props(b"nonsense")))
    c.expect_disconnect(0x87)
    # Protocol errors: another method, a second 0x19 during one, 0x18 outside one.
    c, _ = scram_login(b, "alice", "wonderland", client_id="r4")
    c.send(raw.auth(0x19, auth_props(b"n,,n=alice,r=abc", method="PLAIN")))
    c.expect_disconnect(0x82)
    c, _ = scram_login(b, "alice", "wonderland", client_id="r5")
    reauth(c, "alice", "wonderland")
    c.send(raw.auth(0x19, auth_props(Scram("alice", "wonderland").client_first())))
    c.expect_disconnect(0x82)
    c, _ = scram_login(b, "alice", "wonderland", client_id="r6")
    c.send(raw.auth(0x18, auth_props(b"c=biws,r=abc,p=AAAA")))
    c.expect_disconnect(0x82)


def test_failed_scram_logins_are_rate_limited(tmp_path):
    pw = str(tmp_path / "passwd")
    assert passwd("-c", "-b", pw, "alice", "wonderland").returncode == 0
    b = brokerproc.Broker(tmp_path, {"auth": {"password_file": pw, "max_failed_logins": 3}})
    b.start()
    try:
        for i in range(3):
            scram = Scram("alice", "guess%d" % i)
            c, server_first = start(b, scram, client_id="g%d" % i)
            c.send(raw.auth(0x18, auth_props(scram.client_final(server_first))))
            refused(c, 0x86)
        assert b.wait_log("blocking logins from 127.0.0.1 for up to 60 s after 3 failures")
        # Blocked: the right credentials are refused at client-first, for
        # SCRAM and plain passwords alike.
        c = b.raw()
        c.send(raw.connect("right", props=auth_props(Scram("alice", "wonderland").client_first())))
        refused(c, 0x8A)
        c = b.raw()
        c.connect("plain", username="alice", password=b"wonderland", expect_rc=0x8A)
    finally:
        b.close_clients()
        b.stop()
    assert not b.health_problems()


def test_reload_applies_new_scram_credentials(scram_broker):
    b = scram_broker
    assert passwd("-b", b.pw, "alice", "looking-glass").returncode == 0
    b.proc.send_signal(signal.SIGHUP)
    assert b.wait_log("auth: reloaded: 3 users")
    scram_login(b, "alice", "looking-glass")
    scram = Scram("alice", "wonderland")
    c, server_first = start(b, scram, client_id="old-pw")
    c.send(raw.auth(0x18, auth_props(scram.client_final(server_first))))
    refused(c, 0x86)


def test_mqttjs_scram_login(scram_broker):
    b = scram_broker
    watcher = b.raw()
    watcher.connect("watcher", username="alice", password=b"wonderland")
    watcher.subscribe([("home/#", 1)], expect=[1])
    js = MqttJs(b, {"protocolVersion": 5, "clientId": "js-scram", "scram": {"user": "bob", "password": "builder"},
                    "subscribe": [{"topic": "home/bob/#", "qos": 1}],
                    "publish": [{"topic": "home/bob/lamp", "payload_b64": b64(b"on"), "qos": 1}],
                    "expect": 1, "timeoutMs": 8000})
    events = js.until("published", timeout=10)
    auth, connack, sub = events[:3]
    assert auth["event"] == "auth" and auth["reasonCode"] == 0x18
    assert auth["properties"]["authenticationMethod"] == METHOD
    assert connack["event"] == "connack" and connack["reasonCode"] == 0
    assert connack["properties"]["authenticationMethod"] == METHOD
    assert connack["scramServerVerified"] is True
    # The ACL allows home/%u/# with %u the SCRAM user: bob.
    assert sub["granted"] == [1]
    msgs = [e for e in events + js.until("done", timeout=10) if e["event"] == "message"]
    assert [(e["topic"], e["payload_b64"]) for e in msgs] == [("home/bob/lamp", b64(b"on"))]
    m = watcher.expect(raw.PUBLISH)
    assert (m.topic, m.payload) == ("home/bob/lamp", b"on")
    watcher.send(raw.puback(m.pid))
    watcher.expect_nothing(0.3)


def test_mqttjs_scram_wrong_password(scram_broker):
    b = scram_broker
    js = MqttJs(b, {"protocolVersion": 5, "clientId": "js-bad", "scram": {"user": "bob", "password": "b"},
                    "timeoutMs": 8000})
    events = js.until("error", timeout=10)
    assert events[0]["event"] == "auth"
    assert events[-1]["code"] == 0x86, events
