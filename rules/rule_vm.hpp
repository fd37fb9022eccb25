// The rules of one core: loading, ordering and running them.
//
// Model: each rule is a Lua file declaring `name` (optional: the file name
// without .lua), `topics`, optionally `order`, and on_message(msg). It runs
// in a Lua state of its own (RuleState), keyed by the rule's name: the
// chunk runs once at load in a fresh environment (a copy of the sandbox's
// globals), and a reload of the same name runs the new chunk in the same
// state, so `state` and windows survive. run() calls on_message of every
// enabled rule whose filters match, in (order, name) order, on a Lua table
// made from the message; the rule returns nothing (pass, possibly changed in
// place), a table (the replacement), or false (drop: later rules do not
// run). publish()/emit() calls are collected as Actions for the caller to
// carry out after the rule returned: Lua is never re-entered from inside a
// rule.
//
// Names are unique: a file declaring a name another file's rule already has
// is refused (LoadResult::name_taken) and the first keeps running. Rules are
// looked up by file for reloads and deletions, by name for everything shown
// (logs, $SYS, state).
//
// A call that errors or exceeds a budget is a fault: its actions are
// discarded, the message goes on unchanged, the fault is logged with
// file:line and counted, and `fault_limit` faults within `fault_window`
// disable the rule until its file changes. A rule disabled after exceeding
// its memory cap is also unloaded on every core, its state closed, so what
// it held is given back.
//
// Threading: a RuleVm is used by one thread only (its core's).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "broker/router/message.hpp"
#include "rules/emit_target.hpp"
#include "rules/rule_budgets.hpp"
#include "rules/rule_state.hpp"
#include "rules/rule_stats.hpp"

namespace strata::rules {

struct Action {
  enum class Kind { publish, emit };
  Kind kind = Kind::publish;
  std::string target;  // emit: the target's name
  router::MessagePtr msg;
};

class RuleVm {
 public:
  using Clock = std::function<std::uint64_t()>;  // unix time in ms

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

  // A rule name is a $SYS topic level and appears in logs: letters,
  // digits, '_' and '-', at most 128.
  static bool valid_name(const std::string& name);

  // Compiles `source` without running it; "" or "path:line: message".
  static std::string check_syntax(const std::string& path, const std::string& source);

  struct LoadResult {
    std::string error;        // "" when loaded, else "path[:line]: what"
    std::string name;         // the rule's name, when it is known
    std::string replaced;     // the name of the version this file had loaded before, if any
    bool name_taken = false;  // error: another file's rule has this name
  };
  // Loads the rule in file `path` (new, or replacing the version that file
  // had loaded). On any error — syntax, a fault in the top-level chunk,
  // missing on_message, bad topics, order or name, a name another file
  // uses — the previous version keeps running.
  LoadResult load(const std::string& path, const std::string& source);
  // Unloads the rule of file `path`; its name, or "" if it had none loaded.
  // Its state is kept until collect(), for a file renamed in the same scan.
  std::string remove(const std::string& path);
  // Forgets the states of removed rules no file took over.
  void collect();
  // The name of the rule file `path` has loaded, or "".
  std::string name_of(const std::string& path) const;
  // Context files changed on disk: the next context() call re-reads them.
  void clear_context_cache();
  bool empty() const noexcept { return rules_.empty(); }
  // False when no loaded rule can match `topic`: no filter starts with its
  // first byte or with a wildcard. Most messages match no rule, so run()
  // and the engine's hook stop at this one test (a rule disabled on
  // another core is then unloaded here by tick()).
  bool may_match(std::string_view topic) const noexcept {
    if (topic.empty()) return !rules_.empty();
    const auto c = static_cast<unsigned char>(topic.front());
    return (first_bytes_[c >> 6] >> (c & 63)) & 1U;
  }
  std::vector<std::string> names() const;

  // What is loaded, in run order (for the admin API).
  struct RuleInfo {
    std::string name;
    std::string path;
    std::vector<std::string> topics;
    double order = 0;
  };
  std::vector<RuleInfo> rules() const;

  // Dry runs (rules_test.hpp) watch what rules say: log() lines and
  // faults go to the watcher (as well as to the log, for faults) instead
  // of only the broker's log. Null: the log only.
  class Watcher {
   public:
    virtual ~Watcher() = default;
    virtual void log_line(std::string_view level, const std::string& text) = 0;
    virtual void fault(const std::string& error) = 0;
  };
  void set_watcher(Watcher* w) noexcept { watcher_ = w; }
  Watcher* watcher() const noexcept { return watcher_; }

  struct Outcome {
    bool drop = false;
    std::vector<Action> actions;  // in the order the rules called publish/emit
  };
  // Runs the matching rules on `msg`, which may be replaced.
  Outcome run(router::MessagePtr& msg);
  // Closes due time windows of every rule (on_close callbacks may publish).
  Outcome tick();

  // --- for the Lua API (lua_api.cpp), during a call --------------------
  // False when the call has used its publish_limit (on_message only).
  bool add_action(Action a);
  const std::string& current_rule() const noexcept { return current_name_; }
  const std::string& current_path() const noexcept { return current_path_; }
  unsigned current_hops() const noexcept { return current_hops_; }
  const Budgets& budgets() const noexcept { return budgets_; }
  const EmitTargets* targets() const noexcept { return targets_; }
  std::uint64_t now() const { return clock_(); }
  const std::string& context_dir() const noexcept { return context_dir_; }
  unsigned context_generation() const noexcept { return context_generation_; }
  // The chunk being loaded set its global `name`.
  void name_declared(std::string name) { current_name_ = std::move(name); }

 private:
  struct Rule;
  struct Chunk;
  // Runs the chunk of `source` in `state` with a fresh environment and reads
  // what it declares into `out`; the state's windows stay as they were
  // until finish_load().
  std::string run_chunk(RuleState& state, const std::string& path, const std::string& source, Chunk& out);
  void finish_load(RuleState& state, Chunk& chunk, bool keep);
  std::unique_ptr<RuleState> new_state();
  Rule* find_path(const std::string& path);
  Rule* find_name(const std::string& name);
  bool call(Rule& rule, int nargs, int nresults, std::string& error);
  void fault(Rule& rule, const std::string& error, bool memory);
  // Closes the state of a rule disabled for memory; true if it was open.
  bool release(Rule& rule);
  void unref(Rule& rule);
  void sort_rules();
  // Recomputes first_bytes_ from the filters of rules_.
  void index_filters();
  void run_tick(Rule& rule, Outcome& out);
  void take_actions(Rule& rule, Outcome& out);

  Budgets budgets_;
  std::string context_dir_;
  const EmitTargets* targets_;
  RuleStatsRegistry& stats_;
  unsigned core_;
  Clock clock_;
  unsigned context_generation_ = 0;
  Watcher* watcher_ = nullptr;

  std::string current_name_;
  std::string current_path_;
  unsigned current_hops_ = 0;
  std::vector<Action> pending_;  // actions of the current call
  std::size_t action_limit_ = 0;  // of pending_: publish_limit in on_message, none in window closings
  std::vector<std::unique_ptr<Rule>> rules_;  // sorted by (order, name)
  // Bit c: some filter of rules_ starts with byte c, or with '+' or '#'
  // (then every bit is set): see may_match().
  std::array<std::uint64_t, 4> first_bytes_{};
  std::map<std::string, std::unique_ptr<RuleState>> orphans_;  // name -> state of a removed rule
};

}  // namespace strata::rules
