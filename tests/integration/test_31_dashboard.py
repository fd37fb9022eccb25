"""The web dashboard (web/, issue 15) served by the admin server at "/":
the files with their MIME types, caching headers and CSP, no way out of
the web folder, and the Overview page in a real headless Chromium showing
the numbers the API gives for real MQTT traffic, in light and dark, at
1280x800 and 390 px wide, keyboard-reachable, with no console errors.
Screenshots go to the test's tmp folder (overview-*.png)."""

import re
import socket
import urllib.request

import pytest

import brokerproc
from adminhttp import AdminClient

pytestmark = pytest.mark.strata_only


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    b = brokerproc.Broker(tmp_path_factory.mktemp("dashboard"), {})
    b.start()
    yield b
    b.close_clients()
    assert b.stop() == 0
    assert b.health_problems() == []


def fetch(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def raw_get(broker, target):
    """A GET with the target sent as is (urllib would normalize '..')."""
    with socket.create_connection((broker.host, broker.admin_port), timeout=5) as s:
        s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    head, _, body = out.partition(b"\r\n\r\n")
    return int(head.split(b" ")[1]), body


def test_index_headers(shared):
    status, h, body = fetch(shared.admin_url + "/")
    assert status == 200
    assert h["Content-Type"] == "text/html; charset=utf-8"
    assert h["Cache-Control"] == "no-cache"
    csp = h["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert h["X-Content-Type-Options"] == "nosniff"
    assert b'<script type="module" src="app.js">' in body
    # Revalidation: the same ETag gives 304 with no body.
    status, h2, body2 = fetch(shared.admin_url + "/", {"If-None-Match": h["ETag"]})
    assert (status, body2) == (304, b"")


@pytest.mark.parametrize("path,mime", [
    ("/app.js", "text/javascript; charset=utf-8"),
    ("/pages/overview.js", "text/javascript; charset=utf-8"),
    ("/style.css", "text/css; charset=utf-8"),
    ("/favicon.svg", "image/svg+xml"),
    ("/vendor/preact.module.js", "text/javascript; charset=utf-8"),
    ("/vendor/uPlot.min.css", "text/css; charset=utf-8"),
])
def test_files_and_mime_types(shared, path, mime):
    status, h, body = fetch(shared.admin_url + path)
    assert status == 200, path
    assert h["Content-Type"] == mime
    assert body
    expected_cache = "public, max-age=86400" if path.startswith("/vendor/") else "no-cache"
    assert h["Cache-Control"] == expected_cache


@pytest.mark.parametrize("target", [
    b"/../CMakeLists.txt", b"/%2e%2e/CMakeLists.txt", b"/vendor/..%2f..%2fCMakeLists.txt",
    b"/%2e%2e%2f%2e%2e%2fetc%2fpasswd", b"//etc/passwd", b"/.gitignore", b"/package.json%00.js",
    b"/pages/", b"/nothing.js",
])
def test_no_way_out_of_web(shared, target):
    status, body = raw_get(shared, target)
    assert status == 404, target
    assert b"project(" not in body and b"root:" not in body


def test_api_paths_stay_json(shared):
    status, h, body = fetch(shared.admin_url + "/api/v1/nothing")
    assert status == 404
    assert h["Content-Type"] == "application/json"
    assert b'"code":"NOT_FOUND"' in body


def test_overview_shows_the_api_numbers(shared, browser, tmp_path):
    # Real traffic: two subscribers, a publisher, 1,234 messages of which 3 retained.
    subs = [shared.raw_connect("dash-sub-%d" % i) for i in range(2)]
    for i, s in enumerate(subs):
        s.subscribe([("plant/#", 0)], pid=1 + i)
    pub = shared.raw_connect("dash-pub")
    api = AdminClient(shared.admin_url)
    _, before = api.get("/api/v1/status")  # the broker's own $SYS retained messages are counted too
    for i in range(1231):
        pub.publish("plant/line1/m%d" % (i % 10), b"%d" % i)
    for i in range(3):
        pub.publish("plant/retained/%d" % i, b"r%d" % i, retain=True)
    pub.ping()  # every publish before it has been handled
    _, status = api.get("/api/v1/status")
    assert status["messages_received"] >= 1234
    assert status["connections"] == 3 and status["retained"] == before["retained"] + 3

    def shown(n):
        return "^" + re.escape(format(n, ",")) + "$"

    browser.open(shared.admin_url + "/#/overview")
    browser.wait_text("[data-testid=connection]", "Live")
    browser.wait_text("[data-testid=connections]", shown(3))
    browser.wait_text("[data-testid=retained]", shown(status["retained"]))
    browser.wait_text("[data-testid=subscriptions]", shown(status["subscriptions"]))
    browser.wait_text("[data-testid=sessions]", shown(status["sessions"]))
    # The counters stand still now: the page shows exactly the API's.
    _, status = api.get("/api/v1/status")
    _, stats = api.get("/api/v1/stats")
    browser.wait_text("[data-testid=received]", shown(status["messages_received"]))
    browser.wait_text("[data-testid=sent]", shown(status["messages_sent"]))
    browser.wait_text("[data-testid=dropped]", shown(stats["messages.dropped"]))
    assert "," in browser.text("[data-testid=received]")  # thousands separators
    assert browser.text("[data-testid=version]") == status["version"]
    assert browser.text("[data-testid=listeners]") == "\n".join(status["listeners"])
    # The chart is drawn (uPlot's canvas) and the tab title names the page.
    assert browser.count(".chart canvas") == 1
    assert browser.eval("document.title") == "Overview · Strata"
    browser.screenshot(tmp_path / "overview-light-1280.png")
    assert browser.errors() == []


def test_overview_phone_dark_and_keyboard(shared, browser, tmp_path):
    shared.raw_connect("dash-phone")
    browser.open(shared.admin_url + "/#/overview", width=390, height=844, scheme="dark")
    browser.wait_text("[data-testid=connection]", "Live")
    browser.wait_text("[data-testid=connections]", r"^\d")
    # Nothing wider than the screen: no sideways scrolling on a phone.
    assert browser.eval("document.documentElement.scrollWidth") <= 390
    # Dark mode took: the page background is dark.
    bg = browser.eval("getComputedStyle(document.body).backgroundColor")
    assert sum(int(v) for v in re.findall(r"\d+", bg)[:3]) < 150, bg
    # Keyboard: Tab reaches the brand link, then the Overview tab.
    focused = []
    for _ in range(6):
        browser.press("Tab")
        focused.append(browser.eval("document.activeElement.textContent.trim()"))
    assert "Strata" in focused and "Overview" in focused, focused
    browser.screenshot(tmp_path / "overview-dark-390.png")
    assert browser.errors() == []


def test_deep_link_unknown_page_falls_back(shared, browser):
    browser.open(shared.admin_url + "/#/no-such-page")
    browser.wait_text("nav [aria-current=page]", "^Overview$")
    assert browser.errors() == []
