-- The edge's rule of the edge -> factory -> corporate chain (README: "An edge
-- -> factory -> corporate chain"). Sensors publish one reading a second on
-- acme/<site>/<area>/<line>/<sensor>/temperature, the payload a number
-- ("21.5"). Local subscribers get every reading as it is (the rule passes
-- it on); the factory bridge gets only:
--
--   * one summary per sensor and window on <topic>/avg, e.g.
--     acme/berlin/press/line1/s1/temperature/avg
--     {"avg":21.6,"end":1700000060000,"first":21.5,"last":21.7,"max":22,
--      "min":21.5,"n":60,"start":1700000000000}
--     where start/end (unix ms) name the window, so a consumer can tell a
--     window it already has (delivery across bridges is at least once) from
--     a new one, and first/last are the window's first and last readings;
--   * every reading above THRESHOLD at once, on its own topic, unchanged.
--
-- Both go into the factory bridge's outbox, which keeps them on disk until
-- the factory has confirmed them.

name = "edge_forward"
topics = "acme/+/+/+/+/temperature"

local WINDOW_SECONDS = 60     -- one average per sensor and minute (on the minute)
local THRESHOLD = 80          -- readings above this go to the factory at once

local per_window = window{ name = "per_window", seconds = WINDOW_SECONDS, on_close = function(topic, r)
  emit("factory", { topic = topic .. "/avg", qos = 1, content_type = "application/json",
                    payload = { start = r.start, ["end"] = r["end"], n = r.count, avg = r.avg,
                                min = r.min, max = r.max, first = r.first, last = r.last } })
end }

function on_message(msg)
  local v = tonumber(msg.payload)
  if v == nil then return end          -- not a number: local subscribers still get it
  per_window:add(msg.topic, v)
  if v > THRESHOLD then
    emit("factory", { topic = msg.topic, payload = msg.payload, qos = 1 })
  end
end                                    -- nothing returned: the reading is routed locally
