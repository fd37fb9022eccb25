// The bridges of one broker: reads [[bridge]] (config errors with
// file:line), opens each bridge's outbox in the store, subscribes its `out`
// routes in every core's router (the subscriber is a RouteSink that
// appends to the outbox), registers each bridge as a rule emit target,
// publishes $SYS/bridges/<name>/..., and runs each bridge's thread.
//
// Construct after the Broker and before Broker::run() (the outboxes are
// read before the store's writer starts, the routes subscribed before the
// cores run); stop() after run() returns.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bridges/adapter.hpp"
#include "bridges/bridge.hpp"
#include "broker/core/broker.hpp"
#include "broker/historian/replay_target.hpp"
#include "rules/emit_target.hpp"

namespace strata::bridges {

// The bridge types of this build (mqtt; kafka and influx register here).
AdapterTypes builtin_types();

// Validates the [[bridge]] tables of a loaded config (strata --check-config).
void check_config(const config::Config& config);

// Also what replay jobs append through (historian::ReplayTargets): the
// same append as an out route's, on the writer queue the job names.
class BridgeManager : public historian::ReplayTargets {
 public:
  BridgeManager(core::Broker& broker, rules::EmitTargets& targets);
  ~BridgeManager() override;
  void start();
  void stop();
  std::size_t size() const noexcept { return bridges_.size(); }
  Bridge* find(std::string_view name);
  std::vector<Bridge*> all();  // in config order

  // historian::ReplayTargets (any thread).
  bool has_bridge(std::string_view bridge) const override;
  std::uint64_t queued(std::string_view bridge) const override;
  Offer offer(std::string_view bridge, const router::Message& m, unsigned queue) override;

 private:
  struct Entry;
  core::Broker& broker_;
  std::vector<std::unique_ptr<Entry>> bridges_;
};

}  // namespace strata::bridges
