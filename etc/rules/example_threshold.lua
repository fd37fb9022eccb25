-- Example: only readings above 80 °C go on; the rest are dropped.
-- Listens only on example/... topics, so it is harmless on real traffic.
--
--   mosquitto_pub -t example/furnace/f1/temp -m 85    -> delivered
--   mosquitto_pub -t example/furnace/f1/temp -m 20    -> dropped
topics = "example/furnace/+/temp"

local LIMIT = 80

function on_message(msg)
  local value = tonumber(msg.payload)
  if value == nil or value <= LIMIT then return false end
end
