"""The dashboard's Namespace page (web/pages/namespace*.js, issue 15) in a
real headless Chromium against one real broker with [uns] and [historian]
on, fed by paho: topics appear in the tree and their values update live;
search by MQTT filter and by regex shows exactly the matching topics; the
history chart holds the points that were recorded and the CSV export says
the same; a publish from the panel reaches a paho subscriber with its QoS
and user property; a payload a contract refuses is not sent and the
panel says why in the contract's words; retained messages are cleared by
filter after a dry run lists them, and on one topic. Every test saves a
screenshot in its tmp folder; with STRATA_DOC_SCREENSHOTS=1 the history
test also writes docs/img/dashboard-namespace.png (the README's)."""

import json
import os
import re
import time

import pytest

import brokerproc
import pahoc
from adminhttp import AdminClient, quote

pytestmark = pytest.mark.strata_only

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CONFIG = {
    "uns": {"enabled": True},
    "historian": {"enabled": True, "filters": ["plant/#"], "timestamp_field": "ts"},
}


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    b = brokerproc.Broker(tmp_path_factory.mktemp("dashboard-ns"), CONFIG)
    b.start()
    yield b
    b.close_clients()
    assert b.stop() == 0
    assert b.health_problems() == []


@pytest.fixture
def api(shared):
    return AdminClient(shared.admin_url)


def paho(broker, client_id):
    c = pahoc.PahoClient(broker.host, broker.port, client_id, pahoc.V5, True)
    broker.clients.append(c)
    c.connect()
    return c


def wait_until(fn, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("%s not met within %.0f s" % (what, timeout))


def in_catalog(api, topic, messages=1):
    def check():
        s, body = api.get("/api/v1/topics/" + quote(topic))
        return s == 200 and body["messages"] >= messages
    wait_until(check, what="%s in the catalog" % topic)


def choose(browser, selector, value):
    """Picks an option of a <select> as a user would (a change event)."""
    browser.eval("(() => { const s = document.querySelector(%s); s.value = %s;"
                 " s.dispatchEvent(new Event('change', {bubbles: true})); return true; })()"
                 % (json.dumps(selector), json.dumps(value)))


def shown_topics(browser):
    return browser.eval("[...document.querySelectorAll('[data-testid=results] .ns-result')]"
                        ".map(b => b.dataset.topic)")


def test_tree_shows_topics_live(shared, api, browser, tmp_path):
    pub = paho(shared, "ns-tree-pub")
    pub.publish("plant/tree/line1/temp", b'{"v": 1, "unit": "C"}', qos=1)
    browser.open(shared.admin_url + "/#/namespace")
    browser.wait_text("nav [aria-current=page]", "^Namespace$")
    # Opened by clicks, level by level: plant, tree, line1, then the topic.
    for path in ("plant", "plant/tree", "plant/tree/line1"):
        browser.wait("button.ns-name[data-path='%s']" % path)
        browser.click("button.ns-name[data-path='%s']" % path)
    browser.wait("button.ns-name[data-path='plant/tree/line1/temp']")
    browser.wait_text("[data-row='plant/tree/line1'] [data-testid=node-meta]", r"^1 topic\b")
    browser.click("button.ns-name[data-path='plant/tree/line1/temp']")
    browser.wait_text("[data-testid=topic-name]", "^plant/tree/line1/temp$")
    browser.wait_text("[data-testid=value]", r'"v": 1,')
    assert browser.text("[data-testid=publisher]") == "ns-tree-pub"
    assert browser.text("[data-testid=qos]") == "1"
    assert "#/namespace?topic=plant%2Ftree%2Fline1%2Ftemp" in browser.eval("location.hash")
    # A second topic appears in the open tree; the first one's value changes live, with its diff.
    pub.publish("plant/tree/line1/speed", b"1500", qos=1)
    browser.wait("button.ns-name[data-path='plant/tree/line1/speed']")
    browser.wait_text("[data-row='plant/tree/line1'] [data-testid=node-meta]", r"^2 topics\b")
    pub.publish("plant/tree/line1/temp", b'{"v": 2, "unit": "C"}', qos=1,
                properties=pahoc.props(UserProperty=[("site", "berlin")], ContentType="application/json"))
    browser.wait_text("[data-testid=value]", r'"v": 2,')
    # The rows whose subtree got messages flash (a class that restarts a CSS
    # animation on each poll that saw new messages; data-updates counts those polls).
    browser.wait("[data-row='plant/tree/line1']:not([data-updates='0'])")
    browser.wait_text("[data-testid=diff]", r"^/v 1\s*→\s*2$")
    browser.wait_text("[data-testid=messages]", "^2$")
    browser.wait_text("[data-testid=user-properties]", "^site = berlin$")
    browser.wait_text("[data-testid=property-content_type]", "^application/json$")
    browser.screenshot(tmp_path / "namespace-tree-1280.png")
    # Keyboard: from the first topic's row (speed < temp) ArrowUp reaches
    # their node, ArrowDown goes back, ArrowLeft closes the node, ArrowRight opens it.
    browser.eval("document.querySelector(\"button.ns-name[data-path='plant/tree/line1/speed']\").focus(), true")
    browser.press("ArrowUp")
    assert browser.eval("document.activeElement.dataset.path") == "plant/tree/line1"
    browser.press("ArrowDown")
    assert browser.eval("document.activeElement.dataset.path") == "plant/tree/line1/speed"
    browser.press("ArrowUp")
    assert browser.eval("document.activeElement.dataset.path") == "plant/tree/line1"
    browser.press("ArrowLeft")
    assert browser.count("button.ns-name[data-path='plant/tree/line1/temp']") == 0
    browser.press("ArrowRight")
    browser.wait("button.ns-name[data-path='plant/tree/line1/temp']")
    # Tab: from the search box past its mode to the tree's one row in the Tab order, the selected one.
    browser.eval("document.querySelector('[data-testid=search]').focus(), true")
    browser.press("Tab")
    browser.press("Tab")
    assert browser.eval("document.activeElement.dataset.path") == "plant/tree/line1/temp"
    browser.press("Enter")
    browser.wait_text("[data-testid=topic-name]", "^plant/tree/line1/temp$")
    assert browser.errors() == []


def test_search_by_filter_and_regex(shared, api, browser, tmp_path):
    pub = paho(shared, "ns-search-pub")
    topics = ["plant/s/a/temp", "plant/s/b/temp", "plant/s/b/speed", "plant/s/c/temp", "plant/sx/a/temp"]
    for t in topics:
        pub.publish(t, b"1", qos=1)
    for t in topics:
        in_catalog(api, t)
    browser.open(shared.admin_url + "/#/namespace", width=390, height=844, scheme="dark")
    browser.fill("[data-testid=search]", "plant/s/+/temp")
    browser.wait_text("[data-testid=result-count]", r"^3 topics \(filter\)")
    assert shown_topics(browser) == ["plant/s/a/temp", "plant/s/b/temp", "plant/s/c/temp"]
    browser.fill("[data-testid=search]", "/^plant/s.?/(a|b)/temp$/")
    browser.wait_text("[data-testid=result-count]", r"^3 topics \(regex\)")
    assert shown_topics(browser) == ["plant/s/a/temp", "plant/s/b/temp", "plant/sx/a/temp"]
    # Plain text is a substring; a bad regex is the API's 400, shown.
    browser.fill("[data-testid=search]", "b/sp")
    browser.wait_text("[data-testid=result-count]", r"^1 topic \(text\)")
    assert shown_topics(browser) == ["plant/s/b/speed"]
    browser.fill("[data-testid=search]", "/(/")
    browser.wait_text("[data-testid=search-error]", "regex")
    # A phone in dark mode: nothing wider than the screen.
    browser.fill("[data-testid=search]", "plant/s/#")
    browser.wait_text("[data-testid=result-count]", r"^4 topics")
    browser.click(".ns-result[data-topic='plant/s/b/speed']")
    browser.wait_text("[data-testid=topic-name]", "^plant/s/b/speed$")
    assert browser.eval("document.documentElement.scrollWidth") <= 390
    browser.screenshot(tmp_path / "namespace-search-dark-390.png")
    # The API's 400 for "/(/" was logged as a failed load: expected, nothing else.
    assert browser.errors(allow=("status of 400",)) == []


def set_custom(browser, from_min, to_min):
    """Types a custom range, minutes from now, as a user would (local time)."""
    local = "(() => { const d = new Date(Date.now() + %d * 60e3);" \
            " return new Date(d - d.getTimezoneOffset() * 60e3).toISOString().slice(0, 16); })()"
    browser.fill("[data-testid=custom-from]", browser.eval(local % from_min))
    browser.fill("[data-testid=custom-to]", browser.eval(local % to_min))
    browser.click("[data-testid=custom-show]")


def test_history_chart_and_csv(shared, api, browser, tmp_path):
    pub = paho(shared, "ns-hist-pub")
    values = [12.5, 13, 14.25, 13.5, 15, 16.75, 15.5, 17, 18.25, 17.5]
    for v in values:
        pub.publish("plant/hist/press/level", json.dumps(v).encode(), qos=1)
    # A JSON topic with its own times, a minute apart over the last ten minutes.
    rpm = [1200, 1215, 1190, 1230, 1260, 1245, 1270, 1255, 1290, 1310]
    now_ms = int(time.time() * 1000)
    for i, r in enumerate(rpm):
        pub.publish("plant/hist/press/state",
                    json.dumps({"ts": now_ms - (len(rpm) - i) * 60000, "rpm": r, "on": i % 3 != 0}).encode(), qos=1)

    def recorded():
        s, body = api.get("/api/v1/history?series=plant/hist/press/level&epoch=ms")
        return s == 200 and len(body["results"][0]["series"][0]["values"]) == len(values)
    wait_until(recorded, what="10 points in the history")
    s, body = api.get("/api/v1/history?series=plant/hist/press/level&epoch=ms")
    recorded_points = body["results"][0]["series"][0]["values"]
    assert [p[1] for p in recorded_points] == values

    browser.open(shared.admin_url + "/#/namespace?topic=" + quote("plant/hist/press/level"))
    browser.wait_text("[data-testid=topic-name]", "^plant/hist/press/level$")
    browser.wait("[data-testid=history-chart][data-count='10']")
    got = json.loads(browser.eval("document.querySelector('[data-testid=history-chart]').dataset.values"))
    assert got == values
    assert browser.eval("document.querySelector('[data-testid=history-chart]').dataset.series") == "plant/hist/press/level"
    assert browser.count("[data-testid=history-chart] canvas") == 1
    # An eleventh point shows without touching the page.
    pub.publish("plant/hist/press/level", b"19", qos=1)
    browser.wait("[data-testid=history-chart][data-count='11']", timeout_ms=15000)
    # CSV export: the file the page hands the browser has every point.
    name, csv = browser.download("[data-testid=export-csv]")
    assert name == "plant_hist_press_level.csv"
    lines = csv.strip().split("\n")
    assert lines[0] == "series,time,value"
    assert [line.split(",")[2] for line in lines[1:]] == [("%g" % v) for v in values + [19]]
    assert all(line.startswith("plant/hist/press/level,") for line in lines[1:])
    # An aggregate over the range: one bucket's count is every point.
    choose(browser, "[data-testid=history-agg]", "count")
    browser.wait_text("[data-testid=history-note]", r"count values per 30s")  # an hour in 120 buckets
    total = wait_until(lambda: sum(json.loads(browser.eval(
        "document.querySelector('[data-testid=history-chart]').dataset.values || '[]'"))) == 11 or None,
        what="the counts add up to 11")
    assert total
    choose(browser, "[data-testid=history-agg]", "raw")
    browser.wait("[data-testid=history-chart][data-count='11']")
    # A JSON topic: one series per numeric field, picked in a list.
    browser.open(shared.admin_url + "/#/namespace?topic=" + quote("plant/hist/press/state"))
    browser.wait("[data-testid=history-chart][data-count='10']")
    options = browser.eval("[...document.querySelectorAll('[data-testid=history-series] option')].map(o => o.value)")
    assert sorted(options) == ["plant/hist/press/state#on", "plant/hist/press/state#rpm"]
    choose(browser, "[data-testid=history-series]", "plant/hist/press/state#rpm")
    browser.wait("[data-testid=history-chart][data-series='plant/hist/press/state#rpm']")
    browser.click("[data-range='15m']")
    browser.wait_text("[data-testid=history-note]", "^10 points")
    assert json.loads(browser.eval("document.querySelector('[data-testid=history-chart]').dataset.values")) == rpm
    # A custom range, in the browser's zone: the last half hour has the ten
    # points, the hour before it none.
    browser.click("[data-range='custom']")
    set_custom(browser, -30, 2)
    browser.wait_text("[data-testid=history-note]", "^10 points")
    set_custom(browser, -120, -60)
    browser.wait_text("[data-testid=history-note]", "^0 points")
    browser.click("[data-range='15m']")
    browser.wait_text("[data-testid=history-note]", "^10 points")
    # Times in the browser's zone, UTC on hover.
    title = browser.eval("document.querySelector('[data-testid=last-seen] time').title")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? UTC", title), title
    browser.eval("scrollTo(0, 0), true")
    browser.screenshot(tmp_path / "namespace-history-1280.png")
    if os.environ.get("STRATA_DOC_SCREENSHOTS") == "1":
        os.makedirs(os.path.join(ROOT, "docs", "img"), exist_ok=True)
        browser.screenshot(os.path.join(ROOT, "docs", "img", "dashboard-namespace.png"))
    assert browser.errors() == []


def test_publish_from_the_panel(shared, api, browser, tmp_path):
    sub = paho(shared, "ns-pub-sub")
    sub.subscribe("plant/pub/#", qos=2)
    pub = paho(shared, "ns-pub-seed")
    pub.publish("plant/pub/cmd", b'{"start": false}', qos=1)
    in_catalog(api, "plant/pub/cmd")
    assert sub.wait_message().payload == b'{"start": false}'
    browser.open(shared.admin_url + "/#/namespace?topic=" + quote("plant/pub/cmd"))
    browser.wait_text("[data-testid=topic-name]", "^plant/pub/cmd$")
    # Prefilled with the topic and its last value.
    assert browser.eval("document.querySelector('[data-testid=publish-topic]').value") == "plant/pub/cmd"
    assert browser.eval("document.querySelector('[data-testid=publish-payload]').value") == '{"start": false}'
    browser.fill("[data-testid=publish-payload]", '{"start": true}')
    choose(browser, "[data-testid=publish-qos]", "1")
    browser.click("[data-testid=add-prop]")
    browser.fill("[data-testid=prop-key]", "operator")
    browser.fill("[data-testid=prop-value]", "dana")
    browser.click("[data-testid=publish-send]")
    browser.wait_text("[data-testid=publish-result]", "^Published to plant/pub/cmd.$")
    m = sub.wait_message()
    assert (m.topic, m.payload, m.qos, m.retain) == ("plant/pub/cmd", b'{"start": true}', 1, False)
    assert m.prop("UserProperty") == [("operator", "dana")]
    # Retained, to another topic.
    browser.fill("[data-testid=publish-topic]", "plant/pub/setpoint")
    browser.fill("[data-testid=publish-payload]", "42")
    browser.click("[data-testid=publish-retain]")
    browser.click("[data-testid=publish-send]")
    browser.wait_text("[data-testid=publish-result]", "^Published to plant/pub/setpoint.$")
    m = sub.wait_message()
    assert (m.topic, m.payload, m.retain) == ("plant/pub/setpoint", b"42", False)  # live delivery: retain 0
    s, body = api.get("/api/v1/retained/" + quote("plant/pub/setpoint"))
    assert s == 200 and body["payload"] == "42"
    sub.expect_no_message(0.2)
    browser.screenshot(tmp_path / "namespace-publish.png")
    assert browser.errors() == []


def test_contract_refuses_in_the_panel(shared, api, browser, tmp_path):
    s, body = api.put("/api/v1/contracts/speed", {
        "filter": "plant/c/+/speed", "version": 3, "action": "reject",
        "schema": {"type": "object", "required": ["rpm"],
                   "properties": {"rpm": {"type": "number", "maximum": 3000}}}})
    assert s == 200, body
    sub = paho(shared, "ns-c-sub")
    sub.subscribe("plant/c/#", qos=1)
    pub = paho(shared, "ns-c-pub")
    pub.publish("plant/c/m1/speed", b'{"rpm": 1200}', qos=1)
    assert sub.wait_message().payload == b'{"rpm": 1200}'
    in_catalog(api, "plant/c/m1/speed")
    browser.open(shared.admin_url + "/#/namespace?topic=" + quote("plant/c/m1/speed"))
    browser.wait_text("[data-testid=contracts]", "^speed v3$")
    browser.fill("[data-testid=publish-payload]", '{"rpm": 9000}')
    browser.click("[data-testid=publish-send]")
    browser.wait_text("[data-testid=publish-result]",
                      r"^Not sent: contract speed v3: out_of_range at /rpm \(maximum\)\.$")
    assert browser.count("[data-testid=publish-anyway]") == 0  # a reject contract: no way around it
    browser.screenshot(tmp_path / "namespace-contract-refused.png")
    # A payload the contract takes goes out; the refused one never did.
    browser.fill("[data-testid=publish-payload]", '{"rpm": 2500}')
    browser.click("[data-testid=publish-send]")
    browser.wait_text("[data-testid=publish-result]", "^Published to plant/c/m1/speed.$")
    assert sub.wait_message().payload == b'{"rpm": 2500}'
    sub.expect_no_message(0.2)
    s, body = api.get("/api/v1/contracts/speed")
    assert (body["matched"], body["failed"]) == (2, 0)  # the panel's test is not a publish
    # An observe contract lets a violating payload through: the panel says so
    # and sends it only when asked again.
    s, body = api.put("/api/v1/contracts/watch", {"filter": "plant/c/+/mode", "action": "observe", "shape": "number"})
    assert s == 200, body
    browser.fill("[data-testid=publish-topic]", "plant/c/m1/mode")
    browser.fill("[data-testid=publish-payload]", "auto")
    browser.click("[data-testid=publish-send]")
    browser.wait_text("[data-testid=publish-result]", r"^Not sent: contract watch v1: not_json")
    sub.expect_no_message(0.2)
    browser.click("[data-testid=publish-anyway]")
    browser.wait_text("[data-testid=publish-result]", "^Published to plant/c/m1/mode.$")
    m = sub.wait_message()
    assert (m.topic, m.payload) == ("plant/c/m1/mode", b"auto")
    # A client's violating publish: refused by the broker, and the topic, its
    # last violation and every node above it show the failing contract.
    pub.publish("plant/c/m1/speed", b'{"rpm": 9999}', qos=1)
    browser.wait_text("[data-testid=topic-status]", "^violating$")
    browser.wait_text("[data-testid=last-violation]", r"contract speed v3, out_of_range at /rpm \(maximum\)")
    browser.wait("[data-row='plant/c'] .ns-status.bad")
    browser.wait("[data-row='plant'] .ns-status.bad")
    sub.expect_no_message(0.2)
    assert browser.errors() == []


def retained(api):
    s, body = api.get("/api/v1/retained?topic=" + quote("plant/#"))
    return [x["topic"] for x in body["data"] if x["topic"].startswith("plant/ret")]


def test_clear_retained_by_filter_and_topic(shared, api, browser, tmp_path):
    pub = paho(shared, "ns-ret-pub")
    for t in ("plant/ret/l1/a", "plant/ret/l1/b", "plant/ret/l2/a", "plant/retx/a"):
        pub.publish(t, t.encode(), qos=1, retain=True)
    for t in ("plant/ret/l1/a", "plant/ret/l1/b", "plant/ret/l2/a", "plant/retx/a"):
        in_catalog(api, t)
    browser.open(shared.admin_url + "/#/namespace?topic=plant%2Fret")
    # The node's filter is offered; a dry run lists exactly the matching topics.
    browser.wait("[data-testid=node-pane]")
    assert browser.eval("document.querySelector('[data-testid=clear-filter]').value") == "plant/ret/#"
    browser.fill("[data-testid=clear-filter]", "plant/ret/+/a")
    browser.click("[data-testid=dry-run]")
    browser.wait_text("[data-testid=dry-run-list]", "^plant/ret/l1/a\nplant/ret/l2/a$")
    assert retained(api) == ["plant/ret/l1/a", "plant/ret/l1/b", "plant/ret/l2/a", "plant/retx/a"]
    browser.screenshot(tmp_path / "namespace-clear-dry-run.png")
    browser.click("[data-testid=confirm-clear]")
    browser.wait_text("[data-testid=clear-result]", r"^Deleted 2 retained messages under plant/ret/\+/a\.$")
    assert retained(api) == ["plant/ret/l1/b", "plant/retx/a"]
    # One topic, from its pane.
    browser.open(shared.admin_url + "/#/namespace?topic=" + quote("plant/retx/a"))
    browser.wait_text("[data-testid=retain]", "^yes$")
    browser.click("[data-testid=clear-topic]")
    browser.wait_text("[data-testid=clear-topic-result]", "deleted")
    assert api.get("/api/v1/retained/" + quote("plant/retx/a"))[0] == 404
    sub = paho(shared, "ns-ret-sub")
    sub.subscribe("plant/ret/#", qos=1)
    sub.subscribe("plant/retx/#", qos=1)
    assert sub.wait_message().topic == "plant/ret/l1/b"
    sub.expect_no_message(0.2)
    assert browser.errors() == []


def test_page_helpers_in_the_browser(shared, browser):
    """The page's pure helpers, imported by the browser from the served files."""
    browser.open(shared.admin_url + "/#/namespace")
    browser.wait("[data-testid=search]")
    got = browser.eval("""(async () => {
      const t = await import('/pages/namespace_topic.js');
      const n = await import('/pages/namespace.js');
      const l = await import('/lib.js');
      const p = await import('/pages/namespace_publish.js');
      return {
        diff: t.diff('{"a": 1, "b": {"c": [1, 2]}, "gone": true}', '{"a": 1, "b": {"c": [1, 3]}, "new/x": null}'),
        same: t.diff('7', '7'),
        text: t.diff('on', 'off'),
        pretty: t.pretty('{"a":[1,{"b":2}]}', false),
        queries: ['temp', 'a/+/b/#', '/^a.*z$/', 'a+b'].map((q) => n.searchQuery(q, 'auto')),
        forced: n.searchQuery('a/+/b', 'text'),
        matches: [['a/#', 'a'], ['a/+', 'a/b/c'], ['+/b', 'a/b'], ['#', '$SYS/x'], ['$SYS/#', '$SYS/x'], ['a/b', 'a/b/']]
          .map(([f, t]) => l.topicMatches(f, t)),
        reason: p.describe({name: 'speed', version: '2'}, {kind: 'out_of_range', pointer: '/rpm', detail: 'maximum'}),
        notJson: p.describe({name: 'c', version: '1'}, {kind: 'not_json', pointer: '', detail: 'invalid JSON'}),
      };
    })()""")
    assert got["diff"] == [
        {"path": "/b/c/1", "before": "2", "after": "3"},
        {"path": "/gone", "before": "true"},
        {"path": "/new~1x", "after": "null"},
    ]
    assert got["same"] == [] and got["text"] == [{"path": "", "before": "on", "after": "off"}]
    assert got["pretty"] == '{\n  "a": [\n    1,\n    {\n      "b": 2\n    }\n  ]\n}'
    assert got["queries"] == [{"kind": "text", "arg": "q=temp"}, {"kind": "filter", "arg": "match=a%2F%2B%2Fb%2F%23"},
                              {"kind": "regex", "arg": "regex=%5Ea.*z%24"}, {"kind": "text", "arg": "q=a%2Bb"}]
    assert got["forced"] == {"kind": "text", "arg": "q=a%2F%2B%2Fb"}
    assert got["matches"] == [True, False, True, False, True, False]
    assert got["reason"] == "contract speed v2: out_of_range at /rpm (maximum)"
    assert got["notJson"] == "contract c v1: not_json (invalid JSON)"
    assert browser.errors() == []
