// One rule's own Lua state (LuaJIT) on one core, and the budgets of a call.
//
// Every rule runs in a lua_State of its own. So what a rule holds — its
// code, globals, `state`, windows, deadbands, context copies and the garbage
// its calls leave for the collector — is exactly what this state's allocator
// has handed out, and the memory cap is a cap on the rule, not on one call:
// a rule that keeps a little more on every message reaches the cap and
// faults, however small each call is. Rules also cannot reach each other's
// globals or library tables: they share no Lua object at all.
//
// The state belongs to the rule's name and outlives versions of the rule: a
// reload runs the new version's chunk in the same state with a fresh
// environment, and `state` and windows (kept in the state's persist table)
// carry over.
//
// Budgets of a call (call()): an instruction budget, checked by a count hook
// every kHookEvery VM instructions, and the memory cap, which the allocator
// enforces while a call runs (LuaJIT then raises "not enough memory"). The
// JIT is off: Debian's LuaJIT is built without LUAJIT_ENABLE_CHECKHOOK, so
// compiled traces would never see the count hook and `while true do end`
// could not be stopped. Before a call, a state that has grown halfway from
// its size after the last full collection towards its cap is collected in
// full, so uncollected garbage cannot make a rule fault: only what it keeps.
//
// Threading: used by one thread only (its core's).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "rules/rule_budgets.hpp"

struct lua_State;

namespace strata::rules {

class RuleVm;

class RuleState {
 public:
  static constexpr int kHookEvery = 1000;

  // `vm`: given to the Lua API (publish, emit, now, context ...).
  RuleState(const Budgets& budgets, RuleVm* vm);
  ~RuleState();
  RuleState(const RuleState&) = delete;
  RuleState& operator=(const RuleState&) = delete;

  lua_State* lua() const noexcept { return L_; }
  // Bytes the state holds now.
  std::size_t used() const noexcept { return used_; }

  // Calls the function under the budgets with `nargs` arguments on the
  // stack; leaves `nresults` results. On a fault returns false with
  // "path:line: what" in `error` and the stack as before the function was
  // pushed; `memory` tells whether the fault was the memory cap.
  bool call(int nargs, int nresults, const std::string& path, std::string& error, bool& memory);

  // Registry references of the state's fixed parts.
  int prelude_ref() const noexcept { return prelude_ref_; }  // make_api(persist, now)
  int persist_ref() const noexcept { return persist_ref_; }  // state, windows, deadbands
  int base_ref() const noexcept { return base_ref_; }        // the sandbox's globals

  // --- for the Lua API and the hook, during a call ---------------------------
  // Set while a budget fault unwinds the stack: the sandbox's pcall re-raises.
  bool aborting() const noexcept { return aborting_; }
  // Called by the count hook: true when the call is over its instruction budget.
  bool count_step() noexcept;
  // Makes the error about to be raised end the call (pcall re-raises it).
  void abort_call() noexcept { aborting_ = true; }
  std::uint64_t instruction_limit() const noexcept { return instructions_; }
  static RuleState* of(lua_State* L);

 private:
  static void* allocate(void* ud, void* ptr, std::size_t osize, std::size_t nsize) noexcept;
  // A full collection; the next one is due halfway from what is left to the cap.
  void collect_garbage();

  std::uint64_t instructions_;
  std::size_t limit_;            // the memory cap
  std::size_t used_ = 0;         // bytes held by the state
  std::size_t collect_above_ = 0;  // a full collection before the next call when used_ exceeds this
  bool in_call_ = false;
  bool aborting_ = false;
  bool memory_exceeded_ = false;
  int memory_line_ = 0;          // where the memory cap was hit
  std::uint64_t steps_ = 0;      // instructions of the current call
  lua_State* L_ = nullptr;
  int traceback_ref_ = 0;        // error handler adding file:line
  int prelude_ref_ = 0;
  int persist_ref_ = 0;
  int base_ref_ = 0;
};

}  // namespace strata::rules
