"""strata-ctl, the admin API's command-line client, against a real broker:
MQTT clients (paho, mosquitto_pub) make clients, sessions, subscriptions and
retained messages; the built strata-ctl lists, shows and changes them, and
the test checks its table rows, JSON, exit status and error messages (the
API's answers are fetched independently with urllib where the test needs
what the server said). One broker for the module (history on), one more with
auth = "login" for the token file and the viewer's 403.
"""

import json
import os
import shutil
import stat
import subprocess

import pytest

import brokerproc
import certs
import pahoc
from adminhttp import AdminClient
from common import wait_until

pytestmark = pytest.mark.strata_only

BIN_DIR = os.path.dirname(brokerproc.strata_bin() or ".")
CTL = os.path.join(BIN_DIR, "strata-ctl")
PASSWD = os.path.join(BIN_DIR, "strata-passwd")
T0 = 1796540400000  # 2026-12-06T07:00:00Z
HISTORIAN = {"enabled": True, "filters": ["plant/#"], "timestamp_field": "ts"}


@pytest.fixture(scope="module")
def b(tmp_path_factory):
    d = tmp_path_factory.mktemp("ctl")
    os.makedirs(str(d / "rules"))
    broker = brokerproc.Broker(d, {"historian": HISTORIAN, "store": {"durability": "sync"},
                                   "rules": {"dir": str(d / "rules")}})
    broker.start()
    yield broker
    broker.close_clients()
    assert broker.stop() == 0
    assert broker.health_problems() == []


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A config home of the test's own: no developer's token file leaks in."""
    return str(tmp_path_factory.mktemp("ctl-home"))


def ctl(args, url=None, home=None, stdin=None, env=None):
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home or "/nonexistent",
         "XDG_CONFIG_HOME": os.path.join(home, "config") if home else "/nonexistent"}
    if url:
        e["STRATA_URL"] = url
    e.update(env or {})
    return subprocess.run([CTL] + list(args), capture_output=True, text=True, timeout=30, env=e, input=stdin)


def ok(r):
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    assert r.stderr == ""
    return r.stdout


def rows(out):
    """A table as lists of words (alignment is the unit tests' business)."""
    return [line.split() for line in out.splitlines()]


def paho(broker, client_id, clean=True, **connect):
    c = pahoc.PahoClient(broker.host, broker.port, client_id, pahoc.V5, clean)
    broker.clients.append(c)
    c.connect(**connect)
    return c


def test_help_usage_errors_and_unreachable_server():
    r = ctl(["--help"])
    assert r.returncode == 0 and r.stdout.startswith("Usage: strata-ctl [GLOBAL OPTIONS] COMMAND")
    assert "  clients kick ID " in r.stdout and "  --json " in r.stdout
    r = ctl(["subs", "add", "--help"])
    assert r.returncode == 0 and r.stdout.startswith("Usage: strata-ctl subs add CLIENT FILTER [--qos N]\n")
    r = ctl([])
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == ("strata-ctl: no command given\n"
                        "Usage: strata-ctl [GLOBAL OPTIONS] COMMAND [ARGS] [OPTIONS] (strata-ctl --help)\n")
    r = ctl(["clients", "show"])
    assert (r.returncode, r.stderr) == (2, "strata-ctl: clients show takes ID\nUsage: strata-ctl clients show ID\n")
    r = ctl(["publish", "t", "p", "--qos", "3"])
    assert r.returncode == 2
    assert r.stderr.startswith("strata-ctl: --qos must be an integer from 0 to 2, not '3'\n")
    r = ctl(["--url", "ftp://x", "status"])
    assert (r.returncode, r.stderr) == (2, "strata-ctl: bad URL 'ftp://x': the URL must start with http:// or "
                                           "https://\nUsage: strata-ctl status\n")
    port = brokerproc.free_port()
    r = ctl(["status"], url="http://127.0.0.1:%d" % port)
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == "strata-ctl: cannot connect to http://127.0.0.1:%d: Connection refused\n" % port


def test_status_json_and_table(b, home):
    r = ctl(["--json", "status"], url=b.admin_url, home=home)
    status = json.loads(ok(r))
    assert status["cores"] >= 1 and status["listeners"]
    out = ok(ctl(["status"], url=b.admin_url, home=home))
    lines = out.splitlines()
    assert lines[0] == "version: %s" % status["version"]
    assert "cores: %d" % status["cores"] in lines
    assert "listeners:" in lines and "  - %s" % status["listeners"][0] in lines
    # --url wins over STRATA_URL.
    ok(ctl(["--url", b.admin_url, "status"], url="http://127.0.0.1:1", home=home))


def test_clients_list_show_kick(b, home):
    a = paho(b, "ctl-a", keepalive=33)
    a.subscribe("plant/+/temp", qos=1)
    paho(b, "ctl-b", keepalive=44)
    _, body = AdminClient(b.admin_url).get("/api/v1/clients?clientid=ctl-")
    info = {c["clientid"]: c for c in body["data"]}
    out = ok(ctl(["clients", "list", "--match", "ctl-"], url=b.admin_url, home=home))
    assert rows(out) == [
        ["CLIENT", "ID", "USERNAME", "ADDRESS", "LISTENER", "PROTO", "KEEPALIVE", "SUBS", "INFLIGHT", "QUEUED"],
        ["ctl-a", info["ctl-a"]["ip_address"], info["ctl-a"]["listener"], "5", "33", "1", "0", "0"],
        ["ctl-b", info["ctl-b"]["ip_address"], info["ctl-b"]["listener"], "5", "44", "0", "0", "0"]]
    # The empty username leaves its column blank: the words shift, the columns do not.
    header, first = out.splitlines()[:2]
    assert first.index(info["ctl-a"]["ip_address"]) == header.index("ADDRESS")
    # Paging: one row, and a note on stderr that there is more.
    r = ctl(["clients", "list", "--match", "ctl-", "--limit", "1"], url=b.admin_url, home=home)
    assert r.returncode == 0 and len(rows(r.stdout)) == 2 and r.stderr == "(more: --page 2)\n"
    assert json.loads(ok(ctl(["--json", "clients", "list", "--match", "ctl-"], url=b.admin_url, home=home))) == body

    out = ok(ctl(["clients", "show", "ctl-a"], url=b.admin_url, home=home))
    lines = out.splitlines()
    assert "clientid: ctl-a" in lines and "keepalive: 33" in lines and "proto_ver: 5" in lines
    assert rows(out)[-2:] == [["TOPIC", "QOS", "NO", "LOCAL", "RAP", "RH"],
                              ["plant/+/temp", "1", "false", "false", "0"]]

    assert ok(ctl(["clients", "kick", "ctl-a"], url=b.admin_url, home=home)) == "Disconnected ctl-a\n"
    assert a._disconnected.wait(10), "the kicked paho client was not disconnected"
    assert getattr(a.disconnect_rc, "value", a.disconnect_rc) == 0x98
    r = ctl(["clients", "kick", "ctl-a"], url=b.admin_url, home=home)
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == "strata-ctl: 404 NOT_FOUND: no connected client 'ctl-a'\n"


def test_sessions_and_subscriptions(b, home):
    p = paho(b, "ctl-p", clean=False, properties=pahoc.props(pahoc.PacketTypes.CONNECT, SessionExpiryInterval=300))
    p.subscribe("ctl/s/#", qos=1)
    p.subscribe("ctl/t", qos=0)
    out = ok(ctl(["subs", "list", "--client", "ctl-p"], url=b.admin_url, home=home))
    assert rows(out) == [["CLIENT", "ID", "TOPIC", "QOS", "SHARE", "GROUP", "NO", "LOCAL", "RAP", "RH"],
                         ["ctl-p", "ctl/s/#", "1", "-", "false", "false", "0"],
                         ["ctl-p", "ctl/t", "0", "-", "false", "false", "0"]]
    out = ok(ctl(["subs", "list", "--client", "ctl-p", "--topic", "ctl/s/x"], url=b.admin_url, home=home))
    assert [r[:3] for r in rows(out)[1:]] == [["ctl-p", "ctl/s/#", "1"]]
    p.disconnect()
    wait_until(lambda: AdminClient(b.admin_url).get("/api/v1/sessions/ctl-p")[1]["connected"] is False,
               what="the session to go offline")
    out = ok(ctl(["sessions", "list", "--match", "ctl-p"], url=b.admin_url, home=home))
    assert rows(out) == [["CLIENT", "ID", "CONNECTED", "PERSISTENT", "EXPIRY", "SUBS", "QUEUED", "INFLIGHT"],
                         ["ctl-p", "false", "true", "300", "2", "0", "0"]]
    assert ok(ctl(["sessions", "rm", "ctl-p"], url=b.admin_url, home=home)) == "Ended the session of ctl-p\n"
    r = ctl(["sessions", "show", "ctl-p"], url=b.admin_url, home=home)
    assert (r.returncode, r.stderr) == (1, "strata-ctl: 404 NOT_FOUND: no session 'ctl-p'\n")


def test_subs_add_and_rm(b, home):
    c = paho(b, "ctl-sub", keepalive=60)
    r = ctl(["subs", "add", "ctl-sub", "ctl/added/#", "--qos", "1"], url=b.admin_url, home=home)
    if r.returncode != 0 and (" 404 " in r.stderr or " 405 " in r.stderr):
        pytest.skip("POST /api/v1/clients/{id}/subscriptions is not in this build: " + r.stderr.strip())
    assert ok(r) == "Subscribed ctl-sub to ctl/added/# (QoS 1)\n"
    out = ok(ctl(["subs", "list", "--client", "ctl-sub"], url=b.admin_url, home=home))
    assert [r[:3] for r in rows(out)[1:]] == [["ctl-sub", "ctl/added/#", "1"]]
    ok(ctl(["publish", "ctl/added/x", "via-api", "--qos", "1"], url=b.admin_url, home=home))
    m = c.wait_message(10)
    assert (m.topic, m.payload, m.qos) == ("ctl/added/x", b"via-api", 1)
    assert ok(ctl(["subs", "rm", "ctl-sub", "ctl/added/#"], url=b.admin_url, home=home)) == \
        "Unsubscribed ctl-sub from ctl/added/#\n"
    out = ok(ctl(["subs", "list", "--client", "ctl-sub"], url=b.admin_url, home=home))
    assert rows(out)[1:] == []


def test_retained_and_publish(b, home):
    subprocess.run(["mosquitto_pub", "-h", b.host, "-p", str(b.port), "-i", "ctl-pub", "-r", "-q", "1",
                    "-t", "ctl/r/a b", "-m", "21.5"], check=True, timeout=10)
    # Each core holds the retained index; the one the API reads may learn of it after the PUBACK.
    wait_until(lambda: AdminClient(b.admin_url).get("/api/v1/retained/ctl%2Fr%2Fa%20b")[0] == 200,
               what="the retained message to reach the API")
    out = ok(ctl(["retained", "list", "--topic", "ctl/r/#"], url=b.admin_url, home=home))
    assert rows(out) == [["TOPIC", "QOS", "SIZE", "PUBLISHER"], ["ctl/r/a", "b", "1", "4", "ctl-pub"]]
    out = ok(ctl(["retained", "show", "ctl/r/a b"], url=b.admin_url, home=home))
    lines = out.splitlines()
    assert "topic: ctl/r/a b" in lines and "payload: 21.5" in lines and "payload_base64: MjEuNQ==" in lines

    sub = paho(b, "ctl-sub-p")
    sub.subscribe("ctl/p/#", qos=2)
    assert ok(ctl(["publish", "ctl/p/1", "hello", "--qos", "1"], url=b.admin_url, home=home)) == \
        "Published to ctl/p/1\n"
    ok(ctl(["publish", "ctl/p/2", "-5", "--qos=2", "--retain"], url=b.admin_url, home=home))
    got = sub.wait_messages(2, 10)
    assert [(m.topic, m.payload, m.qos) for m in got] == [("ctl/p/1", b"hello", 1), ("ctl/p/2", b"-5", 2)]
    out = ok(ctl(["retained", "list", "--topic", "ctl/p/#"], url=b.admin_url, home=home))
    assert rows(out)[1][:3] == ["ctl/p/2", "2", "2"]
    assert ok(ctl(["retained", "rm", "ctl/p/2"], url=b.admin_url, home=home)) == \
        "Deleted the retained message of ctl/p/2\n"
    r = ctl(["retained", "rm", "ctl/p/2"], url=b.admin_url, home=home)
    assert (r.returncode, r.stderr) == (1, "strata-ctl: 404 NOT_FOUND: no retained message on 'ctl/p/2'\n")
    r = ctl(["publish", "bad/#", "x"], url=b.admin_url, home=home)
    assert (r.returncode, r.stderr) == (1, "strata-ctl: 400 BAD_REQUEST: 'topic' is not a valid topic name\n")


def test_reload_and_metrics(b, home):
    _, want = AdminClient(b.admin_url).post("/api/v1/reload")
    out = ok(ctl(["reload"], url=b.admin_url, home=home))
    assert want["ok"] is True and want["reloaded"]

    def listing(key):
        items = want[key]
        return "%s:\n%s" % (key, "".join("  - %s\n" % x for x in items)) if items else "%s: []\n" % key
    assert out == "ok: true\n" + listing("reloaded") + listing("not_reloaded")
    assert json.loads(ok(ctl(["--json", "reload"], url=b.admin_url, home=home))) == want
    out = ok(ctl(["metrics"], url=b.admin_url, home=home))
    assert "\nstrata_connections " in out
    if shutil.which("promtool"):
        r = subprocess.run(["promtool", "check", "metrics"], input=out, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stdout + r.stderr


def test_history(b, home):
    c = paho(b, "ctl-hist")
    for i in range(3):
        c.publish("plant/h/press", json.dumps({"ts": T0 + i * 1000, "temp": 20 + i, "rpm": 100}).encode(), qos=1)
    # Durability sync: acknowledged means recorded.
    out = ok(ctl(["history", "series", "plant/h/#"], url=b.admin_url, home=home))
    assert rows(out) == [["SERIES", "FIRST", "LAST", "POINTS"],
                         ["plant/h/press#rpm", "2026-12-06T07:00:00.000Z", "2026-12-06T07:00:02.000Z", "3"],
                         ["plant/h/press#temp", "2026-12-06T07:00:00.000Z", "2026-12-06T07:00:02.000Z", "3"]]
    out = ok(ctl(["history", "query", "plant/h/press#temp", "--from", str(T0), "--to", str(T0 + 2000),
                  "--epoch-ms"], url=b.admin_url, home=home))
    assert rows(out) == [["SERIES", "TIME", "VALUE"],
                         ["plant/h/press#temp", str(T0), "20"], ["plant/h/press#temp", str(T0 + 1000), "21"]]
    out = ok(ctl(["history", "export", "plant/h/+", "--from", "2026-12-06T07:00:00Z", "--interval", "1m",
                  "--agg", "sum", "--to", "2026-12-06T07:01:00Z"], url=b.admin_url, home=home))
    assert out == ("series,time,value\nplant/h/press#rpm,2026-12-06T07:00:00.000Z,300\n"
                   "plant/h/press#temp,2026-12-06T07:00:00.000Z,63\n")
    out = ok(ctl(["history", "last", "plant/h/press#temp"], url=b.admin_url, home=home))
    assert rows(out) == [["SERIES", "TIME", "VALUE"], ["plant/h/press#temp", "2026-12-06T07:00:02.000Z", "22"]]
    r = ctl(["history", "query", "plant/h/press#temp", "--fill", "sideways", "--interval", "1m"],
            url=b.admin_url, home=home)
    assert (r.returncode, r.stderr) == (
        1, "strata-ctl: 400 BAD_REQUEST: fill 'sideways' is not one of none, null, previous, linear\n")


def test_rules(b, home, tmp_path):
    r = ctl(["rules", "list"], url=b.admin_url, home=home)
    if r.returncode != 0 and " 404 " in r.stderr:
        pytest.skip("/api/v1/rules is not in this build: " + r.stderr.strip())
    ok(r)
    rule = tmp_path / "ctl_double.lua"
    rule.write_text('-- doubles a number\ntopics = "ctl/rule/in"\n\nfunction on_message(msg)\n'
                    '  publish("ctl/rule/out", tostring(tonumber(msg.payload) * 2))\n  return false\nend\n')
    assert ok(ctl(["rules", "apply", str(rule)], url=b.admin_url, home=home)) == "Applied rule ctl_double\n"
    out = ok(ctl(["rules", "list"], url=b.admin_url, home=home))
    path = os.path.join(b.workdir, "rules", "ctl_double.lua")
    assert rows(out)[0] == ["NAME", "FILE", "ENABLED", "TOPICS"]
    assert ["ctl_double", path, "true", "ctl/rule/in"] in rows(out)
    # Applied means running: a message through the broker comes out doubled.
    sub = paho(b, "ctl-rule-sub")
    sub.subscribe("ctl/rule/out", qos=1)
    subprocess.run(["mosquitto_pub", "-h", b.host, "-p", str(b.port), "-q", "1", "-t", "ctl/rule/in", "-m", "21"],
                   check=True, timeout=10)
    m = sub.wait_message(10)
    assert (m.topic, m.payload) == ("ctl/rule/out", b"42")
    out = ok(ctl(["rules", "show", "ctl_double"], url=b.admin_url, home=home))
    assert "name: ctl_double" in out.splitlines() and out.endswith(rule.read_text())
    assert ok(ctl(["rules", "disable", "ctl_double"], url=b.admin_url, home=home)) == "Disabled rule ctl_double\n"
    assert ok(ctl(["rules", "enable", "ctl_double"], url=b.admin_url, home=home)) == "Enabled rule ctl_double\n"
    r = ctl(["--json", "rules", "test", str(rule), "--message", "ctl/rule/in", "21"], url=b.admin_url, home=home)
    dry = json.loads(ok(r))
    assert dry["faulted"] is False and "ctl/rule/out" in r.stdout and "42" in r.stdout
    # Without --json: the dry run's report as the API wrote it.
    assert ok(ctl(["rules", "test", str(rule), "--message", "ctl/rule/in", "21"], url=b.admin_url, home=home)) == \
        dry["output"]
    bad = tmp_path / "broken.lua"
    bad.write_text("topics = \"x\"\nfunction on_message(msg\n")
    r = ctl(["rules", "apply", str(bad)], url=b.admin_url, home=home)
    assert r.returncode == 1 and r.stderr.startswith("strata-ctl: 400 ") and "broken.lua:" in r.stderr
    assert ok(ctl(["rules", "rm", "ctl_double"], url=b.admin_url, home=home)) == "Removed rule ctl_double\n"
    r = ctl(["rules", "show", "ctl_double"], url=b.admin_url, home=home)
    assert r.returncode == 1 and r.stderr.startswith("strata-ctl: 404 NOT_FOUND: ")


@pytest.fixture(scope="module")
def login_broker(tmp_path_factory):
    d = tmp_path_factory.mktemp("ctl-login")
    users = str(d / "admin_users")
    subprocess.run([PASSWD, "--admin", "-c", "-b", users, "root", "root-pass"], check=True)
    subprocess.run([PASSWD, "--admin", "-r", "viewer", "-b", users, "eve", "eve-pass"], check=True)
    keys = d / "api_keys"
    keys.write_text("ops:ops-secret-0123456789:admin\n")
    broker = brokerproc.Broker(d, {"admin": {"auth": "login", "users_file": users, "api_keys_file": str(keys)}})
    broker.start()
    yield broker
    broker.close_clients()
    assert broker.stop() == 0
    assert broker.health_problems() == []


def test_login_token_file_viewer_and_logout(login_broker, tmp_path):
    url, home = login_broker.admin_url, str(tmp_path)
    token_file = os.path.join(home, "config", "strata", "token")
    _, unauth = AdminClient(url).get("/api/v1/status")
    r = ctl(["status"], url=url, home=home)
    assert (r.returncode, r.stderr) == (1, "strata-ctl: 401 UNAUTHORIZED: %s\n" % unauth["message"])

    out = ok(ctl(["login", "--username", "root", "--password", "root-pass"], url=url, home=home))
    assert out.startswith("Logged in as root (admin) until ") and out.endswith("; token saved in %s\n" % token_file)
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    token = open(token_file).read().strip()
    assert AdminClient(url, token=token).get("/api/v1/status")[0] == 200
    ok(ctl(["status"], url=url, home=home))
    # Without XDG_CONFIG_HOME the file is under ~/.config.
    r = ctl(["status"], url=url, home=home, env={"XDG_CONFIG_HOME": ""})
    assert r.returncode == 1 and " 401 " in r.stderr
    assert ok(ctl(["logout"], url=url, home=home)) == "Logged out; removed %s\n" % token_file
    assert not os.path.exists(token_file)
    assert AdminClient(url, token=token).get("/api/v1/status")[0] == 401

    # The viewer logs in at the prompts; changing anything is 403 with the API's message.
    r = ctl(["login"], url=url, home=home, stdin="eve\neve-pass\n")
    assert r.returncode == 0 and r.stdout.startswith("Logged in as eve (viewer) until ")
    assert r.stderr == "Username: Password: "
    eve = AdminClient(url, token=open(token_file).read().strip())
    _, forbidden = eve.delete("/api/v1/clients/x")
    r = ctl(["clients", "kick", "x"], url=url, home=home)
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == "strata-ctl: 403 FORBIDDEN: %s\n" % forbidden["message"]
    assert rows(ok(ctl(["clients", "list"], url=url, home=home)))[0][0] == "CLIENT"
    # A bad password: the API's 401, and the viewer's token stays.
    r = ctl(["login", "--username", "root", "--password", "wrong"], url=url, home=home)
    assert r.returncode == 1 and r.stderr.startswith("strata-ctl: 401 ")
    assert os.path.exists(token_file)
    ok(ctl(["logout"], url=url, home=home))
    r = ctl(["logout"], url=url, home=home)
    assert (r.returncode, r.stderr) == (1, "strata-ctl: not logged in: no token to revoke\n")

    # An API key (HTTP Basic) and a token from the environment.
    ok(ctl(["--api-key", "ops:ops-secret-0123456789", "reload"], url=url, home=home))
    r = ctl(["--api-key", "ops:wrong", "status"], url=url, home=home)
    assert r.returncode == 1 and r.stderr.startswith("strata-ctl: 401 UNAUTHORIZED: ")
    _, body = AdminClient(url).post("/api/v1/login", {"username": "root", "password": "root-pass"})
    ok(ctl(["status"], url=url, home=home, env={"STRATA_TOKEN": body["token"]}))


def test_https_verifies_the_server(tmp_path):
    pki = certs.make_pki(tmp_path / "pki")
    port = brokerproc.free_port()
    url = "https://127.0.0.1:%d" % port
    broker = brokerproc.Broker(tmp_path, {"admin": {"url": url, "cert_file": pki["server.crt"],
                                                    "key_file": pki["server.key"]}})
    broker.start()
    try:
        out = ok(ctl(["--cacert", pki["ca.crt"], "status"], url=url))
        assert out.startswith("version: ")
        ok(ctl(["--insecure", "status"], url=url))
        for extra in ([], ["--cacert", pki["other-ca.crt"]]):
            r = ctl(extra + ["status"], url=url)
            assert r.returncode == 1, r.stdout
            assert r.stderr.startswith("strata-ctl: cannot complete the TLS handshake with %s: " % url)
            assert "certificate verify failed" in r.stderr
        r = ctl(["--cacert", str(tmp_path / "missing.pem"), "status"], url=url)
        assert r.returncode == 1 and r.stderr.startswith("strata-ctl: cannot load the CA certificates ")
    finally:
        assert broker.stop() == 0
