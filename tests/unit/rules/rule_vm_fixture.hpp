// A RuleVm with a settable clock and a "local" emit target, for the rule
// engine's unit tests.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "rules/rule_vm.hpp"

namespace strata::rules {

class NullTarget : public EmitTarget {
 public:
  void emit(router::MessagePtr, unsigned) override {}
};

struct RuleVmFixture : ::testing::Test {
  Budgets budgets() {
    Budgets b;
    b.instructions = 200000;
    b.memory_bytes = 2u << 20;
    b.publish_limit = 50;
    b.fault_limit = 3;
    b.fault_window_ms = 60000;
    b.hop_limit = 4;
    return b;
  }
  RuleVmFixture() {
    targets.add("local", &local);
    vm = std::make_unique<RuleVm>(budgets(), ".", &targets, stats, 0, [this] { return now; });
  }
  router::MessagePtr message(std::string topic, std::string payload, std::uint8_t hops = 0) {
    auto m = router::Message::make(std::move(topic), std::move(payload));
    m->publisher = "c1";
    m->username = "u1";
    m->hops = hops;
    return m;
  }
  RuleVm::Outcome run(router::MessagePtr& m) { return vm->run(m); }
  // Loads file `path`; "" or the error.
  std::string load(const std::string& path, const std::string& source) { return vm->load(path, source).error; }

  std::uint64_t now = 1700000000000;
  NullTarget local;
  EmitTargets targets;
  RuleStatsRegistry stats{1};
  std::unique_ptr<RuleVm> vm;
};

}  // namespace strata::rules
