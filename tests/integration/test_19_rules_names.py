"""Lua rules (Strata): a rule's declared name (logs, $SYS, --rules-test,
state, a name two files declare), `order` end to end, and the memory cap on
what a rule keeps between calls — each with the real broker and real MQTT
clients."""

import os
import time

import pytest

from rulesbroker import payloads, rules_broker, run_strata, sys_values  # noqa: F401 (rules_broker: a fixture)

pytestmark = pytest.mark.strata_only


NAMED = """-- a file name that is not the rule's name
name = "furnace_hot"
topics = "furnace/+/temp"
function on_message(msg)
  state.n = (state.n or 0) + 1
  log.info("reading", state.n, msg.payload)
  if msg.payload == "boom" then error("sensor offline") end
  msg.payload = "%s:" .. state.n .. ":" .. msg.payload
end
"""


def test_declared_name_shows_in_logs_sys_state_and_faults(rules_broker):
    rb = rules_broker({"hot_v2.lua": NAMED % "v1"}, sys_interval=1)
    path = os.path.join(rb.dir, "hot_v2.lua")
    rb.wait_log("loaded rule furnace_hot from %s" % path)
    sub = rb.subscriber("furnace/#")
    pub = rb.client()
    pub.publish("furnace/f1/temp", b"81", qos=1)
    assert payloads(sub.wait_messages(1)) == [("furnace/f1/temp", "v1:1:81")]
    rb.wait_log("%s:6: reading 1 81 [rule furnace_hot]" % path)
    pub.publish("furnace/f1/temp", b"boom", qos=1)
    assert payloads(sub.wait_messages(1)) == [("furnace/f1/temp", "boom")]  # a fault passes the message unchanged
    rb.wait_log("%s:7: sensor offline [rule furnace_hot]" % path)

    # An edit keeps the name: the state carries over.
    rb.write("hot_v2.lua", NAMED % "v2")
    rb.wait_log("reloaded rule furnace_hot from %s" % path)
    pub.publish("furnace/f1/temp", b"82", qos=1)
    assert payloads(sub.wait_messages(1)) == [("furnace/f1/temp", "v2:3:82")]

    seen = sys_values(rb, "furnace_hot", {"matched": "3", "passed": "2", "errors": "1", "state": "enabled"})
    assert int(seen["memory_kb"]) > 0
    # Nothing is published under the file's name.
    mon = rb.subscriber("$SYS/rules/+/state")
    mon.wait_messages(1, timeout=3)
    time.sleep(2.2)  # two more $SYS rounds
    assert {m.topic for m in mon.drain()} == {"$SYS/rules/furnace_hot/state"}

    # The dry run prints the name too.
    r = run_strata("--rules-test", path, "--message", "furnace/f2/temp", "90")
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("rule furnace_hot from %s\n"
                        "message 1: furnace/f2/temp 90\n"
                        "  pass furnace/f2/temp v2:1:90\n" % path)
    assert "hot_v2.lua:6: reading 1 90 [rule furnace_hot]" in r.stderr


def test_a_second_file_with_a_taken_name_is_refused_until_the_name_is_free(rules_broker):
    first = "name = 'dup'\ntopics = 'd/#'\nfunction on_message(msg) msg.payload = 'first:' .. msg.payload end\n"
    second = "topics = 'd/#'\nname = 'dup'\nfunction on_message(msg) msg.payload = 'second:' .. msg.payload end\n"
    rb = rules_broker({"a.lua": first, "b.lua": second})
    a, b = os.path.join(rb.dir, "a.lua"), os.path.join(rb.dir, "b.lua")
    # At start-up files load in file name order: a.lua has the name first.
    rb.wait_log("%s:2: the rule name 'dup' is already used by %s (not loaded; the rule that has the name keeps running)"
                % (b, a))
    sub = rb.subscriber("d/#")
    pub = rb.client()
    pub.publish("d/1", b"x", qos=1)
    assert payloads(sub.wait_messages(1)) == [("d/1", "first:x")]

    # a.lua goes away: b.lua, unchanged on disk, gets the name.
    os.remove(a)
    rb.wait_log("removed rule dup (%s deleted)" % a)
    rb.wait_log("loaded rule dup from %s" % b)
    pub.publish("d/1", b"y", qos=1)
    assert payloads(sub.wait_messages(1)) == [("d/1", "second:y")]

    # A new file taking the name while b.lua has it is refused; b.lua keeps running.
    rb.write("c.lua", first)
    rb.wait_log("%s:1: the rule name 'dup' is already used by %s" % (os.path.join(rb.dir, "c.lua"), b))
    pub.publish("d/1", b"z", qos=1)
    assert payloads(sub.wait_messages(1)) == [("d/1", "second:z")]
    sub.expect_no_message(0.3)


COUNTER = """name = "tally"
topics = "n/#"
function on_message(msg)
  state.n = (state.n or 0) + 1
  msg.payload = tostring(state.n)
end
"""


def test_renaming_the_file_keeps_the_rule_and_its_state(rules_broker):
    rb = rules_broker({"tally.lua": COUNTER})
    sub = rb.subscriber("n/#")
    pub = rb.client()
    for _ in range(2):
        pub.publish("n/1", b"", qos=1)
    assert payloads(sub.wait_messages(2)) == [("n/1", "1"), ("n/1", "2")]
    os.rename(os.path.join(rb.dir, "tally.lua"), os.path.join(rb.dir, "counting.lua"))
    rb.wait_log("loaded rule tally from %s" % os.path.join(rb.dir, "counting.lua"))
    pub.publish("n/1", b"", qos=1)
    assert payloads(sub.wait_messages(1)) == [("n/1", "3")]
    # Renaming the rule itself (its declared name) starts a new rule with a new state.
    rb.write("counting.lua", COUNTER.replace('"tally"', '"tally2"'))
    rb.wait_log("reloaded rule tally2 from %s (renamed from tally)" % os.path.join(rb.dir, "counting.lua"))
    pub.publish("n/1", b"", qos=1)
    assert payloads(sub.wait_messages(1)) == [("n/1", "1")]


def appender(letter, order):
    return """topics = "o/#"
%s
function on_message(msg) msg.payload = msg.payload .. "%s" end
""" % ("" if order is None else "order = %s" % order, letter)


def test_order_decides_the_chain_and_changes_on_reload(rules_broker):
    # By name alone a_rule would run before z_rule; `order` says otherwise.
    rb = rules_broker({"a_rule.lua": appender("A", 20), "z_rule.lua": appender("Z", 10), "m_rule.lua": appender("M", None)})
    sub = rb.subscriber("o/#")
    pub = rb.client()
    pub.publish("o/1", b"x", qos=1)
    assert payloads(sub.wait_messages(1)) == [("o/1", "xMZA")]  # m_rule: no order = 0
    rb.write("a_rule.lua", appender("A", -1.5))
    rb.wait_log("reloaded rule a_rule")
    pub.publish("o/1", b"y", qos=1)
    assert payloads(sub.wait_messages(1)) == [("o/1", "yAMZ")]
    rb.write("m_rule.lua", appender("M", "'soon'"))
    rb.wait_log("m_rule.lua:2: order must be a number (the previous version of rule m_rule keeps running)")
    pub.publish("o/1", b"z", qos=1)
    assert payloads(sub.wait_messages(1)) == [("o/1", "zAMZ")]


HOARD = """topics = "h/#"
function on_message(msg)
  -- keeps 20 KB more on every message, and never lets go
  state[#state + 1] = string.rep(msg.payload, 20000) .. #state
  msg.user_properties.kept = tostring(#state)
end
"""

TALLY = """topics = { "h/#", "other/#" }
function on_message(msg)
  state.n = (state.n or 0) + 1
  local scratch = {}
  for i = 1, 50 do scratch[i] = string.rep("g", 1000) .. i end   -- garbage, collected
  msg.user_properties.n = tostring(state.n)
end
"""


def test_memory_cap_stops_a_rule_that_grows_its_state(rules_broker):
    rb = rules_broker({"hoard.lua": HOARD, "tally.lua": TALLY}, sys_interval=1,
                      rules_config={"memory_limit_kb": 1024, "fault_limit": 2})
    sub = rb.subscriber("h/#", "other/#")
    pub = rb.client()
    other = rb.client()
    n = 120
    for i in range(n):
        pub.publish("h/1", b"x", qos=1, wait=(i % 10 == 9))
    got = sub.wait_messages(n, timeout=20)
    # Every message arrives, in order, counted by tally; hoard's changes stop
    # when it faults (the message passes as it came) and when it is disabled.
    assert [m.prop("UserProperty")[-1] for m in got] == [("n", str(i + 1)) for i in range(n)]
    kept = [dict(m.prop("UserProperty")).get("kept") for m in got]
    stopped = kept.index(None)
    assert 30 < stopped < 52  # about 1024 KiB / 20 KB, less what the rule's Lua state needs itself
    assert kept[:stopped] == [str(i + 1) for i in range(stopped)]
    assert kept[stopped:] == [None] * (n - stopped)
    hoard = os.path.join(rb.dir, "hoard.lua")
    rb.wait_log("%s:4: memory limit exceeded (1024 KiB per rule) [rule hoard]" % hoard)
    rb.wait_log("%s: rule hoard disabled after 2 faults within 60 s; its state is unloaded, giving its memory back; "
                "it runs again when its file changes" % hoard)
    other.publish("other/b", b"still flowing", qos=1)
    assert payloads(sub.wait_messages(1)) == [("other/b", "still flowing")]
    sys_values(rb, "hoard", {"matched": str(stopped + 2), "errors": "2", "state": "disabled", "memory_kb": "0"})
    seen = sys_values(rb, "tally", {"matched": str(n + 1), "errors": "0", "state": "enabled"})
    assert 0 < int(seen["memory_kb"]) < 1024
    # A new version starts with an empty state.
    rb.write("hoard.lua", HOARD.replace("20000", "1"))
    rb.wait_log("reloaded rule hoard")
    pub.publish("h/1", b"y", qos=1)
    assert dict(sub.wait_messages(1)[0].prop("UserProperty"))["kept"] == "1"
