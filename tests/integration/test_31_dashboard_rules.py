"""The dashboard's Rules and Contracts pages (web/pages/rules.js and
contracts.js, issue 15) in a real headless Chromium against a real broker
with a rules directory and a [uns] contract, with real MQTT traffic from
paho: a rule edited in the CodeMirror editor, dry-run on a recent value
picked from the namespace, a syntax error shown with its line, saved and
seen running on the next message, disabled and enabled; the contracts'
counts after one passing and one failing payload, the violation in the
feed, and the test-a-payload form giving the validator's answer. Each
page at 1280x800 light and 390 px dark, with no console errors.
Screenshots go to the test's tmp folder (rules-*.png, contracts-*.png)."""

import json
import re

import pytest

import brokerproc
import pahoc
from adminhttp import AdminClient
from common import wait_until

pytestmark = pytest.mark.strata_only

V1 = """\
topics = "dash/in/#"
function on_message(msg)
  msg.payload = "v1:" .. msg.payload
end
"""
V2 = """\
topics = "dash/in/#"
function on_message(msg)
  msg.payload = "v2:" .. string.upper(msg.payload)
end
"""
BROKEN = """\
topics = "dash/in/#"
function on_message(msg)
  msg.payload = "v2:" ..
end
"""
FAULTY = """\
topics = "dash/in/#"
function on_message(msg)
  error("no cold payloads")
end
"""
SCHEMA = {"type": "object", "required": ["value"],
          "properties": {"value": {"type": "number", "maximum": 100}, "unit": {"type": "string"}}}


@pytest.fixture(scope="module")
def rb(tmp_path_factory):
    d = tmp_path_factory.mktemp("dash-rules")
    (d / "rules").mkdir()
    (d / "rules" / "tag.lua").write_text(V1)
    (d / "temp.json").write_text(json.dumps(SCHEMA))
    b = brokerproc.Broker(d, {
        "rules": {"dir": str(d / "rules"), "reload_interval": 0},
        "uns": {"enabled": True, "contract": [
            {"name": "temp", "filter": "dash/+/temp", "schema": "temp.json", "version": 3, "action": "observe"}]},
    })
    b.start()
    yield b
    b.close_clients()
    assert b.stop() == 0
    assert b.health_problems() == []


def client(b, *filters):
    c = pahoc.PahoClient(b.host, b.port, "", pahoc.V5, True)
    b.clients.append(c)
    c.connect()
    for f in filters:
        c.subscribe(f, qos=1)
    return c


def payloads(sub, n):
    return [(m.topic, m.payload.decode()) for m in sub.wait_messages(n)]


def set_editor(browser, text):
    """Select everything in the editor and paste `text` over it."""
    browser.click(".editor .CodeMirror-lines")
    browser.press("Control+A")
    browser.insert_text(text)
    wait_until(lambda: browser.eval("document.querySelector('.editor .CodeMirror').CodeMirror.getValue()") == text,
               timeout=5, what="the editor holding the new text")


def micros(us):
    """As the page shows a time per message (web/lib.js micros)."""
    if us < 1000:
        return format(us, ",") + " µs"
    return ("%.1f" % (us / 1000)).replace(".0", "") + " ms"


def rule_row(name, cell):
    return "tr[data-rule=%s] [data-testid=%s]" % (name, cell)


def test_rule_edit_dry_run_save_and_toggle(rb, browser, tmp_path):
    api = AdminClient(rb.admin_url)
    sub = client(rb, "dash/in/#")
    pub = client(rb)
    pub.publish("dash/in/a", "hello", qos=1)
    assert payloads(sub, 1) == [("dash/in/a", "v1:hello")]

    browser.open(rb.admin_url + "/#/rules/tag")
    # The list: the counters the API gives, p50/p99 with their unit.
    _, listed = api.get("/api/v1/rules")
    tag = next(r for r in listed["rules"] if r["name"] == "tag")
    assert tag["matched"] == 1 and tag["passed"] == 1
    browser.wait_text(rule_row("tag", "matched"), "^1$")
    browser.wait_text(rule_row("tag", "state"), "^Enabled$")
    assert browser.text(rule_row("tag", "p50")) == micros(tag["p50_us"])
    assert browser.text(rule_row("tag", "p99")) == micros(tag["p99_us"])
    # The editor holds the rule's source, highlighted as Lua.
    browser.wait(".editor .CodeMirror")
    browser.wait_text(".editor .CodeMirror-code", "v1:")
    assert browser.eval("document.querySelector('.editor .CodeMirror').CodeMirror.getValue()") == V1
    assert browser.count(".editor .cm-keyword") >= 2  # function, end
    assert browser.count(".editor .cm-string") >= 2

    # A sample picked from the namespace's recent values: exactly what the
    # catalog holds for dash/in/a.
    _, topic = api.get("/api/v1/topics/" + "dash%2Fin%2Fa")
    browser.fill("[data-testid=pick-filter]", "dash/in/#")
    browser.click("form.pick button[type=submit]")
    browser.click("[data-testid=picks] button")
    wait_until(lambda: browser.eval("document.querySelector('[data-testid=sample-payload-0]').value") == topic["value"],
               timeout=10, what="the picked value in the sample")
    assert browser.eval("document.querySelector('[data-testid=sample-topic-0]').value") == "dash/in/a"

    # A syntax error: the dry run names its line and the editor marks it.
    set_editor(browser, BROKEN)
    browser.click("[data-testid=dry-run-button]")
    browser.wait_text("[data-testid=rule-error]", r"^Line 4: .*near 'end'")
    assert browser.text(".editor .cm-error-line .CodeMirror-linenumber") == "4"
    # Saving it is refused; the running version stays.
    browser.click("[data-testid=save]")
    browser.wait_text("[data-testid=note]", r"^Not saved .*line 4: ")
    pub.publish("dash/in/a", "still", qos=1)
    assert payloads(sub, 1) == [("dash/in/a", "v1:still")]

    # A fault while running: its line too, and the message passes unchanged.
    set_editor(browser, FAULTY)
    browser.click("[data-testid=dry-run-button]")
    browser.wait_text("[data-testid=rule-error]", "^Line 3: .*no cold payloads$")
    assert browser.text(".editor .cm-error-line .CodeMirror-linenumber") == "3"
    browser.wait_text("[data-testid=result-0] [data-testid=result]", "^pass dash/in/a " + re.escape(topic["value"]) + "$")
    assert browser.text("[data-testid=modified]") == "Modified"

    # The edited rule dry-runs to what it computes, as the API's dry run says.
    set_editor(browser, V2)
    browser.click("[data-testid=dry-run-button]")
    expected = "v2:" + topic["value"].upper()
    _, dry = api.post("/api/v1/rules/test", {"source": V2, "messages": [{"topic": "dash/in/a", "payload": topic["value"]}]})
    assert dry["messages"][0]["passed"]["payload"] == expected
    browser.wait_text("[data-testid=result-0] [data-testid=result]", "^pass dash/in/a " + re.escape(expected) + "$")
    assert browser.count("[data-testid=rule-error]") == 0 and browser.count(".cm-error-line") == 0
    browser.screenshot(tmp_path / "rules-light-1280.png")

    # Saved: the broker loads it, and the next real message runs through it.
    browser.click("[data-testid=save]")
    browser.wait_text("[data-testid=note]", "^Saved tag")
    assert browser.count("[data-testid=modified]") == 0
    _, saved = api.get("/api/v1/rules/tag")
    assert saved["source"] == V2
    pub.publish("dash/in/b", "next", qos=1)
    assert payloads(sub, 1) == [("dash/in/b", "v2:NEXT")]

    # Disable stops it, enable starts it again.
    browser.click(rule_row("tag", "toggle"))
    browser.wait_text(rule_row("tag", "state"), "^Disabled$")
    assert api.get("/api/v1/rules/tag")[1]["enabled"] is False
    pub.publish("dash/in/c", "plain", qos=1)
    assert payloads(sub, 1) == [("dash/in/c", "plain")]
    browser.click(rule_row("tag", "toggle"))
    browser.wait_text(rule_row("tag", "state"), "^Enabled$")
    pub.publish("dash/in/d", "again", qos=1)
    assert payloads(sub, 1) == [("dash/in/d", "v2:AGAIN")]
    browser.wait_text(rule_row("tag", "matched"), "^4$")  # hello, still, next, again
    # Chromium logs every answer >= 400 as a console error: the two 400s
    # the API gave the broken rule (dry run, save) are the only ones.
    errors = browser.errors()
    assert sorted(e["url"].split("/api/v1")[1] for e in errors) == ["/rules/tag", "/rules/test"], errors
    assert all("status of 400" in e["text"] for e in errors), errors


def test_rules_phone_dark_and_keyboard(rb, browser, tmp_path):
    browser.open(rb.admin_url + "/#/rules/tag", width=390, height=844, scheme="dark")
    browser.wait(".editor .CodeMirror")
    browser.wait_text(rule_row("tag", "state"), "^(Enabled|Disabled)$")
    assert browser.eval("document.documentElement.scrollWidth") <= 390
    bg = browser.eval("getComputedStyle(document.querySelector('.editor .CodeMirror')).backgroundColor")
    assert sum(int(v) for v in re.findall(r"\d+", bg)[:3]) < 150, bg
    # Tab indents inside the editor; Escape then Tab moves on to the buttons.
    browser.click(".editor .CodeMirror-lines")
    browser.press("Control+End")
    browser.press("Tab")
    assert browser.eval("document.querySelector('.editor .CodeMirror').CodeMirror.getValue()").endswith("\n  ")
    browser.press("Escape")
    browser.press("Tab")
    assert browser.eval("document.activeElement.dataset.testid") == "dry-run-button"
    # Ctrl-Enter in the editor dry-runs.
    browser.click(".editor .CodeMirror-lines")
    browser.press("Control+Enter")
    browser.wait("[data-testid=dry-run]")
    browser.screenshot(tmp_path / "rules-dark-390.png")
    assert browser.errors() == []


def test_new_rule_from_the_page(rb, browser):
    api = AdminClient(rb.admin_url)
    sub = client(rb, "dash/new/#")
    pub = client(rb)
    browser.open(rb.admin_url + "/#/rules/tag")
    browser.wait(".editor .CodeMirror")
    browser.click("[data-testid=new-rule]")
    browser.wait_text("#editor-title", "^New rule$")
    browser.wait_text(".editor .CodeMirror-code", "on_message")  # the template
    # A name the API would refuse is caught before it is sent.
    browser.fill("[data-testid=rule-name]", "no spaces")
    browser.click("[data-testid=save]")
    browser.wait_text("[data-testid=note]", "^A rule's name is 1 to 64")
    browser.fill("[data-testid=rule-name]", "fresh")
    source = 'topics = "dash/new/#"\nfunction on_message(msg)\n  msg.payload = msg.payload .. "!"\nend\n'
    set_editor(browser, source)
    browser.click("[data-testid=save]")
    # Saved under its name: the page moves to the rule's own address and lists it.
    wait_until(lambda: browser.eval("location.hash") == "#/rules/fresh", timeout=10, what="#/rules/fresh")
    browser.wait_text(rule_row("fresh", "state"), "^Enabled$")
    assert api.get("/api/v1/rules/fresh")[1]["source"] == source
    pub.publish("dash/new/x", "hi", qos=1)
    assert payloads(sub, 1) == [("dash/new/x", "hi!")]
    assert browser.errors() == []


def test_contracts_counts_feed_and_test_form(rb, browser, tmp_path):
    api = AdminClient(rb.admin_url)
    pub = client(rb)
    pub.publish("dash/m1/temp", json.dumps({"value": 21.5, "unit": "C"}), qos=1)
    pub.publish("dash/m2/temp", json.dumps({"value": 500, "unit": "C"}), qos=1)
    wait_until(lambda: api.get("/api/v1/contracts/temp")[1]["matched"] == 2, timeout=10, what="both checked")
    _, c = api.get("/api/v1/contracts/temp")
    assert (c["passed"], c["failed"], c["failed_by_kind"]["out_of_range"]) == (1, 1, 1)

    browser.open(rb.admin_url + "/#/contracts")
    row = "tr[data-contract=temp] [data-testid=%s]"
    browser.wait_text(row % "matched", "^2$")
    assert browser.text(row % "passed") == "1"
    assert browser.text(row % "failed") == "1"
    assert browser.text(row % "version") == "v3"
    assert browser.text(row % "kinds") == "out of range 1"
    # The violation in the feed, with its time in the browser's zone and UTC on hover.
    _, feed = api.get("/api/v1/contracts/violations")
    v = feed["data"][0]
    assert (v["topic"], v["kind"], v["pointer"]) == ("dash/m2/temp", "out_of_range", "/value")
    browser.wait_text("[data-testid=violations] tbody tr", "dash/m2/temp")
    assert browser.text("[data-testid=violations] tbody tr [data-testid=kind]") == "out of range at /value (maximum)"
    assert browser.count("[data-testid=violations] tbody tr") == 1
    assert browser.eval("document.querySelector('[data-testid=violations] time').title").endswith(" UTC")

    # The chosen contract's schema beside the form, to write a payload against.
    browser.wait("[data-testid=schema]")
    assert json.loads(browser.text("[data-testid=schema]")) == SCHEMA
    # Test a payload: the page shows the validator's answer.
    for sample in ['{"value": 7, "unit": "C"}', '{"value": "hot"}', "not json"]:
        _, answer = api.post("/api/v1/contracts/temp/test", {"samples": [sample]})
        want = answer["results"][0]
        browser.fill("[data-testid=test-payload]", sample)
        browser.click("[data-testid=test-button]")
        if want["valid"]:
            browser.wait_text("[data-testid=test-answer]", "^Valid for temp$")
        else:
            browser.wait_text("[data-testid=test-answer]",
                              "^Invalid for temp: " + re.escape(want["kind"].replace("_", " ")))
            if want["pointer"]:
                assert " at " + want["pointer"] in browser.text("[data-testid=test-answer]")
    browser.screenshot(tmp_path / "contracts-light-1280.png")
    assert browser.errors() == []

    browser.open(rb.admin_url + "/#/contracts", width=390, height=844, scheme="dark")
    browser.wait_text(row % "matched", "^2$")
    browser.wait_text("[data-testid=violations] tbody tr", "dash/m2/temp")
    assert browser.eval("document.documentElement.scrollWidth") <= 390
    browser.screenshot(tmp_path / "contracts-dark-390.png")
    assert browser.errors() == []
