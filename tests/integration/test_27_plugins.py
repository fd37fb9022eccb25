"""Plugins ([[plugin]], plugins/include/strata/plugin.h) in the real broker:
the example plugins auth_file (answering from its own thread), stamp and
audit_log, and a test plugin built against the ABI version 1 header, all
loaded by name or path; SIGHUP hands them new options; a plugin that fails
to load stops start-up with its path and the reason. Real clients: raw
packets and paho.
"""

import json
import os
import re
import signal
import subprocess

import pytest

import brokerproc
from adminhttp import AdminClient
import pahoc
import raw
from common import wait_until

pytestmark = pytest.mark.strata_only


def build_dir():
    return os.path.dirname(os.path.dirname(brokerproc.strata_bin()))


def passwd(path, user, password):
    tool = os.path.join(os.path.dirname(brokerproc.strata_bin()), "strata-passwd")
    subprocess.run([tool, "-c", "-b", path, user, password], check=True, capture_output=True, timeout=30)


def plugin_config(workdir, users="users.txt", node="plant-edge-1"):
    return [
        # Bare names: <prefix>/lib/strata/plugins/NAME.so next to the binary.
        {"path": "auth_file", "options": {"file": os.path.join(workdir, users), "async": "true"}},
        {"path": "stamp", "options": {"node": node}},
        {"path": "audit_log", "options": {"file": os.path.join(workdir, "audit.jsonl")}},
        {"path": os.path.join(build_dir(), "tests", "plugins", "test_plugin_v1.so")},
    ]


@pytest.fixture(scope="module")
def pb(tmp_path_factory):
    """One broker for the module: users carol/pw1 (auth_file) and bob/builder
    (the built-in password file), the plugins of plugin_config()."""
    work = str(tmp_path_factory.mktemp("plugins"))
    with open(os.path.join(work, "users.txt"), "w") as f:
        f.write("# allow-list\ncarol:pw1\n")
    pw = os.path.join(work, "passwd")
    passwd(pw, "bob", "builder")
    b = brokerproc.Broker(work, {"auth": {"password_file": pw}, "plugin": plugin_config(work)})
    b.work = work
    b.start()
    yield b
    b.close_clients()
    b.stop()
    assert not b.health_problems(), b.health_problems()


def login(b, client_id, user=None, password=None, version=raw.V5, expect_rc=0):
    c = raw.RawClient(b.host, b.port, version=version)
    b.clients.append(c)
    kw = {}
    if user is not None:
        kw["username"] = user
    if password is not None:
        kw["password"] = password.encode()
    c.connect(client_id, expect_rc=expect_rc, **kw)
    return c


def test_plugins_loaded_with_their_abi_versions(pb):
    log = pb.log
    prefix = os.path.join(build_dir(), "lib", "strata", "plugins")
    for name, abi, offered in (("auth_file", 2, "1, 2"), ("stamp", 2, "1, 2"), ("audit_log", 1, "1")):
        line = "%s/%s.so: loaded, ABI version %d (plugin supports %s, broker 1, 2)" % (prefix, name, abi, offered)
        assert line in log, log
    assert "test_plugin_v1.so: loaded, ABI version 1 (plugin supports 1, broker 1, 2)" in log


def test_admin_api_lists_the_plugins(pb):
    status, body = AdminClient(pb.admin_url).get("/api/v1/plugins")
    assert status == 200
    assert body["broker_abi_versions"] == [1, 2]
    got = [(p["name"], p["abi_version"], p["plugin_abi_versions"], p["events"]) for p in body["data"]]
    assert got == [
        ("auth_file.so", 2, [1, 2], ["basic_auth", "reload"]),
        ("stamp.so", 2, [1, 2], ["message", "reload"]),
        ("audit_log.so", 1, [1], ["message", "connect", "disconnect", "subscribe", "unsubscribe", "reload"]),
        ("test_plugin_v1.so", 1, [1], ["acl_check", "message"]),
    ]
    assert body["data"][1]["path"] == os.path.join(build_dir(), "lib", "strata", "plugins", "stamp.so")


def test_auth_file_allows_denies_and_defers_to_the_built_in_check(pb):
    login(pb, "a1", "carol", "pw1").disconnect()
    login(pb, "a2", "carol", "wrong", expect_rc=0x87)       # listed, wrong password: the plugin denies
    login(pb, "a3", "carol", None, expect_rc=0x87)          # listed, no password
    login(pb, "a4", "bob", "builder").disconnect()          # not listed: deferred to [auth]
    login(pb, "a5", "dave", "x", expect_rc=0x86)            # unknown to both
    login(pb, "a6", "carol", "wrong", version=raw.V311, expect_rc=5)
    login(pb, "a7").disconnect()                             # anonymous: deferred, allowed by the listener


def test_stamp_and_the_version_1_plugin_change_messages(pb):
    sub = pahoc.PahoClient(pb.host, pb.port, client_id="stamp-sub")
    pb.clients.append(sub)
    sub.connect()
    sub.subscribe("plant/#", qos=1)
    sub.subscribe("v1/#", qos=1)
    pub = login(pb, "stamp-pub")
    ack = pub.publish("plant/a", b"21.5", qos=1, props={"user_property": [("src", "line-1")]})
    assert ack.rc == 0
    m = sub.wait_message()
    assert (m.topic, m.payload) == ("plant/a", b"21.5")
    ups = m.prop("UserProperty", [])
    names = [k for k, _ in ups]
    assert names == ["src", "received_at", "received_by", "abi"], ups
    values = dict(ups)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", values["received_at"]), values
    assert values["received_by"] == "plant-edge-1"
    assert values["abi"] == "1"
    # The version 1 plugin's ACL: v1/denied is refused, v1/ok goes through.
    assert pub.publish("v1/denied", b"no", qos=1).rc == 0x87
    assert pub.publish("v1/ok", b"yes", qos=1).rc == 0
    m = sub.wait_message()
    assert (m.topic, m.payload) == ("v1/ok", b"yes")  # the denied one never arrived before it


def audit_lines(pb, client_id):
    path = os.path.join(pb.work, "audit.jsonl")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip() and json.loads(line).get("client_id") == client_id]


def test_audit_log_writes_json_lines_from_its_own_thread(pb):
    c = login(pb, "audit-1", "carol", "pw1")
    c.subscribe(("audit/in/#", 1), expect=[1])  # not its own publish
    assert c.publish("audit/x", b"abc", qos=1, retain=False).rc == 0
    assert c.unsubscribe(["audit/in/#"]).rcs == [0]
    c.disconnect()
    wait_until(lambda: any(e["event"] == "disconnect" for e in audit_lines(pb, "audit-1")),
               timeout=20, what="the disconnect line of audit-1")
    events = audit_lines(pb, "audit-1")
    for e in events:
        assert isinstance(e.pop("time_ms"), int)
    assert events[0]["address"].startswith("127.0.0.1:")
    events[0].pop("address")
    assert events == [
        {"event": "connect", "client_id": "audit-1", "username": "carol"},
        {"event": "subscribe", "client_id": "audit-1", "filter": "audit/in/#", "qos": 1},
        {"event": "publish", "client_id": "audit-1", "topic": "audit/x", "qos": 1, "retain": False, "bytes": 3},
        {"event": "unsubscribe", "client_id": "audit-1", "filter": "audit/in/#"},
        {"event": "disconnect", "client_id": "audit-1", "reason_code": 0},
    ]


def test_sighup_hands_new_options_to_the_plugins(pb):
    # Runs last in the module: the broker keeps the new options.
    with open(os.path.join(pb.work, "users2.txt"), "w") as f:
        f.write("erin:pw2\n")
    config = dict(pb.config)
    config["plugin"] = plugin_config(pb.work, users="users2.txt", node="plant-edge-2")
    with open(pb.conf_path, "w") as f:
        f.write(brokerproc.to_toml(config))
    pb.proc.send_signal(signal.SIGHUP)
    assert pb.wait_log("plugin options reloaded: auth_file.so, stamp.so", timeout=20), pb.log_tail()
    login(pb, "h1", "erin", "pw2").disconnect()
    login(pb, "h2", "carol", "pw1", expect_rc=0x86)  # no longer listed: the built-in check refuses
    sub = pahoc.PahoClient(pb.host, pb.port, client_id="hup-sub")
    pb.clients.append(sub)
    sub.connect()
    sub.subscribe("hup/x", qos=1)
    login(pb, "h3").publish("hup/x", b"1", qos=1)
    assert dict(sub.wait_message().prop("UserProperty", []))["received_by"] == "plant-edge-2"


@pytest.mark.parametrize("plugin,reason", [
    ({"path": "/nonexistent/missing.so"}, "plugin /nonexistent/missing.so: cannot load: "),
    ({"path": "auth_file"}, "auth_file.so: strata_plugin_init failed (1): options.file is required"),
])
def test_a_plugin_that_fails_to_load_stops_start_up(tmp_path, plugin, reason):
    b = brokerproc.Broker(tmp_path, {"plugin": [plugin]})
    with pytest.raises(brokerproc.BrokerError):
        b.start()
    assert b.proc.wait(10) == 1  # the start-up failure is the broker's exit, not a crash
    assert "cannot start: " in b.log and reason in b.log, b.log
    assert "running on" not in b.log


def test_check_config_reports_a_bad_plugin_table_with_file_and_line(tmp_path):
    conf = tmp_path / "bad.toml"
    conf.write_text('[[plugin]]\npath = "stamp"\n[plugin.options]\nnode = 7\n')
    r = subprocess.run([brokerproc.strata_bin(), "--check-config", str(conf)], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 1
    assert r.stderr.strip() == "%s:4:8: plugin.options.node must be a string, got an integer" % conf
