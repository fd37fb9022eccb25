// Windows and deadbands, in Lua: they are plain tables and closures, so a
// rule's windows live in its `persist` table (one per rule, kept across
// reloads of the rule) and need no C++ bookkeeping.
//
// The chunk returns make_api(persist, now): the functions one rule gets —
// window{...}, deadband{...} — plus the engine's hooks: due() (closes due
// time windows and returns their on_close calls; from a timer on every
// core), begin_load(),
// end_load(ok) (a reload keeps the windows the new version still declares,
// drops the others, or restores the old callbacks if the load failed).
//
// persist = { state = {}, windows = { [name] = w }, deadbands = { [name] = d } }
// A window w: spec (seconds|count, every, on_close), kind, and per group key
// an accumulator {count, sum, min, max, first, last} (tumbling) or a list of
// samples (sliding).
#include "rules/prelude.hpp"

namespace strata::rules {

const char kPrelude[] = R"LUA(
local type, pairs, next, error, tostring, setmetatable = type, pairs, next, error, tostring, setmetatable
local floor, huge, abs, remove = math.floor, math.huge, math.abs, table.remove

local function new_acc() return { count = 0, sum = 0, min = huge, max = -huge } end
local function acc_add(a, v)
  if a.count == 0 then a.first = v end
  a.count = a.count + 1
  a.sum = a.sum + v
  if v < a.min then a.min = v end
  if v > a.max then a.max = v end
  a.last = v
end
local function result(a, from, to)
  return { count = a.count, sum = a.sum, min = a.min, max = a.max, avg = a.sum / a.count,
           first = a.first, last = a.last, start = from, ["end"] = to }
end
local function over(samples, first, last, from, to)
  local a = new_acc()
  for i = first, last do acc_add(a, samples[i].v) end
  return result(a, from, to)
end

-- __metatable: getmetatable() in a rule must not reach these shared tables.
local Window = { __metatable = false }
Window.__index = Window

local function check_key(key)
  local t = type(key)
  if t ~= "string" and t ~= "number" then error("window key must be a string or a number, got " .. t, 3) end
end

-- Closes what is due at `now`; appends {on_close, key, result} to `out`.
function Window:close_due(now, out)
  if self.kind == "tumbling_time" then
    if self.ends == nil or now < self.ends then return end
    local groups, from, to = self.groups, self.ends - self.size, self.ends
    self.groups, self.ends = {}, nil
    for key, a in pairs(groups) do out[#out + 1] = { self.on_close, key, result(a, from, to) } end
  elseif self.kind == "sliding_time" then
    if self.next == nil or now < self.next then return end
    local to = self.next
    self.next = (floor(now / self.every) + 1) * self.every
    local from, any = to - self.size, false
    for key, samples in pairs(self.groups) do
      local keep = {}
      for i = 1, #samples do if samples[i].t >= from then keep[#keep + 1] = samples[i] end end
      if #keep == 0 then self.groups[key] = nil
      else self.groups[key] = keep; any = true; out[#out + 1] = { self.on_close, key, over(keep, 1, #keep, from, to) } end
    end
    if not any then self.next = nil end
  end
end

-- A message after the end of a time window closes it within on_message.
local function close_late(w, now)
  local due = {}
  w:close_due(now, due)
  for i = 1, #due do due[i][1](due[i][2], due[i][3]) end
end

function Window:add(key, value)
  check_key(key)
  if type(value) ~= "number" then error("window value must be a number, got " .. type(value), 2) end
  local now = self.now()
  if self.kind == "tumbling_time" then
    close_late(self, now)
    if self.ends == nil then self.ends = (floor(now / self.size) + 1) * self.size end
    local a = self.groups[key]
    if a == nil then a = new_acc(); self.groups[key] = a end
    acc_add(a, value)
  elseif self.kind == "sliding_time" then
    close_late(self, now)
    if self.next == nil then self.next = (floor(now / self.every) + 1) * self.every end
    local s = self.groups[key]
    if s == nil then s = {}; self.groups[key] = s end
    s[#s + 1] = { t = now, v = value }
  elseif self.kind == "tumbling_count" then
    local a = self.groups[key]
    if a == nil then a = new_acc(); self.groups[key] = a end
    acc_add(a, value)
    if a.count >= self.size then
      self.groups[key] = nil
      self.on_close(key, result(a, nil, nil))
    end
  else -- sliding_count: the last `size` values, reported every `every` values
    local g = self.groups[key]
    if g == nil then g = { samples = {}, seen = 0 }; self.groups[key] = g end
    local s = g.samples
    s[#s + 1] = { v = value }
    if #s > self.size then remove(s, 1) end
    g.seen = g.seen + 1
    if #s >= self.size and g.seen >= self.every then
      g.seen = 0
      self.on_close(key, over(s, 1, #s, nil, nil))
    end
  end
end

local function kind_of(spec)
  local seconds, count, every = spec.seconds, spec.count, spec.every
  if (seconds == nil) == (count == nil) then error("window needs either seconds = N or count = N", 3) end
  if type(spec.on_close) ~= "function" then error("window needs on_close = function(key, result)", 3) end
  if every ~= nil and (type(every) ~= "number" or every <= 0) then error("window every must be a positive number", 3) end
  if seconds ~= nil then
    if type(seconds) ~= "number" or seconds <= 0 then error("window seconds must be a positive number", 3) end
    if every then return "sliding_time", seconds * 1000, every * 1000 end
    return "tumbling_time", seconds * 1000, nil
  end
  if type(count) ~= "number" or count < 1 or count ~= floor(count) then error("window count must be a positive integer", 3) end
  if every then return "sliding_count", count, floor(every) end
  return "tumbling_count", count, nil
end

local Deadband = { __metatable = false }
Deadband.__index = Deadband
function Deadband:changed(key, value)
  check_key(key)
  if type(value) ~= "number" then error("deadband value must be a number, got " .. type(value), 2) end
  local last = self.last[key]
  if last ~= nil and abs(value - last) <= self.delta then return false end
  self.last[key] = value
  return true
end

return function(persist, now)
  persist.state = persist.state or {}
  persist.windows = persist.windows or {}
  persist.deadbands = persist.deadbands or {}
  local seen, saved, unnamed = {}, {}, 0
  local api = {}

  function api.window(spec)
    if type(spec) ~= "table" then error("window{...} needs a table", 2) end
    local kind, size, every = kind_of(spec)
    local name = spec.name
    if name == nil then unnamed = unnamed + 1; name = "#" .. unnamed end
    name = tostring(name)
    if seen[name] then error("two windows named '" .. name .. "'", 2) end
    seen[name] = true
    local w = persist.windows[name]
    if w == nil or w.kind ~= kind or w.size ~= size or w.every ~= every then
      w = setmetatable({ kind = kind, size = size, every = every, groups = {} }, Window)
      persist.windows[name] = w
    end
    w.now = now
    w.on_close = spec.on_close
    return w
  end

  function api.deadband(spec)
    if type(spec) ~= "table" or type(spec.delta) ~= "number" or spec.delta < 0 then
      error("deadband{delta = X} needs a number delta >= 0", 2)
    end
    local name = tostring(spec.name or "default")
    local d = persist.deadbands[name]
    if d == nil then d = setmetatable({ last = {} }, Deadband); persist.deadbands[name] = d end
    d.delta = spec.delta
    return d
  end

  -- The on_close calls due now, as a list of {on_close, key, result}:
  -- the engine makes each one a call of its own, under its own budgets.
  function api.due()
    local t, out = now(), {}
    for _, w in pairs(persist.windows) do w:close_due(t, out) end
    return out
  end

  function api.has_windows() return next(persist.windows) ~= nil end

  function api.begin_load()
    seen, saved, unnamed = {}, {}, 0
    for name, w in pairs(persist.windows) do saved[name] = { w = w, on_close = w.on_close } end
  end

  function api.end_load(ok)
    if ok then
      for name in pairs(persist.windows) do if not seen[name] then persist.windows[name] = nil end end
    else
      persist.windows = {}
      for name, old in pairs(saved) do old.w.on_close = old.on_close; persist.windows[name] = old.w end
    end
  end

  return api
end
)LUA";
const std::size_t kPreludeSize = sizeof(kPrelude) - 1;

}  // namespace strata::rules
