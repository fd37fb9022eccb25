#include "rules/rule_vm.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string_view>

#include <lua.hpp>

#include "broker/router/topic.hpp"
#include "broker/util/log.hpp"
#include "rules/lua_api.hpp"
#include "rules/lua_message.hpp"

namespace strata::rules {

// What one run of a rule file's chunk declared (refs into its state).
struct RuleVm::Chunk {
  std::string name;
  std::vector<std::string> filters;
  double order = 0;
  int name_line = 0, topics_line = 0, order_line = 0;
  int env_ref = LUA_NOREF;
  int on_message_ref = LUA_NOREF;
  int api_ref = LUA_NOREF;  // the prelude's api of this run (tick, windows)
};

struct RuleVm::Rule {
  std::string name;
  std::string path;
  std::vector<std::string> filters;
  double order = 0;
  std::unique_ptr<RuleState> state;  // null once released (disabled for memory)
  int env_ref = LUA_NOREF;
  int on_message_ref = LUA_NOREF;
  int api_ref = LUA_NOREF;
  std::shared_ptr<RuleCounters> counters;

  bool matches(std::string_view topic) const {
    // Most messages match no rule: a filter that starts with a literal
    // level cannot match a topic that starts with another character, so
    // one compare rejects them before the level-by-level match.
    return std::any_of(filters.begin(), filters.end(), [&](const std::string& f) {
      if (!f.empty() && f[0] != '+' && f[0] != '#' && !topic.empty() && f[0] != topic[0]) return false;
      return router::topic_matches(f, topic);
    });
  }
};

namespace {

// __newindex of a rule's environment while its chunk runs: remembers the
// line where each global was first set, so a bad `name`, `topics` or
// `order` is reported where it is written, and the declared name at once
// (for log lines of the chunk itself).
int record_declaration(lua_State* L) {
  if (lua_type(L, 2) == LUA_TSTRING && lua_type(L, 3) == LUA_TSTRING && std::string_view(lua_tostring(L, 2)) == "name") {
    static_cast<RuleVm*>(lua_touserdata(L, lua_upvalueindex(2)))->name_declared(lua_tostring(L, 3));
  }
  lua_Debug ar;
  if (lua_type(L, 2) == LUA_TSTRING && lua_getstack(L, 1, &ar) && lua_getinfo(L, "l", &ar) && ar.currentline > 0) {
    lua_pushvalue(L, 2);
    lua_pushinteger(L, ar.currentline);
    lua_rawset(L, lua_upvalueindex(1));
  }
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 0;
}

std::string at(const std::string& path, int line) {
  return line > 0 ? path + ":" + std::to_string(line) : path;
}

}  // namespace

RuleVm::RuleVm(Budgets budgets, std::string context_dir, const EmitTargets* targets, RuleStatsRegistry& stats,
               unsigned core, Clock clock)
    : budgets_(budgets),
      context_dir_(std::move(context_dir)),
      targets_(targets),
      stats_(stats),
      core_(core),
      clock_(std::move(clock)) {}

RuleVm::~RuleVm() = default;

bool RuleVm::valid_name(const std::string& name) {
  return !name.empty() && name.size() <= 128 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::string RuleVm::expand_path(const std::string& message, const std::string& path) {
  if (!message.starts_with("...")) return message;
  for (std::size_t i = 0; i < path.size(); ++i) {
    std::size_t n = path.size() - i;
    if (message.size() > 3 + n && message.compare(3, n, path, i, n) == 0 && message[3 + n] == ':') {
      return path + message.substr(3 + n);
    }
  }
  return message;
}

std::string RuleVm::check_syntax(const std::string& path, const std::string& source) {
  lua_State* L = luaL_newstate();
  if (L == nullptr) return path + ": cannot create a Lua VM";
  std::string error;
  std::string chunk = "@" + path;
  if (source.starts_with("\x1bLua") || source.starts_with("\x1bLJ")) {
    error = path + ": precompiled bytecode is not accepted; give the Lua source";
  } else if (luaL_loadbuffer(L, source.data(), source.size(), chunk.c_str()) != 0) {
    error = expand_path(lua_tostring(L, -1), path);
  }
  lua_close(L);
  return error;
}

std::vector<std::string> RuleVm::names() const {
  std::vector<std::string> out;
  for (const auto& r : rules_) out.push_back(r->name);
  return out;
}

std::vector<RuleVm::RuleInfo> RuleVm::rules() const {
  std::vector<RuleInfo> out;
  out.reserve(rules_.size());
  for (const auto& r : rules_) out.push_back({r->name, r->path, r->filters, r->order});
  return out;
}

std::string RuleVm::name_of(const std::string& path) const {
  for (const auto& r : rules_) {
    if (r->path == path) return r->name;
  }
  return {};
}

RuleVm::Rule* RuleVm::find_path(const std::string& path) {
  auto it = std::find_if(rules_.begin(), rules_.end(), [&](const auto& r) { return r->path == path; });
  return it == rules_.end() ? nullptr : it->get();
}

RuleVm::Rule* RuleVm::find_name(const std::string& name) {
  auto it = std::find_if(rules_.begin(), rules_.end(), [&](const auto& r) { return r->name == name; });
  return it == rules_.end() ? nullptr : it->get();
}

void RuleVm::sort_rules() {
  std::sort(rules_.begin(), rules_.end(), [](const auto& a, const auto& b) {
    return a->order != b->order ? a->order < b->order : a->name < b->name;
  });
}

void RuleVm::index_filters() {
  first_bytes_ = {};
  for (const auto& rule : rules_) {
    for (const std::string& f : rule->filters) {
      if (f.empty() || f[0] == '+' || f[0] == '#') {
        first_bytes_.fill(~std::uint64_t{0});
        return;
      }
      const auto c = static_cast<unsigned char>(f[0]);
      first_bytes_[c >> 6] |= std::uint64_t{1} << (c & 63);
    }
  }
}

void RuleVm::clear_context_cache() { ++context_generation_; }

bool RuleVm::add_action(Action a) {
  if (pending_.size() >= action_limit_) return false;
  pending_.push_back(std::move(a));
  return true;
}

std::unique_ptr<RuleState> RuleVm::new_state() { return std::make_unique<RuleState>(budgets_, this); }

// --- loading ----------------------------------------------------------------

std::string RuleVm::run_chunk(RuleState& state, const std::string& path, const std::string& source, Chunk& out) {
  lua_State* L = state.lua();
  std::string chunk_name = "@" + path;
  int top = lua_gettop(L);
  auto fail = [&](std::string e) {
    lua_settop(L, top);
    return e;
  };
  if (luaL_loadbuffer(L, source.data(), source.size(), chunk_name.c_str()) != 0) {
    return fail(expand_path(lua_tostring(L, -1), path));
  }
  int fn = lua_gettop(L);

  // The api of this run over the state's persist table (kept across reloads).
  lua_rawgeti(L, LUA_REGISTRYINDEX, state.persist_ref());
  int persist = lua_gettop(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, state.prelude_ref());
  lua_pushvalue(L, persist);
  lua_rawgeti(L, LUA_REGISTRYINDEX, state.base_ref());
  lua_getfield(L, -1, "now");
  lua_remove(L, -2);
  lua_call(L, 2, 1);
  int api = lua_gettop(L);
  lua_pushvalue(L, api);
  out.api_ref = luaL_ref(L, LUA_REGISTRYINDEX);

  lua_rawgeti(L, LUA_REGISTRYINDEX, state.base_ref());
  push_rule_env(L, -1, this);
  lua_remove(L, -2);
  int env = lua_gettop(L);
  for (const char* f : {"window", "deadband"}) {
    lua_getfield(L, api, f);
    lua_setfield(L, env, f);
  }
  lua_getfield(L, persist, "state");
  lua_setfield(L, env, "state");
  lua_newtable(L);
  int lines = lua_gettop(L);
  lua_newtable(L);
  int recorder = lua_gettop(L);
  lua_pushvalue(L, lines);
  lua_pushlightuserdata(L, this);
  lua_pushcclosure(L, record_declaration, 2);
  lua_setfield(L, recorder, "__newindex");
  lua_pushvalue(L, recorder);
  lua_setmetatable(L, env);
  lua_pushvalue(L, env);
  lua_setfenv(L, fn);

  lua_getfield(L, api, "begin_load");
  lua_call(L, 0, 0);
  std::string saved_name = current_name_;
  current_name_ = std::filesystem::path(path).stem().string();
  current_path_ = path;
  current_hops_ = 0;
  action_limit_ = budgets_.publish_limit;
  pending_.clear();
  lua_pushvalue(L, fn);
  std::string error;
  bool memory = false;
  bool ok = state.call(0, 0, path, error, memory);
  pending_.clear();  // a rule publishes from on_message, not while loading
  current_name_ = saved_name;

  // Take the recorder off, unless the rule set a metatable of its own.
  if (lua_getmetatable(L, env)) {
    if (lua_rawequal(L, -1, recorder)) {
      lua_pushnil(L);
      lua_setmetatable(L, env);
    }
    lua_pop(L, 1);
  }
  auto line_of = [&](const char* key) {
    lua_getfield(L, lines, key);
    int line = static_cast<int>(lua_tointeger(L, -1));
    lua_pop(L, 1);
    return line;
  };
  out.name_line = line_of("name");
  out.topics_line = line_of("topics");
  out.order_line = line_of("order");
  if (!ok) return fail(error);

  lua_getfield(L, env, "name");
  if (lua_isnil(L, -1)) {
    out.name = std::filesystem::path(path).stem().string();
    if (!valid_name(out.name)) {
      return fail(path + ": the file name '" + out.name +
                  "' is not a rule name (letters, digits, '_' and '-'); declare one: name = \"...\"");
    }
  } else if (lua_type(L, -1) != LUA_TSTRING || !valid_name(lua_tostring(L, -1))) {
    return fail(at(path, out.name_line) + ": name must be a string of letters, digits, '_' and '-' (at most 128)");
  } else {
    out.name = lua_tostring(L, -1);
  }
  lua_pop(L, 1);

  lua_getfield(L, env, "on_message");
  if (!lua_isfunction(L, -1)) return fail(path + ": the rule defines no function on_message(msg)");
  out.on_message_ref = luaL_ref(L, LUA_REGISTRYINDEX);

  std::string topics_at = at(path, out.topics_line);
  lua_getfield(L, env, "topics");
  if (lua_type(L, -1) == LUA_TSTRING) {
    out.filters.emplace_back(lua_tostring(L, -1));
  } else if (lua_type(L, -1) == LUA_TTABLE) {
    for (int i = 1;; ++i) {
      lua_rawgeti(L, -1, i);
      if (lua_isnil(L, -1)) break;
      if (lua_type(L, -1) != LUA_TSTRING) return fail(topics_at + ": topics[" + std::to_string(i) + "] is not a string");
      out.filters.emplace_back(lua_tostring(L, -1));
      lua_pop(L, 1);
    }
  }
  if (out.filters.empty()) {
    return fail(topics_at + ": the rule sets no topics (topics = \"filter\" or {\"filter\", ...})");
  }
  for (const std::string& f : out.filters) {
    if (f.starts_with("$share/") || !router::is_valid_topic_filter(f)) {
      return fail(topics_at + ": '" + f + "' is not a valid topic filter (wildcards + and #, no $share)");
    }
  }
  lua_getfield(L, env, "order");
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TNUMBER) return fail(at(path, out.order_line) + ": order must be a number");
    out.order = lua_tonumber(L, -1);
  }
  lua_pushvalue(L, env);
  out.env_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_settop(L, top);
  return {};
}

void RuleVm::finish_load(RuleState& state, Chunk& chunk, bool keep) {
  lua_State* L = state.lua();
  if (chunk.api_ref != LUA_NOREF) {
    // Keep the windows the new version declared, or give the old ones back.
    lua_rawgeti(L, LUA_REGISTRYINDEX, chunk.api_ref);
    lua_getfield(L, -1, "end_load");
    lua_pushboolean(L, keep);
    lua_call(L, 1, 0);
    lua_pop(L, 1);
  }
  if (!keep) {
    for (int ref : {chunk.env_ref, chunk.on_message_ref, chunk.api_ref}) luaL_unref(L, LUA_REGISTRYINDEX, ref);
    chunk.env_ref = chunk.on_message_ref = chunk.api_ref = LUA_NOREF;
  }
}

void RuleVm::unref(Rule& rule) {
  if (rule.state) {
    for (int ref : {rule.env_ref, rule.on_message_ref, rule.api_ref}) {
      luaL_unref(rule.state->lua(), LUA_REGISTRYINDEX, ref);
    }
  }
  rule.env_ref = rule.on_message_ref = rule.api_ref = LUA_NOREF;
}

RuleVm::LoadResult RuleVm::load(const std::string& path, const std::string& source) {
  LoadResult r;
  if (r.error = check_syntax(path, source); !r.error.empty()) return r;
  Rule* current = find_path(path);
  if (current) r.replaced = current->name;

  // Run the chunk in the state of the version this file has loaded (the
  // usual reload), else in a new state; its name decides where it belongs.
  std::unique_ptr<RuleState> fresh;
  RuleState* state = current != nullptr ? current->state.get() : nullptr;
  if (state == nullptr) {
    fresh = new_state();
    state = fresh.get();
  }
  Chunk chunk;
  r.error = run_chunk(*state, path, source, chunk);
  if (!r.error.empty()) {
    finish_load(*state, chunk, false);
    return r;
  }
  r.name = chunk.name;
  if (Rule* other = find_name(chunk.name); other != nullptr && other != current) {
    finish_load(*state, chunk, false);
    r.error = at(path, chunk.name_line) + ": the rule name '" + chunk.name + "' is already used by " + other->path;
    r.name_taken = true;
    return r;
  }

  // A new name on a file that had a rule loaded: the name's own state is
  // the one a removed rule of that name left (a renamed file), or a new
  // one. Run the chunk again there, so `state` and windows are the name's.
  std::unique_ptr<RuleState> home;
  bool from_orphan = false;
  if (current != nullptr && current->state && current->name != chunk.name) {
    if (auto it = orphans_.find(chunk.name); it != orphans_.end()) {
      home = std::move(it->second);
      orphans_.erase(it);
      from_orphan = true;
    } else {
      home = new_state();
    }
  } else if (fresh) {
    if (auto it = orphans_.find(chunk.name); it != orphans_.end()) {
      home = std::move(it->second);
      orphans_.erase(it);
      from_orphan = true;
    }
  }
  if (home) {
    finish_load(*state, chunk, false);
    chunk = Chunk{};
    state = home.get();
    r.error = run_chunk(*state, path, source, chunk);
    if (r.error.empty() && chunk.name != r.name) {
      r.error = at(path, chunk.name_line) + ": the rule's name changed between two runs of its file";
    }
    if (!r.error.empty()) {
      finish_load(*state, chunk, false);
      if (from_orphan) orphans_[r.name] = std::move(home);
      return r;
    }
    fresh = std::move(home);
  }
  finish_load(*state, chunk, true);

  Rule* rule = current;
  if (rule == nullptr) {
    rules_.push_back(std::make_unique<Rule>());
    rule = rules_.back().get();
    rule->path = path;
  } else {
    unref(*rule);
    if (fresh && rule->state) orphans_[rule->name] = std::move(rule->state);
  }
  if (fresh) rule->state = std::move(fresh);
  rule->name = chunk.name;
  rule->filters = std::move(chunk.filters);
  rule->order = chunk.order;
  rule->env_ref = chunk.env_ref;
  rule->on_message_ref = chunk.on_message_ref;
  rule->api_ref = chunk.api_ref;
  rule->counters = stats_.get(rule->name);
  rule->counters->enable();
  rule->counters->core(core_).memory.store(rule->state->used(), std::memory_order_relaxed);
  sort_rules();
  index_filters();
  return r;
}

std::string RuleVm::remove(const std::string& path) {
  auto it = std::find_if(rules_.begin(), rules_.end(), [&](const auto& r) { return r->path == path; });
  if (it == rules_.end()) return {};
  Rule& rule = **it;
  std::string name = rule.name;
  unref(rule);
  if (rule.state) orphans_[name] = std::move(rule.state);
  rule.counters->core(core_).memory.store(0, std::memory_order_relaxed);
  rules_.erase(it);
  index_filters();
  return name;
}

void RuleVm::collect() { orphans_.clear(); }

// --- running ------------------------------------------------------------------

void RuleVm::fault(Rule& rule, const std::string& error, bool memory) {
  RuleCounters::add(rule.counters->core(core_).errors);
  if (watcher_) watcher_->fault(error);
  STRATA_WARN("rules") << error << " [rule " << rule.name << "]";
  if (rule.counters->fault(clock_(), budgets_.fault_limit, budgets_.fault_window_ms, memory)) {
    STRATA_ERROR("rules") << rule.path << ": rule " << rule.name << " disabled after " << budgets_.fault_limit
                          << " faults within " << budgets_.fault_window_ms / 1000 << " s"
                          << (memory ? "; its state is unloaded, giving its memory back" : "")
                          << "; it runs again when its file changes";
  }
  if (rule.counters->unload()) release(rule);
}

bool RuleVm::release(Rule& rule) {
  if (!rule.state) return false;
  unref(rule);
  rule.state.reset();
  rule.counters->core(core_).memory.store(0, std::memory_order_relaxed);
  return true;
}

void RuleVm::take_actions(Rule& rule, Outcome& out) {
  RuleCounters::PerCore& c = rule.counters->core(core_);
  for (Action& a : pending_) {
    RuleCounters::add(a.kind == Action::Kind::publish ? c.published : c.emitted);
    out.actions.push_back(std::move(a));
  }
  pending_.clear();
}

RuleVm::Outcome RuleVm::run(router::MessagePtr& msg) {
  Outcome out;
  if (!may_match(msg->topic)) return out;
  std::uint64_t received = 0;  // read once a rule matches: most messages match none
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    Rule& rule = *rules_[i];
    if (rule.counters->paused()) continue;
    if (rule.counters->disabled()) {
      if (rule.counters->unload()) release(rule);  // disabled on another core
      continue;
    }
    if (!rule.state || !rule.matches(msg->topic)) continue;
    RuleCounters::PerCore& c = rule.counters->core(core_);
    RuleCounters::add(c.matched);
    if (received == 0) received = clock_();
    auto started = std::chrono::steady_clock::now();
    current_name_ = rule.name;
    current_path_ = rule.path;
    current_hops_ = msg->hops;
    action_limit_ = budgets_.publish_limit;
    pending_.clear();
    lua_State* L = rule.state->lua();
    lua_rawgeti(L, LUA_REGISTRYINDEX, rule.on_message_ref);
    push_message(L, *msg, received, &msg);
    lua_pushvalue(L, -1);
    lua_insert(L, -3);  // keep the message table below the call
    std::string error;
    bool memory = false;
    bool ok = rule.state->call(1, 1, rule.path, error, memory);
    bool drop = false;
    router::MessagePtr replacement;
    if (ok) {
      int result = lua_gettop(L);
      int type = lua_type(L, result);
      if (type == LUA_TBOOLEAN && lua_toboolean(L, result) == 0) {
        drop = true;
      } else if (type == LUA_TNIL || type == LUA_TBOOLEAN || type == LUA_TTABLE) {
        router::MessageDraft changed;
        int from = type == LUA_TTABLE ? result : result - 1;  // the returned table or msg
        if (!read_message(L, from, *msg, changed, error)) {
          ok = false;
          error = rule.path + ": on_message result: " + error;
        } else if (changed.topic != msg->topic || changed.payload != msg->payload || changed.qos != msg->qos ||
                   changed.retain != msg->retain || !(changed.properties == msg->properties)) {
          replacement = router::Message::make(std::move(changed));
        }
      } else {
        ok = false;
        error = rule.path + ": on_message returned a " + lua_typename(L, type) +
                "; expected nothing, a message table or false";
      }
      lua_pop(L, 2);
    } else {
      lua_pop(L, 1);
    }
    current_name_.clear();
    auto took = std::chrono::steady_clock::now() - started;
    c.latency.record(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(took).count()));
    c.memory.store(rule.state->used(), std::memory_order_relaxed);
    if (!ok) {
      pending_.clear();
      fault(rule, error, memory);
      continue;  // the message goes on unchanged
    }
    take_actions(rule, out);
    if (drop) {
      RuleCounters::add(c.dropped);
      out.drop = true;
      return out;
    }
    RuleCounters::add(c.passed);
    if (replacement) msg = std::move(replacement);
  }
  return out;
}

void RuleVm::run_tick(Rule& rule, Outcome& out) {
  lua_State* L = rule.state->lua();
  int top = lua_gettop(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, rule.api_ref);
  lua_getfield(L, -1, "has_windows");
  lua_call(L, 0, 1);
  bool any = lua_toboolean(L, -1) != 0;
  lua_pop(L, 1);
  if (!any) {
    lua_settop(L, top);
    return;
  }
  // Trusted prelude code, bounded by what the windows hold: no budgets.
  lua_getfield(L, -1, "due");
  lua_call(L, 0, 1);
  int due = lua_gettop(L);
  int n = static_cast<int>(lua_objlen(L, due));
  current_name_ = rule.name;
  current_path_ = rule.path;
  current_hops_ = 0;
  // One publish per key and window: bounded by what the windows hold.
  action_limit_ = SIZE_MAX;
  // Each on_close(key, result) is a call of its own, under its own budgets:
  // a window over many keys closes whole, and a fault loses one key's result.
  for (int i = 1; i <= n && !rule.counters->disabled(); ++i) {
    lua_rawgeti(L, due, i);
    for (int j = 1; j <= 3; ++j) lua_rawgeti(L, -j, j);  // on_close, key, result
    lua_remove(L, -4);
    pending_.clear();
    std::string error;
    bool memory = false;
    if (rule.state->call(2, 0, rule.path, error, memory)) {
      take_actions(rule, out);
    } else {
      pending_.clear();
      fault(rule, error, memory);
      if (!rule.state) break;  // unloaded for memory
    }
  }
  current_name_.clear();
  if (rule.state) {
    lua_settop(L, top);
    rule.counters->core(core_).memory.store(rule.state->used(), std::memory_order_relaxed);
  }
}

RuleVm::Outcome RuleVm::tick() {
  Outcome out;
  for (auto& rule : rules_) {
    if (rule->counters->paused()) continue;
    if (rule->counters->disabled()) {
      if (rule->counters->unload()) release(*rule);
    } else if (rule->state) {
      run_tick(*rule, out);
    }
  }
  return out;
}

}  // namespace strata::rules
