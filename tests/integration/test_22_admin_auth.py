"""Admin API authentication (auth = "login"): login tokens from a users file
written by strata-passwd --admin, API keys with HTTP Basic, viewer 403,
logout, expiry, the failed-login limiter; /metrics checked by promtool
while MQTT traffic runs."""

import os
import shutil
import subprocess
import time

import pytest

import brokerproc
import pahoc
from adminhttp import AdminClient

pytestmark = pytest.mark.strata_only

PASSWD = os.path.join(os.path.dirname(brokerproc.strata_bin() or "."), "strata-passwd")


@pytest.fixture(scope="module")
def login_broker(tmp_path_factory):
    d = tmp_path_factory.mktemp("admin-auth")
    users = str(d / "admin_users")
    subprocess.run([PASSWD, "--admin", "-c", "-b", users, "root", "root-pass"], check=True)
    subprocess.run([PASSWD, "--admin", "-r", "viewer", "-b", users, "eve", "eve-pass"], check=True)
    keys = d / "api_keys"
    keys.write_text("ci:ci-secret-0123456789:viewer\nops:ops-secret-0123456789:admin\n")
    b = brokerproc.Broker(d, {"admin": {"auth": "login", "users_file": users, "api_keys_file": str(keys),
                                        "token_ttl": 2},
                              "auth": {"max_failed_logins": 4, "failed_login_window": 600}})
    b.start()
    yield b
    b.close_clients()
    assert b.stop() == 0
    assert b.health_problems() == []


def login(broker, user, password):
    return AdminClient(broker.admin_url).post("/api/v1/login", {"username": user, "password": password})


def test_no_credentials_is_401(login_broker):
    s, body, headers = AdminClient(login_broker.admin_url).request("GET", "/api/v1/status")
    assert s == 401 and body["code"] == "UNAUTHORIZED"
    assert headers["WWW-Authenticate"].startswith("Bearer")
    assert AdminClient(login_broker.admin_url, token="0" * 64).get("/api/v1/status")[0] == 401


def test_login_admin_and_viewer(login_broker):
    s, body = login(login_broker, "root", "root-pass")
    assert s == 200 and body["role"] == "admin" and len(body["token"]) == 64
    assert body["expires_at"].endswith("Z")
    admin = AdminClient(login_broker.admin_url, token=body["token"])
    assert admin.get("/api/v1/status")[0] == 200
    assert admin.post("/api/v1/publish", {"topic": "auth/t", "payload": "x"})[0] == 200
    s, body = login(login_broker, "eve", "eve-pass")
    assert s == 200 and body["role"] == "viewer"
    viewer = AdminClient(login_broker.admin_url, token=body["token"])
    assert viewer.get("/api/v1/clients")[0] == 200
    s, body = viewer.post("/api/v1/publish", {"topic": "auth/t", "payload": "x"})
    assert s == 403 and body["code"] == "FORBIDDEN"
    assert viewer.delete("/api/v1/clients/x")[0] == 403
    assert "published to auth/t" in login_broker.log and "root (admin) from 127.0.0.1:" in login_broker.log


def test_logout_revokes_and_tokens_expire(login_broker):
    token = login(login_broker, "root", "root-pass")[1]["token"]
    api = AdminClient(login_broker.admin_url, token=token)
    assert api.post("/api/v1/logout")[0] == 200
    s, body = api.get("/api/v1/status")
    assert s == 401 and "not valid" in body["message"]
    token = login(login_broker, "eve", "eve-pass")[1]["token"]
    api = AdminClient(login_broker.admin_url, token=token)
    assert api.get("/api/v1/status")[0] == 200
    deadline = time.monotonic() + 10  # token_ttl is 2 s
    while api.get("/api/v1/status")[0] == 200:
        assert time.monotonic() < deadline, "token did not expire"
        time.sleep(0.2)
    s, body = api.get("/api/v1/status")
    assert s == 401 and body["code"] == "UNAUTHORIZED"


def test_api_keys(login_broker):
    ops = AdminClient(login_broker.admin_url, basic=("ops", "ops-secret-0123456789"))
    assert ops.post("/api/v1/publish", {"topic": "k/t", "payload": "x"})[0] == 200
    ci = AdminClient(login_broker.admin_url, basic=("ci", "ci-secret-0123456789"))
    assert ci.get("/api/v1/status")[0] == 200
    assert ci.post("/api/v1/publish", {"topic": "k/t", "payload": "x"})[0] == 403


def test_bad_login_input(login_broker):
    api = AdminClient(login_broker.admin_url)
    s, body, _ = api.request("POST", "/api/v1/login", raw=b"{not json", headers={"Content-Type": "application/json"})
    assert s == 400 and body["code"] == "BAD_REQUEST"
    assert api.post("/api/v1/login", {"username": "root"})[0] == 400


def test_metrics_need_no_login_and_pass_promtool(login_broker):
    if not shutil.which("promtool"):
        pytest.fail("promtool is not installed (tools/setup.sh installs Debian's prometheus)")
    sub = pahoc.PahoClient(login_broker.host, login_broker.port, "m-sub")
    login_broker.clients.append(sub)
    sub.connect()
    sub.subscribe("m/#", qos=1)
    pub = pahoc.PahoClient(login_broker.host, login_broker.port, "m-pub")
    login_broker.clients.append(pub)
    pub.connect()
    api = AdminClient(login_broker.admin_url)
    for i in range(20):  # scrapes while messages flow
        pub.publish("m/%d" % i, b"v", qos=1)
        s, text = api.get("/metrics")
        assert s == 200
    sub.wait_messages(20)
    r = subprocess.run(["promtool", "check", "metrics"], input=text.encode(), capture_output=True, timeout=30)
    assert r.returncode == 0, r.stdout.decode() + r.stderr.decode()
    lines = dict(line.rsplit(" ", 1) for line in text.splitlines() if line and not line.startswith("#"))
    # By QoS (qos="0|1|2"): these 20 were QoS 1.
    assert int(lines['strata_messages_received_total{qos="1"}']) >= 20
    assert int(lines["strata_connections"]) == 2
    assert "strata_admin_auth_failures_total" in lines


def test_failed_logins_are_limited(login_broker):
    # Last in the module: this address is blocked afterwards.
    for _ in range(4):
        s, body = login(login_broker, "root", "wrong")
        assert s in (401, 429)
    s, body = login(login_broker, "root", "root-pass")
    assert s == 429 and body["code"] == "TOO_MANY_REQUESTS"
    # MQTT keeps serving.
    c = login_broker.raw_connect("after-block")
    c.close()
