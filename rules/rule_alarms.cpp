#include "rules/rule_alarms.hpp"

namespace strata::rules {

void add_rule_alarms(admin::Api& api, const RuleEngine* engine) {
  if (engine == nullptr) return;
  api.add_alarms([engine](std::vector<admin::Alarm>& out) {
    for (const auto& [name, counters] : engine->stats().snapshot()) {
      if (counters->disabled()) {
        out.push_back({"rule.faulted", "critical", name,
                       "Rule " + name + " was disabled after repeated errors; fix it and save it again"});
      } else if (counters->paused()) {
        out.push_back({"rule.disabled", "info", name, "Rule " + name + " is turned off by an operator"});
      }
    }
  });
}

}  // namespace strata::rules
