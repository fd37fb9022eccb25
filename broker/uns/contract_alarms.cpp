#include "broker/uns/contract_alarms.hpp"

#include <map>
#include <memory>

namespace strata::uns {

namespace {

struct Seen {
  std::uint64_t failed = 0;
  std::chrono::steady_clock::time_point rose{};
};

}  // namespace

void add_contract_alarms(admin::Api& api, const NamespaceHook& hook) {
  // Only the admin thread asks: no lock.
  auto seen = std::make_shared<std::map<std::string, Seen>>();
  api.add_alarms([&hook, seen](std::vector<admin::Alarm>& out) {
    if (!hook.enabled()) return;
    const auto now = std::chrono::steady_clock::now();
    std::map<std::string, Seen> next;
    for (const auto& [contract, totals] : hook.contract_totals_any_thread()) {
      const std::string& name = contract->name();
      Seen s;
      auto before = seen->find(name);
      if (before != seen->end()) s = before->second;
      if (totals.failed > s.failed || (before == seen->end() && totals.failed > 0)) s.rose = now;
      s.failed = totals.failed;
      next[name] = s;
      if (s.rose != std::chrono::steady_clock::time_point{} && now - s.rose < kFailingFor) {
        out.push_back({"contract.failing", "warning", name,
                       "Contract " + name + " is failing: " + std::to_string(totals.failed) + " of " +
                           std::to_string(totals.matched) + " payloads broke it since start"});
      }
    }
    *seen = std::move(next);
  });
}

}  // namespace strata::uns
