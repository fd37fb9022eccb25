"""Lua rules (Strata): each capability runs the real broker with a rules
directory and checks with real MQTT clients (paho, mosquitto_pub) what comes
out — JSON mapping, context enrichment, windows, threshold, deadband,
republish, drop, emit, loop guard, hot reload, state across reload, faults
(syntax error, runtime error, infinite loop, memory bomb, publish loop), the
$SYS/rules counters and `strata --rules-test`."""

import json
import os
import time

import pytest

import brokerproc
import pahoc
from extclients import mosquitto_pub
from rulesbroker import payloads, rules_broker, run_strata, sys_values  # noqa: F401 (rules_broker: a fixture)

pytestmark = pytest.mark.strata_only


# --- transform, filter, enrich -------------------------------------------

MAPPING = """
topics = "plant/+/raw"
function on_message(msg)
  local v = msg.json
  if v == nil then return false end           -- not JSON: drop
  msg.topic = "plant/" .. msg.levels[2] .. "/temperature"
  msg.payload = json.encode({ celsius = (v.tempF - 32) * 5 / 9, ts = v.ts })
  msg.user_properties.unit = "degC"
  msg.content_type = "application/json"
end
"""


def test_json_field_mapping_and_unit_conversion(rules_broker):
    rb = rules_broker({"mapping.lua": MAPPING})
    sub = rb.subscriber("plant/#")
    pub = rb.client()
    pub.publish("plant/s1/raw", b'{"tempF": 212, "ts": 1700000000}', qos=1)
    pub.publish("plant/s1/raw", b"not json", qos=1)
    pub.publish("plant/s2/raw", b'{"tempF": 32, "ts": 5}', qos=1,
                properties=pahoc.props(UserProperty=[("line", "3")]))
    got = sub.wait_messages(2)
    assert payloads(got) == [("plant/s1/temperature", '{"celsius":100,"ts":1700000000}'),
                             ("plant/s2/temperature", '{"celsius":0,"ts":5}')]
    assert got[0].prop("UserProperty") == [("unit", "degC")]
    assert got[1].prop("UserProperty") == [("line", "3"), ("unit", "degC")]
    assert got[0].prop("ContentType") == "application/json"
    sub.expect_no_message(0.3)


ENRICH = """
topics = "devices/+/temp"
function on_message(msg)
  local assets = context("assets.json")
  local id = msg.levels[2]
  local path = assets[id]
  if not path then log.warn("unknown device", id) return false end
  publish(path .. "/temperature", { value = tonumber(msg.payload), device = id }, { qos = 1 })
  return false
end
"""


def test_enrichment_from_context_table(rules_broker):
    assets = {"dev-17": "acme/berlin/press/line1/cell2", "dev-18": "acme/berlin/press/line1/cell3"}
    rb = rules_broker({"enrich.lua": ENRICH}, files={"assets.json": json.dumps(assets)})
    sub = rb.subscriber("acme/#", "devices/#")
    mosquitto_pub(rb.broker, "devices/dev-17/temp", "21.5")
    mosquitto_pub(rb.broker, "devices/dev-99/temp", "1")
    mosquitto_pub(rb.broker, "devices/dev-18/temp", "19")
    got = sub.wait_messages(2)
    assert payloads(got) == [("acme/berlin/press/line1/cell2/temperature", '{"device":"dev-17","value":21.5}'),
                             ("acme/berlin/press/line1/cell3/temperature", '{"device":"dev-18","value":19}')]
    assert got[0].qos == 1
    sub.expect_no_message(0.3)
    # The context file changes on disk: the rules read the new version.
    rb.write("assets.json", json.dumps({"dev-99": "acme/paris/paint/line2/cell1"}))
    rb.wait_log("context files in")
    mosquitto_pub(rb.broker, "devices/dev-99/temp", "7")
    assert payloads(sub.wait_messages(1)) == [("acme/paris/paint/line2/cell1/temperature",
                                               '{"device":"dev-99","value":7}')]


THRESHOLD = """
topics = "furnace/+/temp"
function on_message(msg)
  if tonumber(msg.payload) <= 80 then return false end
end
"""


def test_threshold_filter(rules_broker):
    rb = rules_broker({"threshold.lua": THRESHOLD})
    sub = rb.subscriber("furnace/#")
    pub = rb.client()
    for v in ["70", "85", "80", "90.5", "12"]:
        pub.publish("furnace/f1/temp", v.encode(), qos=1)
    assert payloads(sub.wait_messages(2)) == [("furnace/f1/temp", "85"), ("furnace/f1/temp", "90.5")]
    sub.expect_no_message(0.3)


DEADBAND = """
topics = "line/+/pressure"
local band = deadband{ name = "pressure", delta = 0.5 }
function on_message(msg)
  if not band:changed(msg.topic, tonumber(msg.payload)) then return false end
end
"""


def test_deadband(rules_broker):
    rb = rules_broker({"deadband.lua": DEADBAND})
    sub = rb.subscriber("line/#")
    pub = rb.client()
    for topic, v in [("line/a/pressure", "20"), ("line/a/pressure", "20.3"), ("line/b/pressure", "5"),
                     ("line/a/pressure", "20.6"), ("line/a/pressure", "20.4"), ("line/b/pressure", "5.5"),
                     ("line/a/pressure", "21.2"), ("line/b/pressure", "5.6")]:
        pub.publish(topic, v.encode(), qos=1)
    # Changes of exactly delta (5 -> 5.5) are inside the band.
    assert payloads(sub.wait_messages(5)) == [("line/a/pressure", "20"), ("line/b/pressure", "5"),
                                              ("line/a/pressure", "20.6"), ("line/a/pressure", "21.2"),
                                              ("line/b/pressure", "5.6")]
    sub.expect_no_message(0.3)


DOWNSAMPLE = """
topics = "edge/+/temp"
local avg = window{ name = "avg", seconds = 2, on_close = function(sensor, r)
  publish("cloud/" .. sensor .. "/temp_avg", { avg = r.avg, min = r.min, max = r.max, count = r.count,
                                               first = r.first, last = r.last })
end }
function on_message(msg)
  avg:add(msg.levels[2], tonumber(msg.payload))
  return false   -- raw values stay at the edge
end
"""


def test_downsampling_window_emits_on_time_without_new_messages(rules_broker):
    rb = rules_broker({"downsample.lua": DOWNSAMPLE})
    sub = rb.subscriber("cloud/#", "edge/#")
    pub = rb.client()
    # Start right after a 2 s boundary so the 8 values fall into one window.
    deadline = time.monotonic() + 5
    while not (0.05 < time.time() % 2 < 0.5):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    for v in [10, 20, 30, 40, 50]:
        pub.publish("edge/s1/temp", str(v).encode(), qos=0, wait=False)
    for v in [1, 2, 6]:
        pub.publish("edge/s2/temp", str(v).encode(), qos=0, wait=False)
    # No message is published after these: the window closes on its timer.
    got = sorted(payloads(sub.wait_messages(2, timeout=5)))
    assert got == [("cloud/s1/temp_avg", '{"avg":30,"count":5,"first":10,"last":50,"max":50,"min":10}'),
                   ("cloud/s2/temp_avg", '{"avg":3,"count":3,"first":1,"last":6,"max":6,"min":1}')]
    sub.expect_no_message(2.5)  # an empty window emits nothing


COUNT_WINDOWS = """
topics = "cw/+/v"
local every3 = window{ name = "tumbling", count = 3, on_close = function(key, r)
  publish("cw_out/" .. key .. "/tumbling", { sum = r.sum, first = r.first, last = r.last, n = r.count })
end }
local last4 = window{ name = "sliding", count = 4, every = 2, on_close = function(key, r)
  publish("cw_out/" .. key .. "/sliding", { min = r.min, max = r.max, avg = r.avg, n = r.count })
end }
function on_message(msg)
  local v = tonumber(msg.payload)
  every3:add(msg.levels[2], v)
  last4:add(msg.levels[2], v)
  return false
end
"""


def test_count_windows_tumbling_and_sliding_per_key(rules_broker):
    rb = rules_broker({"count_windows.lua": COUNT_WINDOWS})
    sub = rb.subscriber("cw_out/#", "cw/#")
    pub = rb.client()
    for key, v in [("a", 1), ("a", 2), ("b", 10), ("a", 3), ("a", 4), ("b", 20), ("a", 5), ("a", 6), ("b", 30)]:
        pub.publish("cw/%s/v" % key, str(v).encode(), qos=1)
    got = payloads(sub.wait_messages(5))
    assert got == [
        ("cw_out/a/tumbling", '{"first":1,"last":3,"n":3,"sum":6}'),
        ("cw_out/a/sliding", '{"avg":2.5,"max":4,"min":1,"n":4}'),       # a's 4th value: 1..4
        ("cw_out/a/tumbling", '{"first":4,"last":6,"n":3,"sum":15}'),
        ("cw_out/a/sliding", '{"avg":4.5,"max":6,"min":3,"n":4}'),       # two values later: 3..6
        ("cw_out/b/tumbling", '{"first":10,"last":30,"n":3,"sum":60}'),
    ]  # b has 3 values: its sliding window (4) is not full yet
    sub.expect_no_message(0.3)


# --- republish, drop, emit, loops -------------------------------------------

REPUBLISH = """
topics = { "in/#" }
function on_message(msg)
  if msg.payload == "drop" then return false end
  publish("out/" .. msg.topic, msg.payload, { qos = msg.qos, retain = msg.retain })
  return false
end
"""


def test_republish_to_new_topic_and_drop(rules_broker):
    rb = rules_broker({"republish.lua": REPUBLISH})
    sub = rb.subscriber("#")
    pub = rb.client()
    pub.publish("in/a", b"one", qos=1)
    pub.publish("in/b", b"drop", qos=1)
    pub.publish("other/c", b"untouched", qos=1)
    got = sub.wait_messages(2)
    assert payloads(got) == [("out/in/a", "one"), ("other/c", "untouched")]
    assert got[0].qos == 1
    sub.expect_no_message(0.3)


EMIT = """
topics = "meter/#"
function on_message(msg)
  emit("local", { topic = "billing/" .. msg.levels[2], payload = msg.payload })
  if msg.payload == "bad" then emit("kafka-nowhere", { topic = "x", payload = "y" }) end
end
"""


def test_emit_to_local_target_and_unknown_target(rules_broker):
    rb = rules_broker({"emit.lua": EMIT}, sys_interval=1)
    sub = rb.subscriber("billing/#", "meter/#")
    pub = rb.client()
    pub.publish("meter/m1", b"42", qos=1)
    got = payloads(sub.wait_messages(2))
    assert sorted(got) == [("billing/m1", "42"), ("meter/m1", "42")]
    # An unknown target is a fault: its emits are discarded, the message passes.
    pub.publish("meter/m2", b"bad", qos=1)
    assert payloads(sub.wait_messages(1)) == [("meter/m2", "bad")]
    rb.wait_log("emit.lua:5: emit: no target named 'kafka-nowhere'")
    sub.expect_no_message(0.3)


LOOP = """
topics = "loop/#"
function on_message(msg)
  publish(msg.topic, msg.payload .. "+")
end
"""


def test_publish_loop_is_stopped_at_the_hop_limit(rules_broker):
    rb = rules_broker({"loop.lua": LOOP}, rules_config={"hop_limit": 3})
    sub = rb.subscriber("loop/#", "fine/#")
    pub = rb.client()
    pub.publish("loop/x", b"m", qos=1)
    got = payloads(sub.wait_messages(4))
    # Rule publishes are routed before the message that caused them.
    assert sorted(got) == [("loop/x", "m"), ("loop/x", "m+"), ("loop/x", "m++"), ("loop/x", "m+++")]
    sub.expect_no_message(0.3)
    rb.wait_log("loop.lua:4: publish: publish loop: hop limit 3 reached at topic 'loop/x'")
    pub.publish("fine/y", b"still flowing", qos=1)
    assert payloads(sub.wait_messages(1)) == [("fine/y", "still flowing")]


# --- hot reload --------------------------------------------------------------

def version_rule(tag, extra=""):
    return """
topics = "rl/#"
%s
function on_message(msg)
  state.count = (state.count or 0) + 1
  msg.payload = "%s:" .. state.count .. ":" .. msg.payload
end
""" % (extra, tag)


def test_hot_reload_add_edit_syntax_error_delete_keeps_state(rules_broker):
    rb = rules_broker({})
    sub = rb.subscriber("rl/#")
    pub = rb.client()
    pub.publish("rl/a", b"x", qos=1)
    assert payloads(sub.wait_messages(1)) == [("rl/a", "x")]

    rb.write("ver.lua", version_rule("v1"))
    rb.wait_log("loaded rule ver from")
    pub.publish("rl/a", b"x", qos=1)
    pub.publish("rl/a", b"y", qos=1)
    assert payloads(sub.wait_messages(2)) == [("rl/a", "v1:1:x"), ("rl/a", "v1:2:y")]

    # Edit: the new version runs, and `state` survives the reload.
    rb.write("ver.lua", version_rule("v2"))
    rb.wait_log("reloaded rule ver from")
    pub.publish("rl/a", b"z", qos=1)
    assert payloads(sub.wait_messages(1)) == [("rl/a", "v2:3:z")]

    # A syntax error is reported with file:line; v2 keeps running.
    rb.write("ver.lua", version_rule("v3", extra="\nlocal x = = 1"))
    rb.wait_log("ver.lua:4: unexpected symbol near '='")
    rb.wait_log("(rule ver not reloaded; the previous version keeps running)")
    pub.publish("rl/a", b"w", qos=1)
    assert payloads(sub.wait_messages(1)) == [("rl/a", "v2:4:w")]

    # An error while loading (not syntax) also keeps the previous version.
    rb.write("ver.lua", "topics = 'rl/#'\nerror('not today')\n")
    rb.wait_log("ver.lua:2: not today (the previous version of rule ver keeps running)")
    pub.publish("rl/a", b"v", qos=1)
    assert payloads(sub.wait_messages(1)) == [("rl/a", "v2:5:v")]

    os.remove(os.path.join(rb.dir, "ver.lua"))
    rb.wait_log("removed rule ver")
    pub.publish("rl/a", b"plain", qos=1)
    assert payloads(sub.wait_messages(1)) == [("rl/a", "plain")]


def test_reload_under_traffic_loses_no_message(rules_broker):
    rb = rules_broker({"ver.lua": version_rule("v0")})
    sub = rb.subscriber("rl/#")
    pub = rb.client()
    n = 300
    tags = []
    for i in range(n):
        if i % 100 == 50:
            rb.write("ver.lua", version_rule("v%d" % i))
        pub.publish("rl/seq", str(i).encode(), qos=1, wait=(i % 25 == 0))
        if i % 100 == 50:
            time.sleep(1.2)  # let the scanner see the edit mid-stream
    got = sub.wait_messages(n, timeout=20)
    seqs = []
    for m in got:
        tag, count, seq = m.payload.decode().split(":")
        tags.append(tag)
        seqs.append(int(seq))
    assert seqs == list(range(n))           # every message, in order
    assert tags[0] == "v0" and len(set(tags)) >= 2  # and the edits took effect


# --- faults ------------------------------------------------------------------

FAULTY = """
topics = "f/#"
function on_message(msg)
  if msg.payload == "error" then error("bad reading") end
  if msg.payload == "loop" then while true do end end
  if msg.payload == "ploop" then while true do pcall(function() while true do end end) end end
  if msg.payload == "memory" then local t = {} for i = 1, 1e6 do t[i] = string.rep("x", 1e5) .. i end end
  if msg.payload == "spam" then for i = 1, 1e6 do publish("spam/" .. i, "x") end end
  msg.payload = "ok:" .. msg.payload
end
"""


@pytest.mark.parametrize("kind,message", [
    ("error", "faulty.lua:4: bad reading"),
    ("loop", "faulty.lua:5: instruction budget exceeded (1000000 instructions per call)"),
    ("ploop", "faulty.lua:6: instruction budget exceeded"),
    ("memory", "faulty.lua:7: memory limit exceeded (16384 KiB per rule)"),
    ("spam", "faulty.lua:8: publish limit exceeded (1000 messages per call)"),
])
def test_fault_is_contained_reported_and_disables_the_rule(rules_broker, kind, message):
    rb = rules_broker({"faulty.lua": FAULTY}, rules_config={"fault_limit": 2}, sys_interval=1)
    sub = rb.subscriber("f/#", "other/#", "spam/#")  # a faulting call publishes nothing
    pub = rb.client()
    other = rb.client()
    pub.publish("f/a", b"1", qos=1)
    pub.publish("f/a", kind.encode(), qos=1)
    other.publish("other/b", b"meanwhile", qos=1)
    # The faulting call's message passes unchanged; other traffic flows.
    assert sorted(payloads(sub.wait_messages(3))) == sorted([("f/a", "ok:1"), ("f/a", kind), ("other/b", "meanwhile")])
    rb.wait_log(message)
    # The second fault within the window disables the rule.
    pub.publish("f/a", kind.encode(), qos=1)
    assert payloads(sub.wait_messages(1)) == [("f/a", kind)]
    rb.wait_log("faulty.lua: rule faulty disabled after 2 faults within 60 s")
    pub.publish("f/a", b"2", qos=1)
    assert payloads(sub.wait_messages(1)) == [("f/a", "2")]  # disabled: no longer transformed
    other.publish("other/b", b"after", qos=1)
    assert payloads(sub.wait_messages(1)) == [("other/b", "after")]
    assert sys_values(rb, "faulty", {"errors": "2", "state": "disabled", "matched": "3"})


# --- $SYS counters, sandbox, dry run -------------------------------------------

COUNTED = """
topics = "c/#"
function on_message(msg)
  if msg.payload == "d" then return false end
  if msg.payload == "p" then publish("c2/x", "p") end
  if msg.payload == "e" then emit("local", { topic = "c2/y", payload = "e" }) end
end
"""


def test_sys_rule_counters(rules_broker):
    rb = rules_broker({"counted.lua": COUNTED}, sys_interval=1)
    sub = rb.subscriber("c2/#")
    pub = rb.client()
    for p in [b"a", b"d", b"p", b"e", b"d"]:
        pub.publish("c/1", p, qos=1)
    pub.publish("nomatch/1", b"x", qos=1)
    sub.wait_messages(2)
    want = {"matched": "5", "passed": "3", "dropped": "2", "published": "1", "emitted": "1", "errors": "0",
            "state": "enabled"}
    seen = sys_values(rb, "counted", want)
    assert int(seen["p50_us"]) > 0 and int(seen["p99_us"]) >= int(seen["p50_us"])


SANDBOX = """
topics = "sb/in"
leak = "mine"
function on_message(msg)
  local seen = {}
  for _, name in ipairs({ "io", "require", "dofile", "loadfile", "load", "loadstring", "debug", "ffi", "jit",
                          "getfenv", "setfenv", "coroutine", "collectgarbage", "module", "package" }) do
    seen[#seen + 1] = name .. "=" .. type(_G[name])
  end
  seen[#seen + 1] = "os.execute=" .. type(os.execute)
  seen[#seen + 1] = "os.time=" .. type(os.time)
  seen[#seen + 1] = "string.dump=" .. type(string.dump)
  seen[#seen + 1] = "string_mt=" .. tostring(getmetatable(""))
  string.upper = nil   -- only this rule's copy
  publish("sb/out", table.concat(seen, " "))
end
"""

NEIGHBOUR = """
topics = "sb/in"
order = 10
function on_message(msg)
  publish("sb/out2", tostring(leak) .. " " .. string.upper("still here"))
  return false
end
"""


def test_sandbox_hides_unsafe_globals_and_isolates_rules(rules_broker):
    rb = rules_broker({"sandbox.lua": SANDBOX, "neighbour.lua": NEIGHBOUR})
    sub = rb.subscriber("sb/#")
    rb.client().publish("sb/in", b"x", qos=1)
    got = dict(payloads(sub.wait_messages(2)))  # the neighbour (order 10) drops sb/in
    assert got["sb/out"] == ("io=nil require=nil dofile=nil loadfile=nil load=nil loadstring=nil debug=nil "
                             "ffi=nil jit=nil getfenv=nil setfenv=nil coroutine=nil collectgarbage=nil "
                             "module=nil package=nil os.execute=nil os.time=function string.dump=nil "
                             "string_mt=false")
    assert got["sb/out2"] == "nil STILL HERE"


def test_rules_test_dry_run(tmp_path):
    rule = tmp_path / "dry.lua"
    rule.write_text("""
topics = "t/#"
local w = window{ seconds = 60, on_close = function(key, r) publish("avg/" .. key, r.avg) end }
function on_message(msg)
  local v = tonumber(msg.payload)
  if v == nil then return false end
  w:add(msg.levels[2], v)
  if v > 80 then emit("local", { topic = "alarm/" .. msg.levels[2], payload = msg.payload, qos = 1 }) end
  msg.payload = v * 10
end
""")
    r = run_strata("--rules-test", str(rule), "--message", "t/a", "90", "--message", "t/a", "10",
                   "--message", "t/b", "oops")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("rule dry from %s\n"
                        "message 1: t/a 90\n"
                        "  emit local alarm/a 90 qos=1\n"
                        "  pass t/a 900\n"
                        "message 2: t/a 10\n"
                        "  pass t/a 100\n"
                        "message 3: t/b oops\n"
                        "  drop\n"
                        "windows closed after the last message:\n"
                        "  publish avg/a 50\n") % rule
    bad = tmp_path / "bad.lua"
    bad.write_text("topics = 't/#'\nfunction on_message(msg)\n  return msg.nope.x\nend\n")
    r = run_strata("--rules-test", str(bad), "--message", "t/a", "1")
    assert r.returncode == 1
    assert "bad.lua:3: attempt to index field 'nope' (a nil value)" in r.stderr
    assert r.stdout == "rule bad from %s\nmessage 1: t/a 1\n  fault (see the error above); the message passes unchanged\n  pass t/a 1\n" % bad
    syntax = tmp_path / "syntax.lua"
    syntax.write_text("topics = 't/#'\nfunction on_message(msg)\n  return 1 +\nend\n")
    r = run_strata("--rules-test", str(syntax), "--message", "t/a", "1")
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.strip() == "%s:4: unexpected symbol near 'end'" % syntax
    assert r.stderr.strip() == "%s:4: unexpected symbol near 'end'" % syntax


def test_shipped_example_rules(tmp_path):
    """etc/rules: the examples load, and act only on example/... topics."""
    b = brokerproc.Broker(tmp_path, {"rules": {"dir": os.path.join(brokerproc.REPO, "etc", "rules")}})
    b.start()
    try:
        assert b.wait_log("loaded rule example_threshold"), b.log_tail()
        sub = pahoc.PahoClient(b.host, b.port, "", pahoc.V5, True)
        b.clients.append(sub)
        sub.connect()
        sub.subscribe("example/#", qos=1)
        sub.subscribe("plant/#", qos=1)
        mosquitto_pub(b, "example/furnace/f1/temp", "20")
        mosquitto_pub(b, "example/furnace/f1/temp", "85")
        mosquitto_pub(b, "example/devices/dev-17/temp", "72.5")
        mosquitto_pub(b, "example/sensors/s1/temperature", "21")
        mosquitto_pub(b, "plant/line1/temp", "20")
        got = payloads(sub.wait_messages(3))
        assert got == [("example/furnace/f1/temp", "85"),
                       ("example/uns/acme/berlin/press/line1/cell2/temperature",
                        '{"device":"dev-17","unit":"degC","value":22.5}'),
                       ("plant/line1/temp", "20")]
        assert "ERROR" not in b.log and "WARN" not in b.log, b.log_tail()
    finally:
        b.close_clients()
        b.stop()
    assert not b.health_problems(), b.health_problems()
