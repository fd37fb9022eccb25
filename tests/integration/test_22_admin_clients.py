"""Admin API: clients, sessions, subscriptions, retained messages and
publish, checked with urllib against a real broker and real MQTT clients
(paho, raw)."""

import base64
import time

import pytest

import brokerproc
import pahoc
import raw as rawmod
from adminhttp import AdminClient, quote

pytestmark = pytest.mark.strata_only


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    b = brokerproc.Broker(tmp_path_factory.mktemp("admin-clients"), {})
    b.start()
    yield b
    b.close_clients()
    assert b.stop() == 0
    assert b.health_problems() == []


@pytest.fixture
def api(shared):
    return AdminClient(shared.admin_url)


def paho(broker, client_id, version=pahoc.V5, clean=True, **connect):
    c = pahoc.PahoClient(broker.host, broker.port, client_id, version, clean)
    broker.clients.append(c)
    c.connect(**connect)
    return c


def wait_until(fn, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError("condition not met within %.0fs" % timeout)


def test_clients_paging_edges(shared, api):
    clients = [paho(shared, "pg-%d" % i) for i in range(5)]
    s, body = api.get("/api/v1/clients?clientid=pg-&limit=2")
    assert s == 200
    assert [c["clientid"] for c in body["data"]] == ["pg-0", "pg-1"]
    assert body["meta"] == {"page": 1, "limit": 2, "count": 5, "hasnext": True}
    s, body = api.get("/api/v1/clients?clientid=pg-&limit=2&page=3")
    assert [c["clientid"] for c in body["data"]] == ["pg-4"]
    assert body["meta"] == {"page": 3, "limit": 2, "count": 5, "hasnext": False}
    s, body = api.get("/api/v1/clients?clientid=pg-&limit=2&page=4")
    assert body["data"] == [] and body["meta"]["count"] == 5
    s, body = api.get("/api/v1/clients?clientid=pg-&limit=10000")
    assert len(body["data"]) == 5 and body["meta"]["hasnext"] is False
    for q in ("limit=0", "limit=10001", "page=0", "page=x", "connected=maybe", "proto=4"):
        s, body = api.get("/api/v1/clients?" + q)
        assert s == 400, q
        assert body["code"] == "BAD_REQUEST", q
    for c in clients:
        c.disconnect()


def test_client_filters_and_detail(shared, api):
    a = paho(shared, "flt/v5 a", keepalive=33)
    a.client.username_pw_set("ann")
    b = paho(shared, "flt-v311", version=pahoc.V311)
    a.subscribe("plant/+/temp", qos=1)
    s, body = api.get("/api/v1/clients?clientid=flt&proto=3.1.1")
    assert [c["clientid"] for c in body["data"]] == ["flt-v311"]
    s, body = api.get("/api/v1/clients?clientid=flt&ip=127.0.0.1")
    assert body["meta"]["count"] == 2
    s, body = api.get("/api/v1/clients?clientid=flt&ip=10.0.0.1")
    assert body["meta"]["count"] == 0
    s, body = api.get("/api/v1/clients/" + quote("flt/v5 a"))
    assert s == 200
    assert body["clientid"] == "flt/v5 a"
    assert body["connected"] is True
    assert body["proto_ver"] == "5"
    assert body["keepalive"] == 33
    assert body["listener"] == "tcp://127.0.0.1:%d" % shared.port
    assert body["ip_address"].startswith("127.0.0.1:")
    assert body["subscriptions"] == [{"topic": "plant/+/temp", "qos": 1, "no_local": False,
                                      "retain_as_published": False, "retain_handling": 0}]
    s, body = api.get("/api/v1/clients/nobody-here")
    assert s == 404 and body["code"] == "NOT_FOUND"
    s, body = api.get("/api/v1/clients/bad%zzescape")
    assert s == 400 and body["code"] == "BAD_REQUEST"
    a.disconnect()
    b.disconnect()


def test_kick_v5_gets_0x98_and_session_stays(shared, api):
    c = shared.raw_connect("kick-me", clean=False, props={"session_expiry_interval": 300})
    s, _ = api.delete("/api/v1/clients/kick-me")
    assert s == 204
    c.expect_disconnect(0x98)
    s, body = api.get("/api/v1/sessions?clientid=kick-me")
    assert [(x["clientid"], x["connected"]) for x in body["data"]] == [("kick-me", False)]
    assert body["data"][0]["expiry_interval"] == 300
    assert body["data"][0]["expires_at_ms"] > 0
    s, body = api.get("/api/v1/clients?connected=false&clientid=kick-me")
    assert body["meta"]["count"] == 1
    # An offline session is not a client to kick; it is a session to end.
    assert api.delete("/api/v1/clients/kick-me")[0] == 404
    assert api.delete("/api/v1/sessions/kick-me")[0] == 204
    assert api.get("/api/v1/sessions/kick-me")[0] == 404
    assert api.delete("/api/v1/sessions/kick-me")[0] == 404


def test_kick_with_session_end(shared, api):
    c = shared.raw_connect("kick-end", clean=False, props={"session_expiry_interval": 300})
    assert api.delete("/api/v1/clients/kick-end?session=end")[0] == 204
    c.expect_disconnect(0x98)
    assert api.get("/api/v1/sessions/kick-end")[0] == 404
    assert api.delete("/api/v1/clients/x?session=maybe")[0] == 400
    # 3.1.1: no DISCONNECT from a server; the connection is closed.
    old = shared.raw_connect("kick-311", version=rawmod.V311)
    assert api.delete("/api/v1/clients/kick-311")[0] == 204
    old.expect_closed()


def test_subscriptions_filters(shared, api):
    a = paho(shared, "subs-a")
    b = paho(shared, "subs-b")
    a.subscribe("site/+/line1/#", qos=1)
    a.subscribe("$share/grp/site/x/#", qos=0)
    b.subscribe("other/topic", qos=2)
    s, body = api.get("/api/v1/subscriptions?clientid=subs-a")
    assert sorted(x["topic"] for x in body["data"]) == ["$share/grp/site/x/#", "site/+/line1/#"]
    s, body = api.get("/api/v1/subscriptions?topic=" + quote("site/x/line1/speed"))
    got = sorted((x["clientid"], x["topic"]) for x in body["data"])
    assert got == [("subs-a", "$share/grp/site/x/#"), ("subs-a", "site/+/line1/#")]
    s, body = api.get("/api/v1/subscriptions?share_group=grp")
    assert [(x["clientid"], x["share_group"]) for x in body["data"]] == [("subs-a", "grp")]
    s, body = api.get("/api/v1/subscriptions?clientid=subs-b")
    assert [(x["topic"], x["qos"]) for x in body["data"]] == [("other/topic", 2)]
    assert api.get("/api/v1/subscriptions?topic=" + quote("a/#"))[0] == 400
    a.disconnect()
    b.disconnect()


def test_retained_list_show_delete(shared, api):
    pub = paho(shared, "ret-pub")
    pub.publish("ret/a/1", b"one", qos=1, retain=True,
                properties=pahoc.props(ContentType="text/plain", UserProperty=[("unit", "C")]))
    pub.publish("ret/b", b"\xff\x00bin", qos=1, retain=True)
    pub.publish("ret/a/2", b"two", qos=1, retain=True)
    s, body = api.get("/api/v1/retained?topic=" + quote("ret/#"))
    assert s == 200
    assert [x["topic"] for x in body["data"]] == ["ret/a/1", "ret/a/2", "ret/b"]
    s, body = api.get("/api/v1/retained?topic=" + quote("ret/a/+") + "&limit=1&page=2")
    assert [x["topic"] for x in body["data"]] == ["ret/a/2"]
    assert body["meta"] == {"page": 2, "limit": 1, "count": 2, "hasnext": False}
    s, body = api.get("/api/v1/retained/" + quote("ret/a/1"))
    assert body["payload"] == "one"
    assert base64.b64decode(body["payload_base64"]) == b"one"
    assert body["qos"] == 1
    assert body["properties"]["content_type"] == "text/plain"
    assert body["properties"]["user_properties"] == [["unit", "C"]]
    s, body = api.get("/api/v1/retained/ret%2Fb")
    assert "payload" not in body  # not UTF-8
    assert base64.b64decode(body["payload_base64"]) == b"\xff\x00bin"
    assert api.get("/api/v1/retained?topic=" + quote("a/#/b"))[0] == 400
    assert api.get("/api/v1/retained/" + quote("a/+"))[0] == 400
    assert api.delete("/api/v1/retained/" + quote("ret/a/1"))[0] == 204
    assert api.get("/api/v1/retained/" + quote("ret/a/1"))[0] == 404
    assert api.delete("/api/v1/retained/" + quote("ret/a/1"))[0] == 404
    sub = paho(shared, "ret-sub")
    sub.subscribe("ret/#", qos=1)
    got = sorted(m.topic for m in sub.wait_messages(2))
    assert got == ["ret/a/2", "ret/b"]
    sub.expect_no_message(0.3)
    pub.disconnect()
    sub.disconnect()


def test_retained_delete_by_filter(shared, api):
    pub = paho(shared, "retf-pub")
    for t in ("retf/line1/a", "retf/line1/b", "retf/line2/a", "retf/other"):
        pub.publish(t, t.encode(), qos=1, retain=True)
    # A dry run lists exactly the matching topics, sorted, and deletes nothing.
    s, body = api.delete("/api/v1/retained?filter=" + quote("retf/+/a") + "&dry_run=true")
    assert s == 200, body
    assert body == {"filter": "retf/+/a", "dry_run": True, "count": 2, "topics": ["retf/line1/a", "retf/line2/a"]}
    s, body = api.get("/api/v1/retained?topic=" + quote("retf/#"))
    assert body["meta"]["count"] == 4
    # The real thing deletes those two and answers what it deleted.
    s, body = api.delete("/api/v1/retained?filter=" + quote("retf/+/a"))
    assert s == 200, body
    assert body == {"filter": "retf/+/a", "dry_run": False, "count": 2, "topics": ["retf/line1/a", "retf/line2/a"]}
    s, body = api.get("/api/v1/retained?topic=" + quote("retf/#"))
    assert [x["topic"] for x in body["data"]] == ["retf/line1/b", "retf/other"]
    # Nothing left to match: an empty answer, not an error.
    s, body = api.delete("/api/v1/retained?filter=" + quote("retf/+/a"))
    assert (s, body["count"], body["topics"]) == (200, 0, [])
    # A new subscriber gets only what is left.
    sub = paho(shared, "retf-sub")
    sub.subscribe("retf/#", qos=1)
    assert sorted(m.topic for m in sub.wait_messages(2)) == ["retf/line1/b", "retf/other"]
    sub.expect_no_message(0.3)
    # The filter is required and must be a valid, unshared filter.
    assert api.delete("/api/v1/retained")[0] == 400
    assert api.delete("/api/v1/retained?filter=")[0] == 400
    assert api.delete("/api/v1/retained?filter=" + quote("a/#/b"))[0] == 400
    assert api.delete("/api/v1/retained?filter=" + quote("$share/g/retf/#"))[0] == 400
    assert api.delete("/api/v1/retained?filter=retf/%23&dry_run=maybe")[0] == 400
    s, body = api.get("/api/v1/retained?topic=" + quote("retf/#"))
    assert body["meta"]["count"] == 2
    pub.disconnect()
    sub.disconnect()


def test_publish_reaches_subscribers(shared, api):
    sub = paho(shared, "api-sub")
    sub.subscribe("api/#", qos=2)
    s, body = api.post("/api/v1/publish", {"topic": "api/x", "payload": "hello", "qos": 1,
                                           "properties": {"user_properties": {"k": "v"}, "content_type": "t"}})
    assert s == 200, body
    m = sub.wait_message()
    assert (m.topic, m.payload, m.qos, m.retain) == ("api/x", b"hello", 1, False)
    assert m.prop("UserProperty") == [("k", "v")]
    assert m.prop("ContentType") == "t"
    s, body = api.post("/api/v1/publish", {"topic": "api/bin", "payload": base64.b64encode(b"\x00\x01").decode(),
                                           "payload_encoding": "base64", "retain": True})
    assert s == 200
    m = sub.wait_message()
    assert (m.topic, m.payload, m.qos) == ("api/bin", b"\x00\x01", 0)
    assert api.get("/api/v1/retained/" + quote("api/bin"))[0] == 200
    for bad in ({"topic": "api/+"}, {"topic": ""}, {"payload": "x"}, {"topic": "t", "qos": 3},
                {"topic": "t", "payload_encoding": "hex"}, {"topic": "t", "payload": "!!", "payload_encoding": "base64"},
                {"topic": "t", "properties": {"nope": 1}}, {"topic": 5}):
        s, body = api.post("/api/v1/publish", bad)
        assert s == 400, bad
        assert body["code"] == "BAD_REQUEST"
    s, body, _ = api.request("POST", "/api/v1/publish", raw=b'{"topic": "t", ', headers={"Content-Type": "application/json"})
    assert s == 400 and "malformed JSON" in body["message"]
    sub.expect_no_message(0.3)
    sub.disconnect()
