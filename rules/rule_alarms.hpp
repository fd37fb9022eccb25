// The rules' alarms (broker/admin/alarms.hpp, GET /api/v1/alarms): a rule
// disabled by repeated faults is critical (it stays off until a new
// version is loaded); a rule turned off by an operator is listed as info,
// so nobody forgets it. Nothing when the engine is off (null).
#pragma once

#include "broker/admin/api.hpp"
#include "rules/rule_engine.hpp"

namespace strata::rules {

void add_rule_alarms(admin::Api& api, const RuleEngine* engine);

}  // namespace strata::rules
