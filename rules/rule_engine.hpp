// The rule engine in the broker: a PublishHook that runs the rules of the
// rules directory on every accepted message (DESIGN.md, "One publish").
//
// Threading: one RuleVm per core, used only by that core's thread (the hook
// runs on the publishing client's core). Core 0 scans the rules directory
// every `reload_interval` (RuleDir) and posts each change to every core,
// which loads it into its own VM between two messages — so a reload drops
// no message, and a rule that fails to load leaves its previous version
// running. Within one change set deletions go first, so a renamed file
// keeps its rule's name and state; a file refused because another file's
// rule has its name waits (per core) and loads once the name is free.
// Each core ticks its windows every kTick on its own io_context.
//
// Actions of a rule (publish, emit) are carried out after the rule
// returned: published messages re-enter Core::publish (and so the rules,
// with hops + 1); emits go to the named EmitTarget. The built-in "local"
// target publishes on the local topic of the emitted message.
//
// Windows, deadbands and `state` are per core: a publisher's messages all
// go through the core of its connection, so per-sensor windows are exact.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "broker/config/config.hpp"
#include "broker/core/publish_hook.hpp"
#include "rules/emit_target.hpp"
#include "rules/rule_dir.hpp"
#include "rules/rule_stats.hpp"
#include "rules/rule_vm.hpp"

namespace strata::core {
class Broker;
}

namespace strata::rules {

Budgets budgets_of(const config::Rules& cfg);

class RuleEngine final : public core::PublishHook {
 public:
  static constexpr std::chrono::milliseconds kTick{100};

  // Registers the "local" emit target in `targets`; other targets must be
  // registered before start().
  RuleEngine(core::Broker& broker, EmitTargets& targets);
  ~RuleEngine() override;

  // Loads the rules and starts the timers. Call before Broker::run().
  void start();
  core::HookVerdict on_publish(router::MessagePtr& msg, unsigned core) override;

  // --- for the admin API (rules_api.hpp) ---------------------------------
  const config::Rules& config() const noexcept { return config_; }
  RuleStatsRegistry& stats() noexcept { return stats_; }
  // Core 0's thread only: what core 0 has loaded, in run order (every core
  // loads the same changes in the same order).
  std::vector<RuleVm::RuleInfo> loaded() const { return cores_[0].vm->rules(); }
  // The same for core `core`, on its thread.
  std::vector<RuleVm::RuleInfo> loaded(unsigned core) const { return cores_[core].vm->rules(); }
  // Core 0's thread only: scans the rules directory now, as the periodic
  // scan does, posting the changes to every core; `done` is called (on the
  // thread of the core that finished last) once every core applied them.
  void rescan(std::function<void()> done) { scan_now(std::move(done)); }
  // Any thread: turns rule `name` off (it stops running on every core at
  // its next message) or on again; kept across reloads, and across
  // restarts in <data_dir>/rules_disabled. False when that file could not
  // be written (the change holds until a restart).
  bool set_enabled(const std::string& name, bool enabled);
  // <data_dir>/rules_disabled: one rule name per line.
  const std::string& disabled_file() const noexcept { return disabled_file_; }

 private:
  class LocalTarget;
  struct PerCore {
    std::unique_ptr<RuleVm> vm;
    std::unique_ptr<boost::asio::steady_timer> tick;
    std::map<std::string, std::string> waiting;  // path -> source of files refused for a taken name
  };

  void scan_now(std::function<void()> done = {});
  void schedule_scan();
  void apply(unsigned core, const RuleDir::Scan& scan);
  void schedule_tick(unsigned core);
  void carry_out(unsigned core, std::vector<Action>& actions);

  core::Broker& broker_;
  config::Rules config_;
  EmitTargets& targets_;
  std::unique_ptr<LocalTarget> local_;
  RuleStatsRegistry stats_;
  RuleDir dir_;
  std::vector<PerCore> cores_;
  std::unique_ptr<boost::asio::steady_timer> scan_timer_;  // core 0
  std::string disabled_file_;
  std::mutex disabled_mutex_;  // serializes writes of disabled_file_
};

}  // namespace strata::rules
