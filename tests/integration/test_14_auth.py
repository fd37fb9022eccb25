"""Authentication and authorization: password file written by strata-passwd,
anonymous access per listener, the ACL file (default, user and client rules,
%u/%c, deny over allow), certificate identities as usernames, SIGHUP reload,
and the failed-login limiter. Real clients: raw packets, paho, mosquitto_pub.
"""

import os
import signal
import subprocess
import time

import pytest

import brokerproc
import certs
from adminhttp import AdminClient
import pahoc
import raw

pytestmark = pytest.mark.strata_only


def passwd_bin():
    return os.path.join(os.path.dirname(brokerproc.strata_bin()), "strata-passwd")


def passwd(*args, stdin=None):
    return subprocess.run([passwd_bin()] + list(args), input=stdin, capture_output=True, text=True, timeout=30)


ACL = """\
# defaults
allow read $SYS/#
allow readwrite home/%u/#
allow write status/%c
deny readwrite home/+/private

user alice
allow readwrite plant/#
deny write plant/+/setpoint

user bob
allow read plant/line1/#

client gateway-7
allow write plant/line7/#
"""


@pytest.fixture
def auth_broker(tmp_path):
    """A broker with a password file (alice/wonderland, bob/builder), the ACL
    above, and a second loopback listener with anonymous access off."""
    pw = str(tmp_path / "passwd")
    acl = str(tmp_path / "acl")
    assert passwd("-c", "-b", pw, "alice", "wonderland").returncode == 0
    assert passwd("-b", pw, "bob", "builder").returncode == 0
    with open(acl, "w") as f:
        f.write(ACL)
    closed = brokerproc.free_port()
    b = brokerproc.Broker(tmp_path, {
        "listener": [{"url": "tcp://127.0.0.1:%d" % closed, "allow_anonymous": False}],
        "auth": {"password_file": pw, "acl_file": acl, "max_failed_logins": 4, "failed_login_window": 60},
    }, config_listeners=True)
    b.closed_port, b.pw, b.acl = closed, pw, acl
    b.start()
    yield b
    b.close_clients()
    b.stop()
    assert not b.health_problems(), b.health_problems()


def login(b, user=None, password=None, port=None, version=raw.V5, client_id="c", expect_rc=0):
    c = raw.RawClient(b.host, port or b.port, version=version)
    b.clients.append(c)
    kw = {}
    if user is not None:
        kw["username"] = user
    if password is not None:
        kw["password"] = password.encode()
    c.connect(client_id, expect_rc=expect_rc, **kw)
    return c


def test_strata_passwd_round_trip(tmp_path):
    pw = str(tmp_path / "pw")
    assert passwd("-b", pw, "u", "p").returncode == 1  # no file without -c
    assert passwd("-c", "-b", pw, "alice", "one").returncode == 0
    r = passwd(pw, "bob", stdin="from stdin\n")  # password read from stdin
    assert r.returncode == 0, r.stderr
    assert passwd("-b", pw, "alice", "two").returncode == 0  # change
    lines = open(pw).read().splitlines()
    assert [l.split(":")[0] for l in lines] == ["alice", "bob"]
    assert all(l.split(":", 1)[1].startswith("$pbkdf2-sha512$10000$") for l in lines)
    assert oct(os.stat(pw).st_mode & 0o777) == "0o600"
    assert passwd("-D", pw, "bob").returncode == 0
    assert [l.split(":")[0] for l in open(pw).read().splitlines()] == ["alice"]
    r = passwd("-D", pw, "bob")
    assert r.returncode == 1 and "no user 'bob'" in r.stderr
    assert passwd("-b", pw, "bad:name", "x").returncode == 1
    assert passwd("-b", "-i", "5", pw, "x", "y").returncode == 2


def test_passwords_checked(auth_broker):
    b = auth_broker
    login(b, "alice", "wonderland")
    login(b, "bob", "builder", client_id="c2")
    login(b, "alice", "Wonderland", client_id="c3", expect_rc=0x86)
    login(b, "carol", "anything", client_id="c4", expect_rc=0x86)
    login(b, "alice", None, client_id="c5", expect_rc=0x86)
    # MQTT 3.1.1: CONNACK return code 4, bad user name or password
    login(b, "alice", "nope", version=raw.V311, client_id="c6", expect_rc=4)
    assert b.wait_log("user 'alice': wrong password")
    assert b.wait_log("user 'carol': unknown user")


def test_auth_failures_in_metrics(auth_broker):
    """strata_auth_failures_total counts refused CONNECTs (v5 and 3.1.1,
    bad password, unknown user, anonymous on a closed listener), not the
    accepted ones."""
    b = auth_broker
    api = AdminClient(b.admin_url)

    def failures():
        status, text = api.get("/metrics")
        assert status == 200
        values = [l.split()[1] for l in text.splitlines() if l.startswith("strata_auth_failures_total ")]
        assert len(values) == 1, "strata_auth_failures_total missing from /metrics"
        return float(values[0])

    assert failures() == 0
    login(b, "alice", "wonderland")
    login(b, "alice", "Wonderland", client_id="f1", expect_rc=0x86)
    login(b, "carol", "anything", client_id="f2", expect_rc=0x86)
    login(b, None, None, port=b.closed_port, client_id="f3", expect_rc=0x87)
    assert failures() == 3


def test_anonymous_per_listener(auth_broker):
    b = auth_broker
    login(b)  # the loopback listener allows anonymous clients by default
    login(b, port=b.closed_port, client_id="anon", expect_rc=0x87)
    login(b, port=b.closed_port, version=raw.V311, client_id="anon3", expect_rc=5)
    login(b, "alice", "wonderland", port=b.closed_port, client_id="alice-closed")
    # without a password file, an unverified username cannot pass a closed listener
    assert b.wait_log("anonymous clients not allowed")


def test_acl_rules(auth_broker):
    b = auth_broker
    watcher = login(b, "alice", "wonderland", client_id="watcher")
    watcher.subscribe([("plant/#", 1)], expect=[1])
    alice = login(b, "alice", "wonderland", client_id="a1")
    # user rule allows; a deny rule in the same section overrides it
    assert alice.publish("plant/line1/temp", b"21", qos=1).rc == 0
    assert alice.publish("plant/line1/setpoint", b"99", qos=1).rc == 0x87
    m = watcher.expect(raw.PUBLISH)
    assert (m.topic, m.payload) == ("plant/line1/temp", b"21")
    watcher.send(raw.puback(m.pid))
    # bob may read plant/line1 only and write nothing there
    bob = login(b, "bob", "builder", client_id="b1")
    ack = bob.subscribe([("plant/line1/#", 0), ("plant/line2/#", 0), ("$SYS/strata-test/none", 0)])
    assert ack.rcs == [0, 0x87, 0]
    assert bob.publish("plant/line1/temp", b"x", qos=1).rc == 0x87
    bob.publish("plant/line1/temp", b"qos0 dropped")  # QoS 0: silently dropped
    # client-id section: anyone connecting as gateway-7
    gw = login(b, "bob", "builder", client_id="gateway-7")
    assert gw.publish("plant/line7/flow", b"7", qos=1).rc == 0
    m = watcher.expect(raw.PUBLISH)
    assert (m.topic, m.payload) == ("plant/line7/flow", b"7")  # not the dropped QoS 0
    watcher.send(raw.puback(m.pid))
    # %u and %c in default rules
    assert bob.publish("home/bob/lamp", b"on", qos=1).rc == 0
    assert bob.publish("home/alice/lamp", b"on", qos=1).rc == 0x87
    assert bob.publish("home/bob/private", b"x", qos=1).rc == 0x87  # default deny
    assert bob.subscribe([("home/bob/lamp", 1)], pid=2).rcs == [1]
    # a filter whose topics are all denied is refused
    assert bob.subscribe([("home/bob/private", 1), ("home/+/private", 1)], pid=3).rcs == [0x87, 0x87]
    assert bob.publish("status/b1", b"up", qos=1).rc == 0
    assert bob.publish("status/b2", b"up", qos=1).rc == 0x87
    watcher.expect_nothing(0.3)


def _received_until(c, marker, ack=True):
    """The (topic, payload) of every PUBLISH up to and including `marker`'s topic."""
    got = []
    while not got or got[-1][0] != marker:
        m = c.recv()
        if m.type == raw.PUBACK:  # of the subscriber's own publish
            assert m.rc == 0, m
            continue
        assert m.type == raw.PUBLISH, m
        if ack and m.qos == 1:
            c.send(raw.puback(m.pid))
        got.append((m.topic, m.payload))
    return got


def test_acl_wildcard_subscription_gets_what_it_may_read(auth_broker):
    """A wildcard filter that matches denied topics is granted; each message
    is checked, live and retained, for raw and paho subscribers alike."""
    b = auth_broker
    alice = login(b, "alice", "wonderland", client_id="pub")
    for t in ("plant/line1/r", "plant/line2/r"):
        assert alice.publish(t, b"retained " + t.encode(), qos=1, retain=True).rc == 0
    bob = login(b, "bob", "builder", client_id="bob-raw")
    # '#' and 'plant/#' read some topics; 'home/bob/+' all but home/bob/private
    ack = bob.subscribe([("#", 1), ("plant/#", 1), ("home/bob/+", 1), ("plant/line2/#", 1)])
    assert ack.rcs == [1, 1, 1, 0x87]
    # retained on subscribe: once per filter that may read it, nothing from line2
    got = [bob.expect(raw.PUBLISH) for _ in range(2)]
    assert sorted((m.topic, m.payload, m.retain) for m in got) == [
        ("plant/line1/r", b"retained plant/line1/r", True)] * 2
    for m in got:
        bob.send(raw.puback(m.pid))
    bob.expect_nothing(0.2)
    paho_bob = pahoc.PahoClient(b.host, b.port, "bob-paho")
    b.clients.append(paho_bob)
    paho_bob.connect(username="bob", password="builder")
    assert paho_bob.subscribe("#", qos=1) == [1]
    assert paho_bob.wait_message().topic == "plant/line1/r"
    for i, t in enumerate(("plant/line2/x", "plant/line1/x", "plant/secret", "plant/line1/y")):
        assert alice.publish(t, b"%d" % i, qos=1, pid=i + 1).rc == 0
    expected = [("plant/line1/x", b"1"), ("plant/line1/y", b"3"), ("home/bob/lamp", b"on")]
    # '#' and 'plant/#' both match: one copy (the merged match) per message
    assert _received_until(bob, "plant/line1/y") == expected[:2]
    # bob's own home: home/bob/private cannot be written by anyone. Sent only
    # now: alice's and bob's messages come from different connections (and
    # maybe cores), whose relative order is not defined.
    bob.send(raw.publish("home/bob/lamp", b"on", qos=1, pid=9))
    assert _received_until(bob, "home/bob/lamp") == expected[2:]
    msgs = [(m.topic, m.payload) for m in paho_bob.wait_messages(3)]
    assert [m for m in msgs if m[0].startswith("plant/")] == expected[:2]
    assert sorted(msgs) == sorted(expected)
    paho_bob.expect_no_message(0.2)
    # alice reads all of plant/: her plant/# needs no check and gets everything
    watcher = login(b, "alice", "wonderland", client_id="w")
    assert watcher.subscribe([("plant/#", 1)]).rcs == [1]
    assert len([watcher.expect(raw.PUBLISH) for _ in range(2)]) == 2  # both retained


def test_acl_reload_decides_subscriptions_again(auth_broker):
    b = auth_broker
    alice = login(b, "alice", "wonderland", client_id="pub")
    bob = login(b, "bob", "builder", client_id="bob")
    # wholly readable now: delivered without a check per message
    assert bob.subscribe([("plant/line1/#", 1), ("#", 1)]).rcs == [1, 1]
    alice.publish("plant/line1/secret", b"before", qos=1, pid=1)
    alice.publish("plant/line2/x", b"before", qos=1, pid=2)
    alice.publish("plant/line1/end", b"before", qos=1, pid=3)
    assert _received_until(bob, "plant/line1/end") == [("plant/line1/secret", b"before"),
                                                       ("plant/line1/end", b"before")]
    with open(b.acl, "a") as f:
        f.write("\nuser bob\ndeny read plant/line1/secret\nallow read plant/line2/#\n")
    b.proc.send_signal(signal.SIGHUP)
    assert b.wait_log("auth: reloaded: 2 users, 10 ACL rules")
    # the same subscriptions, decided again: line1/secret is now checked and
    # refused, line2 is readable through '#'. The log line comes when the
    # files are read; then bob's core decides his subscriptions again and
    # posts them to the publisher's core. Only a refused line1/secret shows
    # that the publisher's core has them (a line2 probe would pass at once:
    # '#' is checked per message both before and after).
    deadline = time.monotonic() + 30
    while True:
        alice.publish("plant/line1/secret", b"probe", qos=1, pid=4)
        alice.publish("plant/line1/end", b"probe", qos=1, pid=4)
        got = _received_until(bob, "plant/line1/end")
        if got == [("plant/line1/end", b"probe")]:
            break
        assert got == [("plant/line1/secret", b"probe"), ("plant/line1/end", b"probe")]
        assert time.monotonic() < deadline, "reload not applied"
    alice.publish("plant/line1/secret", b"after", qos=1, pid=5)
    alice.publish("plant/line2/x", b"after", qos=1, pid=6)
    alice.publish("plant/line1/end", b"after", qos=1, pid=7)
    assert _received_until(bob, "plant/line1/end") == [("plant/line2/x", b"after"), ("plant/line1/end", b"after")]


def test_acl_v311_subscribe_failure_and_denied_will(auth_broker):
    b = auth_broker
    c = login(b, "bob", "builder", version=raw.V311, client_id="old")
    assert c.subscribe([("plant/line1/a", 1), ("plant/line2/a", 1)]).rcs == [1, 0x80]
    watcher = login(b, "alice", "wonderland", client_id="w")
    watcher.subscribe([("plant/#", 0)], expect=[0])
    # bob's will on a topic he may not write is not published; alice's is
    for user, pw, topic in (("bob", "builder", "plant/line1/will"), ("alice", "wonderland", "plant/a/will")):
        d = raw.RawClient(b.host, b.port)
        b.clients.append(d)
        d.connect("will-" + user, username=user, password=pw.encode(), will_topic=topic, will_payload=b"gone")
        d.sock.close()
    m = watcher.expect(raw.PUBLISH)
    assert (m.topic, m.payload) == ("plant/a/will", b"gone")
    watcher.expect_nothing(0.3)


def test_reload_on_sighup(auth_broker):
    b = auth_broker
    bob = login(b, "bob", "builder", client_id="b")
    assert bob.publish("plant/line1/x", b"1", qos=1).rc == 0x87
    with open(b.acl, "a") as f:
        f.write("\nuser bob\nallow write plant/line1/#\n")
    assert passwd("-b", b.pw, "carol", "c4r0l").returncode == 0
    b.proc.send_signal(signal.SIGHUP)
    assert b.wait_log("auth: reloaded: 3 users, 9 ACL rules")
    assert bob.publish("plant/line1/x", b"2", qos=1, pid=2).rc == 0  # the same connection, new rules
    login(b, "carol", "c4r0l", client_id="carol")
    # a broken ACL file: the reload fails, the running rules stay
    with open(b.acl, "a") as f:
        f.write("allow sometimes plant/#\n")
    b.proc.send_signal(signal.SIGHUP)
    assert b.wait_log("reload failed, keeping the running password and ACL rules")
    assert "acl:19: access 'sometimes' is not read, write or readwrite" in b.log
    assert bob.publish("plant/line1/x", b"3", qos=1, pid=3).rc == 0
    login(b, "carol", "c4r0l", client_id="carol2")


def test_failed_logins_rate_limited(auth_broker):
    b = auth_broker
    for i in range(4):
        login(b, "alice", "guess%d" % i, client_id="g%d" % i, expect_rc=0x86)
    # blocked now, even with the right password, and without checking it
    login(b, "alice", "wonderland", client_id="g-right", expect_rc=0x8A)
    login(b, version=raw.V311, client_id="g-311", expect_rc=5)
    assert b.wait_log("blocking logins from 127.0.0.1 for up to 60 s after 4 failures")


def test_certificate_cn_as_username_with_acl(tmp_path):
    pki = certs.make_pki(tmp_path / "pki")
    acl = str(tmp_path / "acl")
    with open(acl, "w") as f:
        f.write("allow readwrite certs/%u/#\n")
    port = brokerproc.free_port()
    b = brokerproc.Broker(tmp_path, {
        "listener": [{"url": "tls://127.0.0.1:%d" % port, "cert_file": pki["server.crt"],
                      "key_file": pki["server.key"], "ca_file": pki["ca.crt"], "client_certs": "optional",
                      "cert_username": "cn", "allow_anonymous": False}],
        "auth": {"acl_file": acl},
    }, config_listeners=True)
    b.start()
    try:
        import time
        deadline = time.monotonic() + 5
        c = None
        while c is None:
            try:
                c = pahoc.PahoClient("127.0.0.1", port, "cert-client")
                c.client.tls_set(ca_certs=pki["ca.crt"], certfile=pki["alice.crt"], keyfile=pki["alice.key"])
                c.connect()
            except (ConnectionRefusedError, AssertionError):
                c = None
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        b.clients.append(c)
        c.subscribe("certs/alice/#", qos=1)
        c.publish("certs/alice/t", b"mine", qos=1)
        assert c.wait_message().payload == b"mine"
        # without a certificate: no username, and anonymous is off
        n = pahoc.PahoClient("127.0.0.1", port, "no-cert")
        b.clients.append(n)
        n.client.tls_set(ca_certs=pki["ca.crt"])
        n.connect(expect_rc=0x87)
    finally:
        b.close_clients()
        b.stop()
    assert not b.health_problems()
