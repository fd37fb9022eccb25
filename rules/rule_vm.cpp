#include "rules/rule_vm.hpp"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include <lua.hpp>

#include "broker/router/topic.hpp"
#include "broker/util/log.hpp"
#include "rules/lua_api.hpp"
#include "rules/lua_message.hpp"
#include "rules/prelude.hpp"

namespace strata::rules {

struct RuleVm::Rule {
  std::string name;
  std::string path;
  std::vector<std::string> filters;
  double order = 0;
  int env_ref = LUA_NOREF;
  int on_message_ref = LUA_NOREF;
  int api_ref = LUA_NOREF;  // the prelude's api of this rule (tick, windows)
  std::shared_ptr<RuleCounters> counters;

  bool matches(const std::string& topic) const {
    return std::any_of(filters.begin(), filters.end(),
                       [&](const std::string& f) { return router::topic_matches(f, topic); });
  }
};

namespace {

RuleVm* vm_from(lua_State* L) {
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  return static_cast<RuleVm*>(ud);
}

// Message handler: prefixes "file:line: " of the innermost Lua frame when
// the error does not carry a position (errors raised in C functions or the
// count hook).
int add_position(lua_State* L) {
  if (lua_type(L, 1) != LUA_TSTRING) {
    lua_pushfstring(L, "error object is a %s, not a string", luaL_typename(L, 1));
    return 1;
  }
  std::size_t len = 0;
  const char* msg = lua_tolstring(L, 1, &len);
  std::string_view text(msg, len);
  // Already "chunk:line: ..." (error() in Lua, luaL_error with a caller)?
  if (auto colon = text.find(':'); colon != std::string_view::npos && colon + 1 < text.size()) {
    std::size_t digits = colon + 1;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits > colon + 1 && digits < text.size() && text[digits] == ':') return 1;
  }
  lua_Debug ar;
  for (int level = 1; lua_getstack(L, level, &ar); ++level) {
    if (!lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0) continue;
    lua_pushfstring(L, "%s:%d: %s", ar.short_src, ar.currentline, msg);
    return 1;
  }
  return 1;
}

}  // namespace

// --- allocation and budgets ---------------------------------------------

void* RuleVm::allocate(void* ud, void* ptr, std::size_t osize, std::size_t nsize) noexcept {
  auto* vm = static_cast<RuleVm*>(ud);
  if (nsize == 0) {
    std::free(ptr);
    vm->used_ -= osize;
    return nullptr;
  }
  if (vm->in_call_ && nsize > osize && vm->used_ + (nsize - osize) > vm->call_limit_) {
    vm->aborting_ = true;  // LuaJIT raises "not enough memory"
    if (!vm->memory_exceeded_) {
      vm->memory_exceeded_ = true;
      // Remember the rule's line: the error itself carries no position.
      // (getinfo "l" reads the frame without allocating.)
      lua_Debug ar;
      vm->memory_line_ = 0;
      for (int level = 0; vm->memory_line_ <= 0 && lua_getstack(vm->L_, level, &ar); ++level) {
        if (lua_getinfo(vm->L_, "l", &ar)) vm->memory_line_ = ar.currentline;
      }
    }
    return nullptr;
  }
  void* p = std::realloc(ptr, nsize);
  if (p == nullptr) return nullptr;
  vm->used_ += nsize;
  vm->used_ -= osize;
  return p;
}

namespace {

void count_hook(lua_State* L, lua_Debug*) {
  RuleVm* vm = vm_from(L);
  if (!vm->count_step()) return;
  luaL_error(L, "instruction budget exceeded (%d instructions per call)",
             static_cast<int>(vm->budgets().instructions));
}

}  // namespace

bool RuleVm::count_step() noexcept {
  if (!in_call_) return false;
  steps_ += kHookEvery;
  if (steps_ <= budgets_.instructions && !aborting_) return false;
  aborting_ = true;
  return true;
}

bool RuleVm::protected_call(int nargs, int nresults, const std::string& path, std::string& error) {
  int fn = lua_gettop(L_) - nargs;
  lua_rawgeti(L_, LUA_REGISTRYINDEX, traceback_ref_);
  lua_insert(L_, fn);
  steps_ = 0;
  aborting_ = false;
  memory_exceeded_ = false;
  call_limit_ = used_ + budgets_.memory_bytes;
  in_call_ = true;
  int status = lua_pcall(L_, nargs, nresults, fn);
  in_call_ = false;
  bool budget = aborting_;
  aborting_ = false;
  if (status == 0) {
    lua_remove(L_, fn);
    return true;
  }
  if (status == LUA_ERRMEM || memory_exceeded_) {
    error = path + (memory_line_ > 0 ? ":" + std::to_string(memory_line_) : std::string()) +
            ": memory limit exceeded (" + std::to_string(budgets_.memory_bytes / 1024) +
            " KiB per call)";
  } else {
    std::size_t len = 0;
    const char* msg = lua_tolstring(L_, -1, &len);
    error = expand_path(msg != nullptr ? std::string(msg, len) : std::string("error"), path);
    if (!error.starts_with(path)) error = path + ": " + error;
  }
  lua_settop(L_, fn - 1);
  if (budget) lua_gc(L_, LUA_GCCOLLECT, 0);  // give back what a runaway call took
  return false;
}

// --- construction ---------------------------------------------------------

RuleVm::RuleVm(Budgets budgets, std::string context_dir, const EmitTargets* targets, RuleStatsRegistry& stats,
               unsigned core, Clock clock)
    : budgets_(budgets),
      context_dir_(std::move(context_dir)),
      targets_(targets),
      stats_(stats),
      core_(core),
      clock_(std::move(clock)) {
  L_ = lua_newstate(&RuleVm::allocate, this);
  if (L_ == nullptr) throw std::runtime_error("cannot create a Lua VM");
  luaL_openlibs(L_);
  // The count hook is not checked inside compiled traces (no
  // LUAJIT_ENABLE_CHECKHOOK in distribution builds): run interpreted.
  if (!budgets_.jit) luaJIT_setmode(L_, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
  lua_sethook(L_, count_hook, LUA_MASKCOUNT, kHookEvery);

  // Strings share one metatable whose __index is the real string library:
  // hide it from getmetatable so no rule can change it for the others.
  lua_pushliteral(L_, "");
  lua_getmetatable(L_, -1);
  lua_pushboolean(L_, 0);
  lua_setfield(L_, -2, "__metatable");
  lua_pop(L_, 2);

  register_message_metatable(L_);
  lua_pushcfunction(L_, add_position);
  traceback_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
  if (luaL_loadbuffer(L_, kPrelude, kPreludeSize, "=prelude") != 0 || lua_pcall(L_, 0, 1, 0) != 0) {
    std::string e = lua_tostring(L_, -1);
    lua_close(L_);
    throw std::runtime_error("rule prelude: " + e);
  }
  prelude_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
  lua_newtable(L_);
  persist_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
  push_sandbox_base(L_, this);
  base_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
}

RuleVm::~RuleVm() {
  if (L_ != nullptr) lua_close(L_);
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

void RuleVm::sort_rules() {
  std::sort(rules_.begin(), rules_.end(), [](const auto& a, const auto& b) {
    return a->order != b->order ? a->order < b->order : a->name < b->name;
  });
}

void RuleVm::clear_context_cache() { ++context_generation_; }

void RuleVm::add_action(Action a) { pending_.push_back(std::move(a)); }

// --- loading ----------------------------------------------------------------

std::string RuleVm::load(const std::string& name, const std::string& path, const std::string& source) {
  if (std::string e = check_syntax(path, source); !e.empty()) return e;
  std::string chunk = "@" + path;
  int top = lua_gettop(L_);
  auto fail = [&](std::string e) {
    lua_settop(L_, top);
    return e;
  };
  if (luaL_loadbuffer(L_, source.data(), source.size(), chunk.c_str()) != 0) {
    return fail(expand_path(lua_tostring(L_, -1), path));
  }
  int fn = lua_gettop(L_);

  // The rule's persist table (kept across reloads) and its api.
  lua_rawgeti(L_, LUA_REGISTRYINDEX, persist_ref_);
  lua_getfield(L_, -1, name.c_str());
  if (lua_isnil(L_, -1)) {
    lua_pop(L_, 1);
    lua_newtable(L_);
    lua_pushvalue(L_, -1);
    lua_setfield(L_, -3, name.c_str());
  }
  lua_remove(L_, -2);
  int persist = lua_gettop(L_);
  lua_rawgeti(L_, LUA_REGISTRYINDEX, prelude_ref_);
  lua_pushvalue(L_, persist);
  lua_rawgeti(L_, LUA_REGISTRYINDEX, base_ref_);
  lua_getfield(L_, -1, "now");
  lua_remove(L_, -2);
  lua_call(L_, 2, 1);
  int api = lua_gettop(L_);

  lua_rawgeti(L_, LUA_REGISTRYINDEX, base_ref_);
  push_rule_env(L_, -1, this);
  lua_remove(L_, -2);
  int env = lua_gettop(L_);
  for (const char* f : {"window", "deadband"}) {
    lua_getfield(L_, api, f);
    lua_setfield(L_, env, f);
  }
  lua_getfield(L_, persist, "state");
  lua_setfield(L_, env, "state");
  lua_pushvalue(L_, env);
  lua_setfenv(L_, fn);

  lua_getfield(L_, api, "begin_load");
  lua_call(L_, 0, 0);
  std::string saved_name = current_name_;
  current_name_ = name;
  current_path_ = path;
  current_hops_ = 0;
  pending_.clear();
  lua_pushvalue(L_, fn);
  std::string error;
  bool ok = protected_call(0, 0, path, error);
  pending_.clear();  // a rule publishes from on_message, not while loading
  current_name_ = saved_name;

  Rule rule;
  rule.name = name;
  rule.path = path;
  if (ok) {
    lua_getfield(L_, env, "on_message");
    if (!lua_isfunction(L_, -1)) {
      ok = false;
      error = path + ": the rule defines no function on_message(msg)";
    }
    lua_pop(L_, 1);
  }
  if (ok) {
    lua_getfield(L_, env, "topics");
    if (lua_type(L_, -1) == LUA_TSTRING) {
      rule.filters.emplace_back(lua_tostring(L_, -1));
    } else if (lua_type(L_, -1) == LUA_TTABLE) {
      for (int i = 1;; ++i) {
        lua_rawgeti(L_, -1, i);
        if (lua_isnil(L_, -1)) {
          lua_pop(L_, 1);
          break;
        }
        if (lua_type(L_, -1) != LUA_TSTRING) {
          ok = false;
          error = path + ": topics[" + std::to_string(i) + "] is not a string";
        } else {
          rule.filters.emplace_back(lua_tostring(L_, -1));
        }
        lua_pop(L_, 1);
      }
    }
    lua_pop(L_, 1);
    if (ok && rule.filters.empty()) {
      ok = false;
      error = path + ": the rule sets no topics (topics = \"filter\" or {\"filter\", ...})";
    }
    for (const std::string& f : rule.filters) {
      if (!ok) break;
      if (f.starts_with("$share/") || !router::is_valid_topic_filter(f)) {
        ok = false;
        error = path + ": '" + f + "' is not a valid topic filter (wildcards + and #, no $share)";
      }
    }
  }
  if (ok) {
    lua_getfield(L_, env, "order");
    if (!lua_isnil(L_, -1)) {
      if (lua_type(L_, -1) != LUA_TNUMBER) {
        ok = false;
        error = path + ": order must be a number";
      }
      rule.order = lua_tonumber(L_, -1);
    }
    lua_pop(L_, 1);
  }
  lua_getfield(L_, api, "end_load");
  lua_pushboolean(L_, ok);
  lua_call(L_, 1, 0);
  if (!ok) return fail(error);

  lua_getfield(L_, env, "on_message");
  rule.on_message_ref = luaL_ref(L_, LUA_REGISTRYINDEX);
  lua_pushvalue(L_, api);
  rule.api_ref = luaL_ref(L_, LUA_REGISTRYINDEX);
  lua_pushvalue(L_, env);
  rule.env_ref = luaL_ref(L_, LUA_REGISTRYINDEX);
  rule.counters = stats_.get(name);
  rule.counters->enable();
  lua_settop(L_, top);

  auto it = std::find_if(rules_.begin(), rules_.end(), [&](const auto& r) { return r->name == name; });
  if (it != rules_.end()) {
    for (int ref : {(*it)->env_ref, (*it)->on_message_ref, (*it)->api_ref}) luaL_unref(L_, LUA_REGISTRYINDEX, ref);
    **it = std::move(rule);
  } else {
    rules_.push_back(std::make_unique<Rule>(std::move(rule)));
  }
  sort_rules();
  return {};
}

bool RuleVm::remove(const std::string& name) {
  auto it = std::find_if(rules_.begin(), rules_.end(), [&](const auto& r) { return r->name == name; });
  if (it == rules_.end()) return false;
  for (int ref : {(*it)->env_ref, (*it)->on_message_ref, (*it)->api_ref}) luaL_unref(L_, LUA_REGISTRYINDEX, ref);
  rules_.erase(it);
  lua_rawgeti(L_, LUA_REGISTRYINDEX, persist_ref_);
  lua_pushnil(L_);
  lua_setfield(L_, -2, name.c_str());
  lua_pop(L_, 1);
  lua_gc(L_, LUA_GCCOLLECT, 0);
  return true;
}

// --- running ------------------------------------------------------------------

void RuleVm::fault(Rule& rule, const std::string& error) {
  RuleCounters::add(rule.counters->core(core_).errors);
  STRATA_WARN("rules") << error << " [rule " << rule.name << "]";
  if (rule.counters->fault(clock_(), budgets_.fault_limit, budgets_.fault_window_ms)) {
    STRATA_ERROR("rules") << rule.path << ": rule " << rule.name << " disabled after " << budgets_.fault_limit
                          << " faults within " << budgets_.fault_window_ms / 1000
                          << " s; it runs again when its file changes";
  }
}

RuleVm::Outcome RuleVm::run(router::MessagePtr& msg) {
  Outcome out;
  if (rules_.empty()) return out;
  std::uint64_t received = clock_();
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    Rule& rule = *rules_[i];
    if (rule.counters->disabled() || !rule.matches(msg->topic)) continue;
    RuleCounters::PerCore& c = rule.counters->core(core_);
    RuleCounters::add(c.matched);
    auto started = std::chrono::steady_clock::now();
    current_name_ = rule.name;
    current_path_ = rule.path;
    current_hops_ = msg->hops;
    pending_.clear();
    lua_rawgeti(L_, LUA_REGISTRYINDEX, rule.on_message_ref);
    push_message(L_, *msg, received);
    lua_pushvalue(L_, -1);
    lua_insert(L_, -3);  // keep the message table below the call
    std::string error;
    bool ok = protected_call(1, 1, rule.path, error);
    bool drop = false;
    router::MessagePtr replacement;
    if (ok) {
      int result = lua_gettop(L_);
      int type = lua_type(L_, result);
      if (type == LUA_TBOOLEAN && lua_toboolean(L_, result) == 0) {
        drop = true;
      } else if (type == LUA_TNIL || type == LUA_TBOOLEAN || type == LUA_TTABLE) {
        router::Message changed;
        int from = type == LUA_TTABLE ? result : result - 1;  // the returned table or msg
        if (!read_message(L_, from, *msg, changed, error)) {
          ok = false;
          error = rule.path + ": on_message result: " + error;
        } else if (changed.topic != msg->topic || changed.payload != msg->payload || changed.qos != msg->qos ||
                   changed.retain != msg->retain || !(changed.properties == msg->properties)) {
          replacement = std::make_shared<const router::Message>(std::move(changed));
        }
      } else {
        ok = false;
        error = rule.path + ": on_message returned a " + lua_typename(L_, type) +
                "; expected nothing, a message table or false";
      }
      lua_pop(L_, 2);
    } else {
      lua_pop(L_, 1);
    }
    current_name_.clear();
    auto took = std::chrono::steady_clock::now() - started;
    c.latency.record(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(took).count()));
    if (!ok) {
      pending_.clear();
      fault(rule, error);
      continue;  // the message goes on unchanged
    }
    for (Action& a : pending_) {
      RuleCounters::add(a.kind == Action::Kind::publish ? c.published : c.emitted);
      out.actions.push_back(std::move(a));
    }
    pending_.clear();
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
  current_name_ = rule.name;
  current_path_ = rule.path;
  current_hops_ = 0;
  pending_.clear();
  lua_rawgeti(L_, LUA_REGISTRYINDEX, rule.api_ref);
  lua_getfield(L_, -1, "has_windows");
  lua_call(L_, 0, 1);
  bool any = lua_toboolean(L_, -1) != 0;
  lua_pop(L_, 1);
  if (!any) {
    lua_pop(L_, 1);
    return;
  }
  lua_getfield(L_, -1, "tick");
  lua_remove(L_, -2);
  std::string error;
  bool ok = protected_call(0, 0, rule.path, error);
  current_name_.clear();
  if (!ok) {
    pending_.clear();
    fault(rule, error);
    return;
  }
  RuleCounters::PerCore& c = rule.counters->core(core_);
  for (Action& a : pending_) {
    RuleCounters::add(a.kind == Action::Kind::publish ? c.published : c.emitted);
    out.actions.push_back(std::move(a));
  }
  pending_.clear();
}

RuleVm::Outcome RuleVm::tick() {
  Outcome out;
  for (auto& rule : rules_) {
    if (!rule->counters->disabled()) run_tick(*rule, out);
  }
  return out;
}

}  // namespace strata::rules
