"""Admin API: subscribing and unsubscribing on a client's behalf
(POST/DELETE /api/v1/clients/{id}/subscriptions), checked with urllib
against a real broker with an ACL and real paho clients: online and
offline persistent sessions, retained messages, ACL refusal, viewer 403."""

import time

import pytest

import brokerproc
import pahoc
from adminhttp import AdminClient, quote
from extclients import mosquitto_pub
from pahoc import PacketTypes, props

pytestmark = pytest.mark.strata_only

ACL = """\
allow readwrite subs/#
allow read $SYS/#
"""
ADMIN_KEY = ("ops", "ops-secret-0123456789")
VIEWER_KEY = ("ci", "ci-secret-0123456789")


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    d = tmp_path_factory.mktemp("admin-subs")
    (d / "acl").write_text(ACL)
    (d / "api_keys").write_text("%s:%s:viewer\n%s:%s:admin\n" % (VIEWER_KEY + ADMIN_KEY))
    b = brokerproc.Broker(d, {"auth": {"acl_file": str(d / "acl")},
                              "admin": {"auth": "login", "api_keys_file": str(d / "api_keys")}})
    b.start()
    yield b
    b.close_clients()
    assert b.stop() == 0
    assert b.health_problems() == []


@pytest.fixture
def api(shared):
    return AdminClient(shared.admin_url, basic=ADMIN_KEY)


def paho(broker, client_id, clean=True, **connect):
    c = pahoc.PahoClient(broker.host, broker.port, client_id, pahoc.V5, clean)
    broker.clients.append(c)
    c.connect(**connect)
    return c


def wait_until(fn, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if fn():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met within %.0fs" % timeout)


def filters_of(api, client_id):
    s, body = api.get("/api/v1/sessions/" + quote(client_id))
    assert s == 200, body
    return {sub["topic"]: sub["qos"] for sub in body["subscriptions"]}


def test_subscribe_online_client_then_unsubscribe(shared, api):
    mosquitto_pub(shared, "subs/on/kept", "old", qos=1, retain=True)
    c = paho(shared, "subs-online")
    s, body = api.post("/api/v1/clients/subs-online/subscriptions", {"filter": "subs/on/#", "qos": 1})
    assert (s, body) == (200, {"client_id": "subs-online", "filter": "subs/on/#", "qos": 1})
    # retain_handling 0: the retained message comes at once, as after a SUBSCRIBE.
    m = c.wait_message()
    assert (m.topic, m.payload, m.qos, m.retain) == ("subs/on/kept", b"old", 1, True)
    mosquitto_pub(shared, "subs/on/x", "live", qos=1)
    m = c.wait_message()
    assert (m.topic, m.payload, m.qos, m.retain) == ("subs/on/x", b"live", 1, False)
    assert filters_of(api, "subs-online") == {"subs/on/#": 1}

    # Subscribing again with retain_handling 1 (only if new): no retained copy.
    s, body = api.post("/api/v1/clients/subs-online/subscriptions",
                       {"filter": "subs/on/#", "qos": 0, "retain_handling": 1})
    assert (s, body["qos"]) == (200, 0)
    c.expect_no_message(0.3)

    s, body = api.delete("/api/v1/clients/subs-online/subscriptions?filter=" + quote("subs/on/#"))
    assert (s, body) == (204, None)
    assert filters_of(api, "subs-online") == {}
    mosquitto_pub(shared, "subs/on/x", "after", qos=1)
    c.expect_no_message(0.3)
    s, body = api.delete("/api/v1/clients/subs-online/subscriptions?filter=" + quote("subs/on/#"))
    assert s == 404 and body["code"] == "NOT_FOUND"


def test_subscribe_offline_persistent_session_delivers_on_reconnect(shared, api):
    expiry = props(PacketTypes.CONNECT, SessionExpiryInterval=300)
    c = paho(shared, "subs-offline", clean=False, properties=expiry)
    c.disconnect()
    c.wait_disconnected()
    s, body = api.post("/api/v1/clients/subs-offline/subscriptions", {"filter": "subs/off/+", "qos": 1})
    assert (s, body) == (200, {"client_id": "subs-offline", "filter": "subs/off/+", "qos": 1})
    for i in range(3):
        mosquitto_pub(shared, "subs/off/t", "m%d" % i, qos=1)
    # The deliveries reach the session's core after the publishers' PUBACKs: wait for them.
    wait_until(lambda: api.get("/api/v1/sessions/subs-offline")[1]["queued"] == 3)
    assert api.get("/api/v1/sessions/subs-offline")[1]["connected"] is False
    c2 = paho(shared, "subs-offline", clean=False, properties=expiry)
    assert c2.session_present
    got = [(m.topic, m.payload, m.qos) for m in c2.wait_messages(3)]
    assert got == [("subs/off/t", b"m%d" % i, 1) for i in range(3)]
    c2.expect_no_message(0.2)
    # Unsubscribe with the filter in a JSON body.
    s, _, _ = api.request("DELETE", "/api/v1/clients/subs-offline/subscriptions", body={"filter": "subs/off/+"})
    assert s == 204
    mosquitto_pub(shared, "subs/off/t", "gone", qos=1)
    c2.expect_no_message(0.3)


def test_subscribe_errors(shared, api):
    paho(shared, "subs-err")
    s, body = api.post("/api/v1/clients/nobody-here/subscriptions", {"filter": "subs/x"})
    assert s == 404 and body["code"] == "NOT_FOUND"
    s, body = api.post("/api/v1/clients/subs-err/subscriptions", {"filter": "subs/#/x"})
    assert s == 400 and body["code"] == "BAD_REQUEST"
    s, body = api.post("/api/v1/clients/subs-err/subscriptions", {"qos": 1})
    assert s == 400 and body == {"code": "BAD_REQUEST", "message": "'filter' is required"}
    s, body = api.post("/api/v1/clients/subs-err/subscriptions", {"filter": "subs/x", "qos": 3})
    assert s == 400
    # The ACL lets the client read only subs/#.
    s, body = api.post("/api/v1/clients/subs-err/subscriptions", {"filter": "secret/#"})
    assert s == 403 and body["code"] == "NOT_AUTHORIZED"
    assert filters_of(api, "subs-err") == {}
    s, body = api.delete("/api/v1/clients/nobody-here/subscriptions?filter=a")
    assert s == 404
    s, body = api.delete("/api/v1/clients/subs-err/subscriptions")
    assert s == 400


def test_viewer_may_not_subscribe(shared):
    paho(shared, "subs-viewer")
    viewer = AdminClient(shared.admin_url, basic=VIEWER_KEY)
    s, body = viewer.post("/api/v1/clients/subs-viewer/subscriptions", {"filter": "subs/v"})
    assert s == 403 and body["code"] == "FORBIDDEN"
    s, body = viewer.delete("/api/v1/clients/subs-viewer/subscriptions?filter=subs%2Fv")
    assert s == 403 and body["code"] == "FORBIDDEN"
    assert filters_of(viewer, "subs-viewer") == {}
