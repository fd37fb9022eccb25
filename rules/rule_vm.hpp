// One Lua VM (LuaJIT) holding every loaded rule, owned by one core.
//
// Model: each rule is a chunk run once at load in its own environment table
// (a fresh copy of the sandbox's globals: rules cannot see or change each
// other's globals or the shared libraries). Loading it defines `topics`,
// `on_message` and optionally `order`. run() calls on_message of every
// enabled rule whose filters match, in (order, name) order, on a Lua table
// made from the message; the rule returns nothing (pass, possibly changed
// in place), a table (the replacement), or false (drop: later rules do not
// run). publish()/emit() calls are collected as Actions for the caller to
// carry out after the rule returned: Lua is never re-entered from inside
// a rule.
//
// Budgets, per call of a rule (also for the top-level chunk and window
// ticks): an instruction budget (a count hook every kHookEvery VM
// instructions) and a memory cap (the VM's allocator refuses to grow past
// what the call started with plus the cap). The JIT is off for the whole VM:
// Debian's LuaJIT is built without LUAJIT_ENABLE_CHECKHOOK, so compiled
// traces would never see the count hook and `while true do end` could not
// be stopped. A call that errors or exceeds a budget is a fault: its actions
// are discarded, the message goes on unchanged, the fault is logged with
// file:line and counted, and `fault_limit` faults within `fault_window`
// disable the rule until its file changes.
//
// Per-rule state (`state`, windows, deadbands) lives in a persist table per
// rule name that survives reloads of the rule and is dropped with it.
//
// Threading: a RuleVm is used by one thread only (its core's).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "broker/router/message.hpp"
#include "rules/emit_target.hpp"
#include "rules/rule_stats.hpp"

struct lua_State;

namespace strata::rules {

struct Budgets {
  std::uint64_t instructions = 1000000;
  std::size_t memory_bytes = 16u << 20;
  unsigned fault_limit = 5;
  std::uint64_t fault_window_ms = 60000;
  unsigned hop_limit = 8;
  // Keep LuaJIT's JIT compiler on. Only for measuring what running
  // interpreted costs (the benchmark): with it, the instruction budget
  // cannot stop a loop once it is compiled.
  bool jit = false;
};

struct Action {
  enum class Kind { publish, emit };
  Kind kind = Kind::publish;
  std::string target;  // emit: the target's name
  router::MessagePtr msg;
};

class RuleVm {
 public:
  using Clock = std::function<std::uint64_t()>;  // unix time in ms
  static constexpr int kHookEvery = 1000;

  // `context_dir`: where context("name.json") files are read from.
  // `targets`: the emit targets (may be null: emit() then always fails).
  // `stats`: the counters registry; `core`: this VM's slot in the counters.
  RuleVm(Budgets budgets, std::string context_dir, const EmitTargets* targets,
         RuleStatsRegistry& stats, unsigned core, Clock clock);
  ~RuleVm();
  RuleVm(const RuleVm&) = delete;
  RuleVm& operator=(const RuleVm&) = delete;

  // Lua shortens long chunk names in messages to "...tail"; this puts the
  // whole `path` back when `message` starts with such a tail of it.
  static std::string expand_path(const std::string& message, const std::string& path);

  // Compiles `source` without running it; "" or "path:line: message".
  static std::string check_syntax(const std::string& path, const std::string& source);

  // Loads rule `name` (new, or replacing the running version). On any error
  // — syntax, a fault in the top-level chunk, missing on_message, bad topics
  // — the previous version keeps running and "path:line: what" is returned.
  std::string load(const std::string& name, const std::string& path, const std::string& source);
  // Unloads rule `name` and forgets its state. False if there was none.
  bool remove(const std::string& name);
  // Context files changed on disk: the next context() call re-reads them.
  void clear_context_cache();
  bool empty() const noexcept { return rules_.empty(); }
  std::vector<std::string> names() const;

  struct Outcome {
    bool drop = false;
    std::vector<Action> actions;  // in the order the rules called publish/emit
  };
  // Runs the matching rules on `msg`, which may be replaced.
  Outcome run(router::MessagePtr& msg);
  // Closes due time windows of every rule (on_close callbacks may publish).
  Outcome tick();

  // --- for the Lua API (lua_api.cpp), during a call --------------------
  void add_action(Action a);
  const std::string& current_rule() const noexcept { return current_name_; }
  const std::string& current_path() const noexcept { return current_path_; }
  unsigned current_hops() const noexcept { return current_hops_; }
  const Budgets& budgets() const noexcept { return budgets_; }
  const EmitTargets* targets() const noexcept { return targets_; }
  std::uint64_t now() const { return clock_(); }
  const std::string& context_dir() const noexcept { return context_dir_; }
  unsigned context_generation() const noexcept { return context_generation_; }
  // Set while a budget fault unwinds the stack: the sandbox's pcall re-raises.
  bool aborting() const noexcept { return aborting_; }
  // Called by the count hook every kHookEvery instructions: true when the
  // current call is over its instruction budget.
  bool count_step() noexcept;

 private:
  struct Rule;
  static void* allocate(void* ud, void* ptr, std::size_t osize, std::size_t nsize) noexcept;
  // Calls the function under the budgets with `nargs` arguments on the
  // stack; leaves `nresults` results. On a fault returns false with the
  // message in `error` and the stack as before the function was pushed.
  bool protected_call(int nargs, int nresults, const std::string& path, std::string& error);
  void fault(Rule& rule, const std::string& error);
  void sort_rules();
  void run_tick(Rule& rule, Outcome& out);

  Budgets budgets_;
  std::string context_dir_;
  const EmitTargets* targets_;
  RuleStatsRegistry& stats_;
  unsigned core_;
  Clock clock_;

  std::size_t used_ = 0;         // bytes held by the VM
  std::size_t call_limit_ = 0;   // used_ may not grow past this during a call
  bool in_call_ = false;
  bool aborting_ = false;
  bool memory_exceeded_ = false;
  int memory_line_ = 0;          // where the memory limit was hit
  unsigned context_generation_ = 0;
  std::uint64_t steps_ = 0;      // instructions of the current call, in kHookEvery units
  lua_State* L_ = nullptr;
  int traceback_ref_ = 0;        // error handler adding file:line
  int prelude_ref_ = 0;          // make_api(persist, now)
  int persist_ref_ = 0;          // name -> persist table
  int base_ref_ = 0;             // the sandbox's globals, copied into each rule's env

  std::string current_name_;
  std::string current_path_;
  unsigned current_hops_ = 0;
  std::vector<Action> pending_;  // actions of the current call
  std::vector<std::unique_ptr<Rule>> rules_;  // sorted by (order, name)
};

}  // namespace strata::rules
