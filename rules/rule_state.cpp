#include "rules/rule_state.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include <lua.hpp>

#include "rules/lua_api.hpp"
#include "rules/lua_message.hpp"
#include "rules/prelude.hpp"
#include "rules/rule_vm.hpp"

namespace strata::rules {
namespace {

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

void count_hook(lua_State* L, lua_Debug*) {
  RuleState* s = RuleState::of(L);
  if (!s->count_step()) return;
  luaL_error(L, "instruction budget exceeded (%d instructions per call)", static_cast<int>(s->instruction_limit()));
}

}  // namespace

RuleState* RuleState::of(lua_State* L) {
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  return static_cast<RuleState*>(ud);
}

void* RuleState::allocate(void* ud, void* ptr, std::size_t osize, std::size_t nsize) noexcept {
  auto* s = static_cast<RuleState*>(ud);
  if (nsize == 0) {
    std::free(ptr);
    s->used_ -= osize;
    return nullptr;
  }
  if (s->in_call_ && nsize > osize && s->used_ + (nsize - osize) > s->limit_) {
    s->aborting_ = true;  // LuaJIT raises "not enough memory"
    if (!s->memory_exceeded_) {
      s->memory_exceeded_ = true;
      // Remember the rule's line: the error itself carries no position.
      // (getinfo "l" reads the frame without allocating.)
      lua_Debug ar;
      s->memory_line_ = 0;
      for (int level = 0; s->memory_line_ <= 0 && lua_getstack(s->L_, level, &ar); ++level) {
        if (lua_getinfo(s->L_, "l", &ar)) s->memory_line_ = ar.currentline;
      }
    }
    return nullptr;
  }
  void* p = std::realloc(ptr, nsize);
  if (p == nullptr) return nullptr;
  s->used_ += nsize;
  s->used_ -= osize;
  return p;
}

bool RuleState::count_step() noexcept {
  if (!in_call_) return false;
  steps_ += kHookEvery;
  if (steps_ <= instructions_ && !aborting_) return false;
  aborting_ = true;
  return true;
}

RuleState::RuleState(const Budgets& budgets, RuleVm* vm)
    : instructions_(budgets.instructions), limit_(budgets.memory_bytes) {
  L_ = lua_newstate(&RuleState::allocate, this);
  if (L_ == nullptr) throw std::runtime_error("cannot create a Lua VM");
  luaL_openlibs(L_);
  // The count hook is not checked inside compiled traces (no
  // LUAJIT_ENABLE_CHECKHOOK in distribution builds): run interpreted.
  if (!budgets.jit) luaJIT_setmode(L_, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
  lua_sethook(L_, count_hook, LUA_MASKCOUNT, kHookEvery);

  // Strings share one metatable whose __index is the real string library:
  // hide it from getmetatable so the rule cannot change it.
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
  push_sandbox_base(L_, vm);
  base_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
  collect_garbage();
}

RuleState::~RuleState() {
  if (L_ != nullptr) lua_close(L_);
}

void RuleState::collect_garbage() {
  lua_gc(L_, LUA_GCCOLLECT, 0);
  collect_above_ = used_ + (limit_ > used_ ? (limit_ - used_) / 2 : 0);
}

bool RuleState::call(int nargs, int nresults, const std::string& path, std::string& error, bool& memory) {
  if (used_ > collect_above_) collect_garbage();
  int fn = lua_gettop(L_) - nargs;
  lua_rawgeti(L_, LUA_REGISTRYINDEX, traceback_ref_);
  lua_insert(L_, fn);
  steps_ = 0;
  aborting_ = false;
  memory_exceeded_ = false;
  in_call_ = true;
  int status = lua_pcall(L_, nargs, nresults, fn);
  in_call_ = false;
  bool budget = aborting_;
  aborting_ = false;
  memory = false;
  if (status == 0) {
    lua_remove(L_, fn);
    return true;
  }
  if (status == LUA_ERRMEM || memory_exceeded_) {
    memory = true;
    error = path + (memory_line_ > 0 ? ":" + std::to_string(memory_line_) : std::string()) +
            ": memory limit exceeded (" + std::to_string(limit_ / 1024) + " KiB per rule)";
  } else {
    std::size_t len = 0;
    const char* msg = lua_tolstring(L_, -1, &len);
    error = RuleVm::expand_path(msg != nullptr ? std::string(msg, len) : std::string("error"), path);
    if (!error.starts_with(path)) error = path + ": " + error;
  }
  lua_settop(L_, fn - 1);
  if (budget) collect_garbage();  // give back what a runaway call took
  return false;
}

}  // namespace strata::rules
