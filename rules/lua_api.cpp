#include "rules/lua_api.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <lua.hpp>

#include "broker/util/log.hpp"
#include "rules/lua_json.hpp"
#include "rules/lua_message.hpp"
#include "rules/rule_vm.hpp"

namespace strata::rules {
namespace {

RuleVm* vm_of(lua_State* L) { return static_cast<RuleVm*>(lua_touserdata(L, lua_upvalueindex(1))); }

void push_vm_closure(lua_State* L, RuleVm* vm, lua_CFunction fn) {
  lua_pushlightuserdata(L, vm);
  lua_pushcclosure(L, fn, 1);
}

// publish(topic, payload [, options]) and emit(target, message): the
// message as a table with topic, payload, qos, retain, user_properties ...
router::MessagePtr message_from(lua_State* L, RuleVm* vm, int index, const char* what) {
  router::MessageDraft base;
  base.publisher = "$rule/" + vm->current_rule();
  base.hops = static_cast<std::uint8_t>(vm->current_hops() + 1);
  router::MessageDraft out;
  std::string error;
  if (!read_message(L, index, base, out, error)) luaL_error(L, "%s: %s", what, error.c_str());
  out.hops = base.hops;
  out.publisher = base.publisher;
  if (out.hops > vm->budgets().hop_limit) {
    luaL_error(L, "%s: publish loop: hop limit %d reached at topic '%s'", what,
               static_cast<int>(vm->budgets().hop_limit), out.topic.c_str());
  }
  return router::Message::make(std::move(out));
}

// A call over its publish_limit ends, like one over a budget: the rule's
// pcall cannot catch it.
void add_action(lua_State* L, RuleVm* vm, Action a) {
  if (vm->add_action(std::move(a))) return;
  RuleState::of(L)->abort_call();
  luaL_error(L, "publish limit exceeded (%d messages per call)", static_cast<int>(vm->budgets().publish_limit));
}

int api_publish(lua_State* L) {
  RuleVm* vm = vm_of(L);
  luaL_checktype(L, 1, LUA_TSTRING);
  if (lua_isnoneornil(L, 2)) luaL_argerror(L, 2, "payload expected");
  lua_settop(L, 3);
  if (lua_isnil(L, 3)) {
    lua_newtable(L);
    lua_replace(L, 3);
  }
  luaL_checktype(L, 3, LUA_TTABLE);
  // Copy the options so the rule's table is not changed.
  lua_newtable(L);
  lua_pushnil(L);
  while (lua_next(L, 3) != 0) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, 4);
  }
  lua_pushvalue(L, 1);
  lua_setfield(L, 4, "topic");
  lua_pushvalue(L, 2);
  lua_setfield(L, 4, "payload");
  add_action(L, vm, {Action::Kind::publish, {}, message_from(L, vm, 4, "publish")});
  return 0;
}

int api_emit(lua_State* L) {
  RuleVm* vm = vm_of(L);
  std::size_t len = 0;
  const char* target = luaL_checklstring(L, 1, &len);
  luaL_checktype(L, 2, LUA_TTABLE);
  if (vm->targets() == nullptr || vm->targets()->find(std::string_view(target, len)) == nullptr) {
    return luaL_error(L, "emit: no target named '%s'", target);
  }
  add_action(L, vm, {Action::Kind::emit, std::string(target, len), message_from(L, vm, 2, "emit")});
  return 0;
}

// history.last(series) -> value, time (unix ms); nil when the series has
// no point.
int api_history_last(lua_State* L) {
  RuleVm* vm = vm_of(L);
  std::size_t len = 0;
  const char* series = luaL_checklstring(L, 1, &len);
  const HistorySource* h = vm->targets() ? vm->targets()->history() : nullptr;
  if (h == nullptr) return luaL_error(L, "history: the historian is not enabled");
  auto p = h->last(std::string_view(series, len));
  if (!p) {
    lua_pushnil(L);
    return 1;
  }
  lua_pushnumber(L, p->second);
  lua_pushnumber(L, static_cast<double>(p->first));
  return 2;
}

// history.range(series, from, to, interval_ms [, agg]) -> array of
// {time = ms, value = v}, at most history_max_rows.
int api_history_range(lua_State* L) {
  constexpr std::size_t history_max_rows = 10000;
  RuleVm* vm = vm_of(L);
  std::size_t len = 0;
  const char* series = luaL_checklstring(L, 1, &len);
  auto from = static_cast<std::int64_t>(luaL_checknumber(L, 2));
  auto to = static_cast<std::int64_t>(luaL_checknumber(L, 3));
  auto interval = static_cast<std::int64_t>(luaL_checknumber(L, 4));
  std::size_t agg_len = 0;
  const char* agg = luaL_optlstring(L, 5, "avg", &agg_len);
  const HistorySource* h = vm->targets() ? vm->targets()->history() : nullptr;
  if (h == nullptr) return luaL_error(L, "history: the historian is not enabled");
  std::vector<std::pair<std::int64_t, double>> rows;
  std::string error;
  if (!h->range(std::string_view(series, len), from, to, interval, std::string_view(agg, agg_len), history_max_rows,
                rows, error)) {
    return luaL_error(L, "history.range: %s", error.c_str());
  }
  lua_createtable(L, static_cast<int>(rows.size()), 0);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    lua_createtable(L, 0, 2);
    lua_pushnumber(L, static_cast<double>(rows[i].first));
    lua_setfield(L, -2, "time");
    lua_pushnumber(L, rows[i].second);
    lua_setfield(L, -2, "value");
    lua_rawseti(L, -2, static_cast<int>(i + 1));
  }
  return 1;
}

int api_now(lua_State* L) {
  lua_pushnumber(L, static_cast<double>(vm_of(L)->now()));
  return 1;
}

template <log::Level level>
int api_log(lua_State* L) {
  RuleVm* vm = vm_of(L);
  RuleVm::Watcher* watcher = vm->watcher();
  if (watcher == nullptr && !log::enabled(level)) return 0;
  std::string text;
  int n = lua_gettop(L);
  lua_getglobal(L, "tostring");  // the VM's own, not the rule's
  for (int i = 1; i <= n; ++i) {
    lua_pushvalue(L, -1);
    lua_pushvalue(L, i);
    lua_call(L, 1, 1);
    std::size_t len = 0;
    const char* s = lua_tolstring(L, -1, &len);
    if (i > 1) text += ' ';
    if (s != nullptr) text.append(s, len);
    lua_pop(L, 1);
  }
  lua_Debug ar;
  std::string where;
  if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
    where = RuleVm::expand_path(std::string(ar.short_src) + ":" + std::to_string(ar.currentline) + ": ",
                                vm->current_path());
  }
  if (watcher != nullptr) {
    watcher->log_line(level == log::Level::debug  ? "debug"
                      : level == log::Level::info ? "info"
                      : level == log::Level::warn ? "warn"
                                                  : "error",
                      where + text);
    if (!log::enabled(level)) return 0;
  }
  log::Line(level, "rules").stream() << where << text << " [rule " << vm->current_rule() << "]";
  return 0;
}

int api_json_encode(lua_State* L) {
  luaL_checkany(L, 1);
  std::string out, error;
  if (!json_encode(L, 1, out, error)) return luaL_error(L, "json.encode: %s", error.c_str());
  lua_pushlstring(L, out.data(), out.size());
  return 1;
}

// json.decode(text) -> value, or nil and the error.
int api_json_decode(lua_State* L) {
  std::size_t len = 0;
  const char* text = luaL_checklstring(L, 1, &len);
  std::string error;
  if (json_decode(L, std::string_view(text, len), error)) return 1;
  lua_pushnil(L);
  lua_pushlstring(L, error.data(), error.size());
  return 2;
}

// pcall/xpcall that cannot catch a budget fault.
int finish_pcall(lua_State* L, int status, int base) {
  if (status != 0 && RuleState::of(L)->aborting()) return lua_error(L);
  lua_pushboolean(L, status == 0);
  lua_insert(L, base);
  return lua_gettop(L) - base + 1;
}

int api_pcall(lua_State* L) {
  luaL_checkany(L, 1);
  int status = lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0);
  return finish_pcall(L, status, 1);
}

int api_xpcall(lua_State* L) {
  luaL_checkany(L, 2);
  // Stack: f, handler, args... -> handler, f, args...
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_replace(L, 1);
  lua_replace(L, 2);
  int status = lua_pcall(L, lua_gettop(L) - 2, LUA_MULTRET, 1);
  return finish_pcall(L, status, 2);
}

// getmetatable that honours __metatable and hides the string metatable.
int api_getmetatable(lua_State* L) {
  luaL_checkany(L, 1);
  if (lua_type(L, 1) == LUA_TSTRING) {
    lua_pushboolean(L, 0);  // as if locked with __metatable = false
    return 1;
  }
  if (!lua_getmetatable(L, 1)) return 0;
  lua_getfield(L, -1, "__metatable");
  if (!lua_isnil(L, -1)) return 1;
  lua_pop(L, 1);
  return 1;
}

bool valid_context_name(std::string_view name) {
  if (name.empty() || name.front() == '.' || !name.ends_with(".json")) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// context("assets.json"): the JSON file from the rules directory, parsed
// once per rule (upvalue 2: the cache table, with the generation it holds).
int api_context(lua_State* L) {
  RuleVm* vm = vm_of(L);
  std::size_t len = 0;
  const char* name = luaL_checklstring(L, 1, &len);
  std::string_view n(name, len);
  if (!valid_context_name(n)) {
    return luaL_error(L, "context: '%s' is not a file name in the rules directory ending in .json", name);
  }
  int cache = lua_upvalueindex(2);
  lua_getfield(L, cache, "__generation");
  bool stale = lua_tonumber(L, -1) != vm->context_generation();
  lua_pop(L, 1);
  if (stale) {  // files changed on disk: empty the cache in place
    lua_pushnil(L);
    while (lua_next(L, cache) != 0) {
      lua_pop(L, 1);
      lua_pushvalue(L, -1);
      lua_pushnil(L);
      lua_rawset(L, cache);
    }
    lua_pushnumber(L, vm->context_generation());
    lua_setfield(L, cache, "__generation");
  }
  lua_pushvalue(L, 1);
  lua_rawget(L, cache);
  if (!lua_isnil(L, -1)) return 1;
  lua_pop(L, 1);

  std::string path = vm->context_dir() + "/" + std::string(n);
  std::ifstream in(path, std::ios::binary);
  if (!in) return luaL_error(L, "context: cannot open %s: %s", path.c_str(), std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  std::string error;
  if (!json_decode(L, text.str(), error)) return luaL_error(L, "context: %s: %s", path.c_str(), error.c_str());
  lua_pushvalue(L, 1);
  lua_pushvalue(L, -2);
  lua_rawset(L, cache);
  return 1;
}

void copy_table(lua_State* L, int from) {
  lua_newtable(L);
  lua_pushnil(L);
  while (lua_next(L, from) != 0) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -4);
  }
}

}  // namespace

void push_sandbox_base(lua_State* L, RuleVm* vm) {
  lua_newtable(L);
  int base = lua_gettop(L);
  static const char* const kSafe[] = {"assert", "error",  "ipairs",   "next",     "pairs",  "select",
                                      "tonumber", "tostring", "type", "unpack", "rawequal", "rawget",
                                      "rawset", "setmetatable", "_VERSION"};
  for (const char* name : kSafe) {
    lua_getglobal(L, name);
    lua_setfield(L, base, name);
  }
  lua_pushcfunction(L, api_pcall);
  lua_setfield(L, base, "pcall");
  lua_pushcfunction(L, api_xpcall);
  lua_setfield(L, base, "xpcall");
  lua_pushcfunction(L, api_getmetatable);
  lua_setfield(L, base, "getmetatable");

  for (const char* lib : {"string", "table", "math", "bit"}) {
    lua_getglobal(L, lib);
    copy_table(L, lua_gettop(L));
    lua_remove(L, -2);
    lua_setfield(L, base, lib);
  }
  lua_getfield(L, base, "string");
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  lua_pop(L, 1);

  lua_newtable(L);  // os: clock and time only
  lua_getglobal(L, "os");
  for (const char* name : {"time", "clock", "date", "difftime"}) {
    lua_getfield(L, -1, name);
    lua_setfield(L, -3, name);
  }
  lua_pop(L, 1);
  lua_setfield(L, base, "os");

  lua_newtable(L);
  lua_pushcfunction(L, api_json_encode);
  lua_setfield(L, -2, "encode");
  lua_pushcfunction(L, api_json_decode);
  lua_setfield(L, -2, "decode");
  lua_pushlightuserdata(L, nullptr);
  lua_setfield(L, -2, "null");
  lua_setfield(L, base, "json");

  lua_newtable(L);
  push_vm_closure(L, vm, api_log<log::Level::debug>);
  lua_setfield(L, -2, "debug");
  push_vm_closure(L, vm, api_log<log::Level::info>);
  lua_setfield(L, -2, "info");
  push_vm_closure(L, vm, api_log<log::Level::warn>);
  lua_setfield(L, -2, "warn");
  push_vm_closure(L, vm, api_log<log::Level::error>);
  lua_setfield(L, -2, "error");
  lua_setfield(L, base, "log");
  push_vm_closure(L, vm, api_log<log::Level::info>);
  lua_setfield(L, base, "print");

  push_vm_closure(L, vm, api_publish);
  lua_setfield(L, base, "publish");
  push_vm_closure(L, vm, api_emit);
  lua_setfield(L, base, "emit");
  push_vm_closure(L, vm, api_now);
  lua_setfield(L, base, "now");

  lua_newtable(L);
  push_vm_closure(L, vm, api_history_last);
  lua_setfield(L, -2, "last");
  push_vm_closure(L, vm, api_history_range);
  lua_setfield(L, -2, "range");
  lua_setfield(L, base, "history");
}

void push_rule_env(lua_State* L, int base_index, RuleVm* vm) {
  if (base_index < 0) base_index = lua_gettop(L) + base_index + 1;
  lua_newtable(L);
  int env = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, base_index) != 0) {
    if (lua_type(L, -1) == LUA_TTABLE) {
      copy_table(L, lua_gettop(L));
      lua_remove(L, -2);
    }
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, env);
  }
  lua_pushvalue(L, env);
  lua_setfield(L, env, "_G");
  lua_pushlightuserdata(L, vm);
  lua_newtable(L);
  lua_pushcclosure(L, api_context, 2);
  lua_setfield(L, env, "context");
}

}  // namespace strata::rules
