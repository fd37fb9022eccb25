-- Example: per-second readings to one average per minute per sensor.
-- Listens only on example/... topics, so it is harmless on real traffic.
--
--   mosquitto_pub -t example/sensors/s1/temperature -m 21.5     (every second)
--   mosquitto_sub -t 'example/minute/#' -v
--   -> example/minute/s1/temperature {"avg":21.6,"count":60,"max":22,"min":21.1,"ts":1700000060000}
topics = "example/sensors/+/temperature"

local per_minute = window{
  name = "per_minute",
  seconds = 60,
  on_close = function(sensor, r)
    publish("example/minute/" .. sensor .. "/temperature",
            { avg = r.avg, min = r.min, max = r.max, count = r.count, ts = r["end"] })
  end,
}

function on_message(msg)
  local value = tonumber(msg.payload)
  if value == nil then return false end      -- not a number: drop it
  per_minute:add(msg.levels[3], value)       -- levels: example, sensors, <sensor>, temperature
  return false                               -- keep the raw readings off the broker
end
