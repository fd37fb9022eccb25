// The rules endpoints on the admin server (broker/admin/api.hpp):
//
//   GET    /api/v1/rules                  viewer  every loaded rule with its counters
//   GET    /api/v1/rules/{name}           viewer  one rule, with its source
//   PUT    /api/v1/rules/{name}           admin   write <dir>/<name>.lua and load it everywhere
//   DELETE /api/v1/rules/{name}           admin   remove its file and unload it
//   POST   /api/v1/rules/{name}/enable    admin   run it again
//   POST   /api/v1/rules/{name}/disable   admin   stop running it (kept across reloads/restarts)
//   POST   /api/v1/rules/test             viewer  the --rules-test dry run (rules_test.hpp)
//
// The handlers never load a rule themselves: PUT and DELETE change the
// rules directory and ask core 0 to rescan it now (RuleEngine::rescan),
// which posts the change to every core exactly as the periodic scan does;
// the answer waits for every core to have applied it. A source is first
// loaded in a scratch VM on the admin thread, under the same budgets and
// sandbox, so a broken rule is answered 400 with file:line and nothing on
// disk or in the cores changes.
//
// `engine` is null when the rule engine is off ([rules] enabled = false):
// everything but POST /rules/test then answers 409.
#pragma once

#include "broker/admin/api.hpp"
#include "rules/rule_engine.hpp"

namespace strata::rules {

void add_rules_api(admin::Api& api, RuleEngine* engine);

// A rule name the API accepts in a path: [A-Za-z0-9_-]{1,64}.
bool valid_api_rule_name(std::string_view name);

}  // namespace strata::rules
