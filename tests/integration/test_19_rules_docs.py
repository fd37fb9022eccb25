"""docs/rules.md is what users write rules from: every example in its
"Examples" section is loaded here verbatim, from the file itself, and run —
through `strata --rules-test` with exact expected output, and the
downsampling and threshold examples also in a real broker with real MQTT
clients."""

import os
import re
import time

import pytest

import brokerproc
from extclients import mosquitto_pub
from rulesbroker import payloads, rules_broker, run_strata  # noqa: F401 (rules_broker: a fixture)

pytestmark = pytest.mark.strata_only

DOCS = os.path.join(brokerproc.REPO, "docs", "rules.md")


def doc_block(heading, lang="lua"):
    """The first ```lang block after `### heading` in docs/rules.md, verbatim."""
    with open(DOCS) as f:
        text = f.read()
    examples = text[text.index("\n## Examples\n"):]
    start = examples.index("\n### %s\n" % heading)
    m = re.compile(r"```%s\n(.*?)```" % lang, re.S).search(examples, start)
    assert m, "no %s block under %r" % (lang, heading)
    return m.group(1)


DOWNSAMPLING = "Downsampling per-second data to per-minute averages"
THRESHOLD = "Threshold filter: only readings above 80 °C"

# heading, sample messages, expected --rules-test output after the first line.
DRY_RUNS = [
    (DOWNSAMPLING, [("edge/s1/temperature", "21.5"), ("edge/s1/temperature", "22"), ("edge/s1/temperature", "n/a")],
     "message 1: edge/s1/temperature 21.5\n  drop\n"
     "message 2: edge/s1/temperature 22\n  drop\n"
     "message 3: edge/s1/temperature n/a\n  drop\n"
     "windows closed after the last message:\n"
     '  publish cloud/s1/temperature {"avg":21.75,"max":22,"min":21.5,"n":2} qos=1\n'),
    (THRESHOLD, [("furnace/f1/temp", "85"), ("furnace/f1/temp", "80"), ("furnace/f1/temp", "hot")],
     "message 1: furnace/f1/temp 85\n  pass furnace/f1/temp 85\n"
     "message 2: furnace/f1/temp 80\n  drop\n"
     "message 3: furnace/f1/temp hot\n  drop\n"),
    ("Deadband: only changes larger than 0.5",
     [("line/a/pressure", "20"), ("line/a/pressure", "20.3"), ("line/a/pressure", "20.6")],
     "message 1: line/a/pressure 20\n  pass line/a/pressure 20\n"
     "message 2: line/a/pressure 20.3\n  drop\n"
     "message 3: line/a/pressure 20.6\n  pass line/a/pressure 20.6\n"),
    ("JSON field mapping and unit conversion", [("plant/s1/raw", '{"tempF": 212, "ts": 1700000000}'),
                                                ("plant/s1/raw", "oops")],
     'message 1: plant/s1/raw {"tempF": 212, "ts": 1700000000}\n'
     '  pass plant/s1/temperature {"celsius":100,"ts":1700000000} unit=degC\n'
     "message 2: plant/s1/raw oops\n  drop\n"),
    ("Enrichment from a context table", [("devices/dev-17/temp", "72.5"), ("devices/dev-99/temp", "1")],
     "message 1: devices/dev-17/temp 72.5\n"
     '  publish acme/berlin/press/line1/cell2/temperature {"device":"dev-17","value":72.5} qos=1\n  drop\n'
     "message 2: devices/dev-99/temp 1\n  drop\n"),
    ("Republish to a new topic, and drop", [("in/a", "hello"), ("in/b", "")],
     "message 1: in/a hello\n  publish out/in/a hello\n  drop\n"
     "message 2: in/b \n  drop\n"),
    ("Emit to a named output", [("meter/m1", "5")],
     "message 1: meter/m1 5\n  emit local billing/m1 5\n  pass meter/m1 5\n"),
    ("State that survives edits of the rule", [("counter/x", "a"), ("counter/x", "b")],
     "message 1: counter/x a\n  pass counter/x a seq=1\n"
     "message 2: counter/x b\n  pass counter/x b seq=2\n"),
]


def test_every_example_is_tested():
    with open(DOCS) as f:
        text = f.read()
    examples = text[text.index("\n## Examples\n"):text.index("\n## Safety")]
    assert re.findall(r"\n### (.*)\n", examples) == [d[0] for d in DRY_RUNS]


@pytest.mark.parametrize("heading,messages,expected", DRY_RUNS, ids=[d[0].split(":")[0] for d in DRY_RUNS])
def test_documented_example_dry_run(tmp_path, heading, messages, expected):
    rule = tmp_path / "example.lua"
    rule.write_text(doc_block(heading))
    if heading.startswith("Enrichment"):
        (tmp_path / "assets.json").write_text(doc_block(heading, "json"))
    args = ["--rules-test", str(rule)]
    for topic, payload in messages:
        args += ["--message", topic, payload]
    r = run_strata(*args)
    assert r.returncode == 0, r.stderr
    first, rest = r.stdout.split("\n", 1)
    assert re.fullmatch(r"rule [a-z_]+ from %s" % re.escape(str(rule)), first)
    assert rest == expected


def test_documented_threshold_rule_in_the_broker(rules_broker):
    rb = rules_broker({"furnace_hot.lua": doc_block(THRESHOLD)})
    rb.wait_log("loaded rule furnace_hot from")
    sub = rb.subscriber("furnace/#")
    for v in ["70", "85", "80", "90.5", "n/a", "80.01"]:
        mosquitto_pub(rb.broker, "furnace/f1/temp", v, qos=1)
    assert payloads(sub.wait_messages(3)) == [("furnace/f1/temp", "85"), ("furnace/f1/temp", "90.5"),
                                              ("furnace/f1/temp", "80.01")]
    sub.expect_no_message(0.3)


def test_documented_downsampling_rule_in_the_broker(rules_broker):
    # The documented rule with one change: a 2 s window instead of 60 s.
    text = doc_block(DOWNSAMPLING)
    assert text.count("seconds = 60") == 1
    rb = rules_broker({"minute_avg.lua": text.replace("seconds = 60", "seconds = 2")})
    rb.wait_log("loaded rule minute_avg from")
    sub = rb.subscriber("cloud/#", "edge/#")
    s1, s2 = rb.client(), rb.client()
    # Start right after a 2 s boundary so the readings fall into one window.
    deadline = time.monotonic() + 5
    while not (0.05 < time.time() % 2 < 0.5):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    for v in ["20", "21", "22.5", "oops", "22.5"]:
        s1.publish("edge/s1/temperature", v.encode(), qos=1, wait=False)
    for v in ["5", "7"]:
        s2.publish("edge/s2/temperature", v.encode(), qos=0, wait=False)
    # No reading after these: the window closes on its timer.
    got = sub.wait_messages(2, timeout=5)
    assert sorted(payloads(got)) == [("cloud/s1/temperature",
                                      '{"avg":21.5,"max":22.5,"min":20,"n":4}'),
                                     ("cloud/s2/temperature", '{"avg":6,"max":7,"min":5,"n":2}')]
    assert [m.qos for m in got] == [1, 1]
    sub.expect_no_message(2.5)  # raw readings are not routed; an empty window publishes nothing
