"""The admin server over https:// (the MQTT TLS listeners' certificate
options) and CORS: urllib with the test CA gets 200; plain HTTP to the
https port is turned away without an HTTP answer and the server keeps
serving; a preflight from an allowed origin gets the Access-Control-*
headers, one from another origin (or with no cors_origins) none."""

import socket
import ssl
import urllib.error
import urllib.request

import pytest

import brokerproc
import certs
from adminhttp import AdminClient

pytestmark = pytest.mark.strata_only

ALLOWED = "https://console.example"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return certs.make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def https_broker(tmp_path_factory, pki):
    b = brokerproc.Broker(tmp_path_factory.mktemp("admin-tls"), {})
    b.config["admin"] = {"url": "https://127.0.0.1:%d" % b.admin_port, "cert_file": pki["server.crt"],
                         "key_file": pki["server.key"], "cors_origins": [ALLOWED]}
    b.start()
    yield b
    b.close_clients()
    assert b.stop() == 0
    assert b.health_problems() == []


def https_url(b):
    return "https://127.0.0.1:%d" % b.admin_port


def ca_context(pki):
    ctx = ssl.create_default_context(cafile=pki["ca.crt"])
    return ctx


def test_https_with_the_ca_answers(https_broker, pki):
    api = AdminClient(https_url(https_broker), context=ca_context(pki))
    status, body = api.get("/api/v1/status")
    assert status == 200
    assert body["connections"] == 0
    status, text = api.get("/metrics")
    assert status == 200 and "strata_connections 0" in text
    # A client that does not trust the CA cannot talk to it.
    with pytest.raises(urllib.error.URLError) as e:
        urllib.request.urlopen(https_url(https_broker) + "/api/v1/status", timeout=10,
                               context=ssl.create_default_context(cafile=pki["other-ca.crt"]))
    assert isinstance(e.value.reason, ssl.SSLCertVerificationError)


def test_plain_http_to_the_https_port_fails_cleanly(https_broker, pki):
    # Raw bytes: no HTTP answer comes back, the connection just ends
    # (at most with a TLS alert).
    with socket.create_connection(("127.0.0.1", https_broker.admin_port), timeout=10) as s:
        s.sendall(b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n\r\n")
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    assert not out.startswith(b"HTTP/")
    # urllib speaking http:// to it gets an error, not an answer.
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)) as e:
        urllib.request.urlopen("http://127.0.0.1:%d/api/v1/status" % https_broker.admin_port, timeout=10)
    assert not isinstance(e.value, urllib.error.HTTPError)
    # The server keeps serving https.
    status, _ = AdminClient(https_url(https_broker), context=ca_context(pki)).get("/api/v1/status")
    assert status == 200


def preflight(api, origin):
    return api.request("OPTIONS", "/api/v1/clients", headers={
        "Origin": origin, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})


def cors_headers(headers):
    return {k.lower(): v for k, v in headers.items() if k.lower().startswith("access-control-")}


def test_cors_preflight_from_an_allowed_origin(https_broker, pki):
    api = AdminClient(https_url(https_broker), context=ca_context(pki))
    status, _, headers = preflight(api, ALLOWED)
    assert status == 204
    h = cors_headers(headers)
    assert h["access-control-allow-origin"] == ALLOWED
    assert "GET" in [m.strip() for m in h["access-control-allow-methods"].split(",")]
    assert "authorization" in [x.strip().lower() for x in h["access-control-allow-headers"].split(",")]
    assert "origin" in headers.get("Vary", "").lower()
    # The request itself carries the origin back too.
    status, body, headers = api.request("GET", "/api/v1/status", headers={"Origin": ALLOWED})
    assert status == 200
    assert cors_headers(headers) == {"access-control-allow-origin": ALLOWED}


def test_cors_from_another_origin_gets_no_headers(https_broker, pki):
    api = AdminClient(https_url(https_broker), context=ca_context(pki))
    status, body, headers = preflight(api, "https://evil.example")
    assert cors_headers(headers) == {}
    assert status == 405 and body["code"] == "METHOD_NOT_ALLOWED"
    status, _, headers = api.request("GET", "/api/v1/status", headers={"Origin": "https://evil.example"})
    assert status == 200 and cors_headers(headers) == {}


def test_no_cors_origins_means_no_cors_headers(tmp_path):
    b = brokerproc.Broker(tmp_path, {})
    b.start()
    try:
        api = AdminClient(b.admin_url)
        status, _, headers = preflight(api, ALLOWED)
        assert status == 405 and cors_headers(headers) == {}
        status, _, headers = api.request("GET", "/api/v1/status", headers={"Origin": ALLOWED})
        assert status == 200 and cors_headers(headers) == {}
    finally:
        assert b.stop() == 0
    assert b.health_problems() == []
