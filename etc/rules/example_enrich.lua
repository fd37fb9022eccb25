-- Example: contextualization. A device id in the topic is looked up in
-- example_assets.json and the reading is republished under its ISA-95 path
-- (enterprise/site/area/line/cell) as JSON with a unit.
-- Listens only on example/... topics, so it is harmless on real traffic.
--
--   mosquitto_pub -t example/devices/dev-17/temp -m 72.5
--   -> example/uns/acme/berlin/press/line1/cell2/temperature {"device":"dev-17","unit":"degC","value":22.5}
topics = "example/devices/+/temp"

function on_message(msg)
  local assets = context("example_assets.json")
  local device = msg.levels[3]
  local path = assets[device]
  if path == nil then
    log.warn("unknown device", device)
    return false
  end
  local fahrenheit = tonumber(msg.payload)
  if fahrenheit == nil then return false end
  publish("example/uns/" .. path .. "/temperature",
          { device = device, value = (fahrenheit - 32) * 5 / 9, unit = "degC" })
  return false
end
