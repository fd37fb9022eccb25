"""The dashboard's operations pages (issue 15) in a real headless Chromium
against one strata bridged to a real mosquitto, with real paho clients:
the Overview's hour of history (GET /api/v1/stats/history) and alarms
(GET /api/v1/alarms: a bridge outbox filling), the Clients page (a paho
client listed, its subscriptions in the detail, kicked from the page: paho
sees the disconnect), Subscriptions & retained (a retained message listed
and deleted: a new subscriber gets none), and Bridges (paused and resumed
from the page; the API agrees). Every page at 1280x800 light and 390 px
dark with no console errors. Screenshots go to the test's tmp folder; with
STRATA_DOC_SCREENSHOTS=1 the Overview's also to docs/img/dashboard-overview.png
(the README shows it)."""

import os
import re
import time
import urllib.parse

import pytest

import brokerproc
import pahoc
from adminhttp import AdminClient
from common import wait_until
from test_24_bridge import bridge, edge_config, start

pytestmark = pytest.mark.skipif(brokerproc.KIND != "strata", reason="the dashboard is strata's")

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUTBOX_MAX = 10  # the bridge's max_messages: 8 queued is the 80 % alarm


@pytest.fixture(scope="module")
def peers(tmp_path_factory):
    d = tmp_path_factory.mktemp("dash-ops")
    mosq = start(d, "mosq", {}, kind="mosquitto")
    rules = d / "rules"
    rules.mkdir()
    (rules / "idle.lua").write_text('topics = "idle/#"\nfunction on_message(msg)\n  return true\nend\n')
    cfg = edge_config([
        bridge("factory", mosq.port, [{"filter": "plant/#", "remote": "edge/{topic}", "qos": 1}],
               max_messages=OUTBOX_MAX)])
    cfg["rules"] = {"enabled": True, "dir": str(rules)}
    cfg["uns"] = {"enabled": True,
                  "contract": [{"name": "level", "filter": "tank/#", "shape": "number", "action": "observe"}]}
    edge = start(d, "edge", cfg)
    yield edge, mosq
    edge.close_clients()
    assert edge.stop() == 0
    assert edge.health_problems() == []
    mosq.stop()


@pytest.fixture
def api(peers):
    return AdminClient(peers[0].admin_url)


def paho(edge, client_id):
    c = pahoc.PahoClient(edge.host, edge.port, client_id)
    c.connect()
    return c


def q(s):
    return urllib.parse.quote(s, safe="")


def bridge_state(api):
    status, b = api.get("/api/v1/bridges/factory")
    assert status == 200
    return b


def alarm_ids(api):
    status, body = api.get("/api/v1/alarms")
    assert status == 200
    return [(a["id"], a["subject"], a["severity"]) for a in body["alarms"]]


def test_stats_history_endpoint(peers, api):
    status, h = api.get("/api/v1/stats/history")
    assert status == 200
    assert (h["interval_seconds"], h["capacity"]) == (10, 360)
    assert len(h["samples"]) >= 1  # taken when the admin server started
    first = h["samples"][0]
    assert set(first) == {"time_ms", "connections", "messages_in_per_second", "messages_out_per_second",
                          "dropped", "retained", "sessions", "bridges"}
    assert [b["name"] for b in first["bridges"]] == ["factory"]
    assert set(first["bridges"][0]) == {"name", "lag_ms", "queued_messages", "queued_bytes"}
    last = h["samples"][-1]["time_ms"]
    # ?since= answers only newer samples.
    assert api.get("/api/v1/stats/history?since=%d" % last)[1]["samples"] == []
    assert api.get("/api/v1/stats/history?since=x")[0] == 400
    # 100 messages now: the samples after `last` count them (rate x interval),
    # up to the first sample taken after the last PUBACK.
    pub = paho(peers[0], "hist-pub")
    for i in range(100):
        pub.publish("hist/x", b"%d" % i, qos=1)
    pub.close()
    done_ms = time.time() * 1000

    def newer():
        samples = api.get("/api/v1/stats/history?since=%d" % last)[1]["samples"]
        return samples if samples and samples[-1]["time_ms"] > done_ms else None
    samples = wait_until(newer, timeout=25, interval=0.5, what="a sample after the publishes")
    counted, before = 0.0, last
    for s in samples:
        assert s["time_ms"] > before
        counted += s["messages_in_per_second"] * (s["time_ms"] - before) / 1000.0
        before = s["time_ms"]
    assert round(counted) >= 100, samples


def test_overview_alarms_and_history(peers, api, browser, tmp_path):
    edge, _ = peers
    assert ("bridge.outbox_filling", "factory", "warning") not in alarm_ids(api)
    # The bridge paused, 9 of its 10 messages queued: its outbox is filling.
    assert api.post("/api/v1/bridges/factory/pause")[0] == 200
    pub = paho(edge, "alarm-pub")
    for i in range(OUTBOX_MAX - 1):
        pub.publish("plant/line1/temp", b'{"value": %d}' % i, qos=1)
    pub.close()
    assert bridge_state(api)["queued_messages"] == OUTBOX_MAX - 1
    assert ("bridge.outbox_filling", "factory", "warning") in alarm_ids(api)

    browser.open(edge.admin_url + "/#/overview")
    browser.wait_text("[data-testid=connection]", "Live")
    browser.wait_text("[data-testid=alarms] [data-id='bridge.outbox_filling']", "factory is 90 % full")
    browser.wait_text("[data-testid=history-count]", r"^\d+ samples of 10 s")
    assert browser.count("[data-testid=history-chart] canvas") == 1
    browser.screenshot(tmp_path / "overview-alarm.png")
    if os.environ.get("STRATA_DOC_SCREENSHOTS") == "1":
        os.makedirs(os.path.join(ROOT, "docs", "img"), exist_ok=True)
        browser.screenshot(os.path.join(ROOT, "docs", "img", "dashboard-overview.png"))

    # Resumed: the outbox drains to the peer and the alarm goes.
    assert api.post("/api/v1/bridges/factory/resume")[0] == 200
    wait_until(lambda: bridge_state(api)["queued_messages"] == 0, timeout=15, what="the outbox drained")
    browser.wait("[data-testid=alarms]:not(:has([data-id='bridge.outbox_filling']))")
    assert browser.errors() == []


def test_alarms_for_rules_and_contracts(peers, api):
    edge, _ = peers
    ids = alarm_ids(api)
    assert not [a for a in ids if a[0] in ("rule.disabled", "rule.faulted", "contract.failing")], ids
    # A rule turned off by an operator is listed (info) until turned on again.
    assert api.post("/api/v1/rules/idle/disable")[0] == 200
    assert ("rule.disabled", "idle", "info") in alarm_ids(api)
    assert api.post("/api/v1/rules/idle/enable")[0] == 200
    assert ("rule.disabled", "idle", "info") not in alarm_ids(api)
    # A payload that breaks a contract makes it "failing".
    pub = paho(edge, "contract-pub")
    pub.publish("tank/1/level", b"12.5", qos=1)
    assert ("contract.failing", "level", "warning") not in alarm_ids(api)
    pub.publish("tank/1/level", b"not a number", qos=1)
    pub.close()
    status, body = api.get("/api/v1/alarms")
    failing = [a for a in body["alarms"] if a["id"] == "contract.failing"]
    assert failing == [{"id": "contract.failing", "severity": "warning", "subject": "level",
                        "message": "Contract level is failing: 1 of 2 payloads broke it since start"}]


def test_clients_page_lists_details_and_kicks(peers, api, browser, tmp_path):
    edge, _ = peers
    c = paho(edge, "ops-paho")
    c.subscribe("plant/+/temp", qos=1)
    c.subscribe("cmd/ops/#", qos=0)
    other = paho(edge, "bystander")
    browser.open(edge.admin_url + "/#/clients")
    browser.wait("[data-testid=clients] tbody tr")
    browser.fill("[data-testid=client-search]", "ops-pa")
    browser.wait_text("[data-testid=clients] tbody", r"^ops-paho\s")
    assert "bystander" not in browser.text("[data-testid=clients] tbody")
    browser.click("[data-testid=client-link]")
    browser.wait_text("[data-testid=client-detail] h2", "ops-paho")
    browser.wait_text("[data-testid=client-subscriptions]", r"cmd/ops/#\s+0[\s\S]*plant/\+/temp\s+1")
    browser.screenshot(tmp_path / "client-detail.png")
    # Kick asks first; Disconnect does it: paho sees the broker's DISCONNECT.
    browser.click("[data-testid=kick]")
    browser.click("[data-testid=kick-yes]")
    rc = c.wait_disconnected(timeout=10)
    assert rc != 0
    browser.wait_text("[data-testid=notice]", "Disconnected ops-paho")
    browser.wait("[data-testid=clients]:not(:has([href='#/clients/ops-paho']))")
    assert api.get("/api/v1/clients/ops-paho")[0] == 404
    assert api.get("/api/v1/clients/bystander")[0] == 200
    other.close()
    assert browser.errors() == []


def test_subscriptions_and_retained_delete(peers, api, browser, tmp_path):
    edge, _ = peers
    s = paho(edge, "sub-lister")
    s.subscribe("site/+/line/#", qos=1)
    pub = paho(edge, "ret-pub")
    pub.publish("site/a/ret/1", b"kept", qos=1, retain=True)
    pub.publish("site/a/ret/2", b"kept too", qos=1, retain=True)
    browser.open(edge.admin_url + "/#/subscriptions")
    browser.fill("[data-testid=sub-search]", "sub-list")
    browser.wait_text("[data-testid=subscriptions] tbody", r"^sub-lister\s+site/\+/line/#\s+1")
    browser.fill("[data-testid=retained-search]", "site/a/ret/#")
    browser.wait_text("[data-testid=retained] tbody", r"site/a/ret/1[\s\S]*site/a/ret/2")
    browser.screenshot(tmp_path / "subscriptions.png")
    browser.click("[data-testid=retained] tr[data-topic='site/a/ret/1'] [data-testid=delete-retained]")
    browser.click("[data-testid=delete-retained-yes]")
    browser.wait("[data-testid=retained] tbody:not(:has(tr[data-topic='site/a/ret/1']))")
    assert "site/a/ret/2" in browser.text("[data-testid=retained] tbody")
    assert api.get("/api/v1/retained/" + q("site/a/ret/1"))[0] == 404
    # A new subscriber gets the other retained message only, then the
    # sentinel published after it subscribed.
    fresh = paho(edge, "ret-fresh")
    fresh.subscribe("site/a/ret/#", qos=1)
    pub.publish("site/a/ret/sentinel", b"end", qos=1)
    got = fresh.wait_messages(2, timeout=5)
    assert [(m.topic, m.payload, m.retain) for m in got] == [
        ("site/a/ret/2", b"kept too", True), ("site/a/ret/sentinel", b"end", False)]
    for c in (s, pub, fresh):
        c.close()
    assert browser.errors() == []


def test_bridges_page_pause_and_resume(peers, api, browser, tmp_path):
    edge, _ = peers
    wait_until(lambda: bridge_state(api)["state"] == "connected", timeout=10, what="the bridge connected")
    browser.open(edge.admin_url + "/#/bridges")
    card = "[data-testid=bridge][data-name=factory]"
    browser.wait_text(card + " [data-testid=bridge-state]", "^connected$")
    browser.wait_text(card + " [data-testid=bridge-queued]", r"^0 msgs · 0 B$")
    assert browser.count(card + " [data-testid=bridge-chart-factory] canvas") == 1
    browser.click(card + " [data-testid=pause]")
    browser.wait_text(card + " [data-testid=bridge-state]", "^paused$")
    assert bridge_state(api)["state"] == "paused"
    browser.screenshot(tmp_path / "bridges-paused.png")
    browser.click(card + " [data-testid=resume]")
    browser.wait_text(card + " [data-testid=bridge-state]", "^connected$")
    assert bridge_state(api)["state"] == "connected"
    assert browser.errors() == []


@pytest.mark.parametrize("page", ["clients", "subscriptions", "bridges"])
def test_pages_on_a_phone_in_dark_mode(peers, browser, tmp_path, page):
    edge, _ = peers
    keep = paho(edge, "phone-%s" % page)
    browser.open(edge.admin_url + "/#/" + page, width=390, height=844, scheme="dark")
    browser.wait_text("[data-testid=connection]", "Live")
    browser.wait_text("nav [aria-current=page]", "^%s$" % page.capitalize())
    browser.wait("main h1")
    assert browser.eval("document.documentElement.scrollWidth") <= 390
    bg = browser.eval("getComputedStyle(document.body).backgroundColor")
    assert sum(int(v) for v in re.findall(r"\d+", bg)[:3]) < 150, bg
    # Keyboard: Tab reaches this page's tab in the navigation.
    focused = []
    for _ in range(12):
        browser.press("Tab")
        focused.append(browser.eval("document.activeElement.textContent.trim()"))
    assert page.capitalize() in focused, focused
    browser.screenshot(tmp_path / ("%s-dark-390.png" % page))
    keep.close()
    assert browser.errors() == []
