"""History in rules: history.last(series) and history.range(series, from,
to, interval, agg) read what the historian recorded, on the running broker
(durability sync: a PUBACK means the point is in history)."""

import json

import pytest

import brokerproc
import raw

pytestmark = pytest.mark.strata_only

T0 = 1796540400000  # 2026-12-06T07:00:00Z

RULE = """
topics = "ctx/ask"
function on_message(msg)
  local v, t = history.last(msg.payload)
  local rows = history.range("plant/y#v", %d, %d, 60000, "max")
  local ok, err = pcall(history.range, "plant/y#v", 0, 1, 1000, "median")
  publish("ctx/answer", {last = v, at = t, rows = rows, err = err})
  return false
end
""" % (T0, T0 + 120_000)


def test_rules_read_last_values_and_ranges(tmp_path):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "ctx.lua").write_text(RULE)
    b = brokerproc.Broker(tmp_path, {
        "historian": {"enabled": True, "filters": ["plant/#"], "timestamp_field": "ts"},
        "store": {"durability": "sync"},
        "rules": {"dir": str(rules)},
    })
    b.start()
    try:
        pub = b.raw_connect("hist-rule-pub")
        pub.publish("plant/x", b"5", qos=1, pid=1)
        pub.publish("plant/x", b"7.5", qos=1, pid=2)
        for i in range(120):
            pub.publish("plant/y", json.dumps({"ts": T0 + i * 1000, "v": i}).encode(), qos=1, pid=3 + i)
        sub = b.raw_connect("hist-rule-sub")
        sub.subscribe(("ctx/answer", 0), expect=[0])
        pub.publish("ctx/ask", b"plant/x", qos=1, pid=200)
        answer = json.loads(sub.expect(raw.PUBLISH, timeout=10).payload)
        assert answer["last"] == 7.5
        assert isinstance(answer["at"], (int, float)) and answer["at"] > T0
        assert answer["rows"] == [{"time": T0, "value": 59}, {"time": T0 + 60_000, "value": 119}]
        assert answer["err"].endswith("history.range: agg 'median' is not one of avg, min, max, sum, count, "
                                      "first, last"), answer["err"]
        pub.publish("ctx/ask", b"plant/none", qos=1, pid=201)
        answer = json.loads(sub.expect(raw.PUBLISH, timeout=10).payload)
        assert "last" not in answer
        pub.disconnect()
        sub.disconnect()
    finally:
        assert b.stop() == 0, b.log_tail()
