"""Admin HTTP server basics: status, stats, errors in one JSON shape, bad
input answered with 4xx while the broker keeps serving, keep-alive and
pipelining, request limits."""

import re
import socket

import pytest

import brokerproc
from adminhttp import AdminClient

pytestmark = pytest.mark.strata_only


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    b = brokerproc.Broker(tmp_path_factory.mktemp("admin"), {"admin": {"max_body_size": 4096}})
    b.start()
    yield b
    b.close_clients()
    assert b.stop() == 0
    assert b.health_problems() == []


def raw_http(broker, data, read_until_close=True):
    with socket.create_connection((broker.host, broker.admin_port), timeout=5) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
        return out


def test_status(shared):
    c = shared.raw_connect("status-client")
    status, body = AdminClient(shared.admin_url).get("/api/v1/status")
    assert status == 200
    assert body["version"]
    assert body["cores"] >= 1
    assert body["listeners"] == ["tcp://127.0.0.1:%d" % shared.port]
    assert body["connections"] == 1
    assert body["uptime_seconds"] > 0
    c.close()


def test_stats_has_sys_counters(shared):
    status, body = AdminClient(shared.admin_url).get("/api/v1/stats")
    assert status == 200
    for key in ("clients.connected", "messages.received", "messages.sent", "bytes.received", "subscriptions.count",
                "retained.count", "store.commits", "store.map.used", "queues.dropped"):
        assert key in body, key


@pytest.mark.parametrize("method,path,code,status", [
    ("GET", "/api/v1/nothing", "NOT_FOUND", 404),
    ("GET", "/api/v1/status/", "NOT_FOUND", 404),
    ("DELETE", "/api/v1/status", "METHOD_NOT_ALLOWED", 405),
    ("GET", "/api/v1/status?limit=%zz", "BAD_REQUEST", 400),
])
def test_errors_are_json(shared, method, path, code, status):
    s, body, headers = AdminClient(shared.admin_url).request(method, path)
    assert s == status
    assert body["code"] == code
    assert body["message"]
    if status == 405:
        assert headers["Allow"] == "GET"


def test_malformed_json_and_oversized_body(shared):
    api = AdminClient(shared.admin_url)
    # /login exists on every server; in open mode it says so, but the body
    # limit applies before any handler.
    s, body, _ = api.request("POST", "/api/v1/login", raw=b"x" * 5000, headers={"Content-Type": "application/json"})
    assert s == 413
    assert body["code"] == "PAYLOAD_TOO_LARGE"
    assert api.get("/api/v1/status")[0] == 200


def test_garbage_request_gets_400_and_broker_serves(shared):
    out = raw_http(shared, b"NOT HTTP AT ALL\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400 ")
    assert b'"code":"BAD_REQUEST"' in out
    out = raw_http(shared, b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * 20000 + b"\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 431 ")
    c = shared.raw_connect("still-serving")
    c.close()
    assert AdminClient(shared.admin_url).get("/api/v1/status")[0] == 200


def test_pipelined_requests_answered_in_order(shared):
    reqs = (b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /api/v1/nothing HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /api/v1/stats HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    out = raw_http(shared, reqs)
    # Bodies are not newline-terminated: the next status line follows at once.
    assert re.findall(rb"HTTP/1\.1 \d+", out) == [b"HTTP/1.1 200", b"HTTP/1.1 404", b"HTTP/1.1 200"]
    assert out.index(b'"version"') < out.index(b'"NOT_FOUND"') < out.index(b'"store.commits"')


def test_open_auth_refused_off_loopback(tmp_path):
    b = brokerproc.Broker(tmp_path, {"admin": {"url": "http://0.0.0.0:%d" % brokerproc.free_port()}})
    with pytest.raises(brokerproc.BrokerError) as e:
        b.start()
    assert 'admin.auth = "open" is only allowed on a loopback address' in str(e.value)
    assert "strata.toml:2:" in str(e.value)
