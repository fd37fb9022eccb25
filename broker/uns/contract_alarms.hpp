// The contracts' alarms (broker/admin/alarms.hpp, GET /api/v1/alarms): a
// contract is "failing" while payloads keep breaking it. Each ask compares
// every contract's failure count with the last ask's; a contract whose
// count grew (or that is seen for the first time with failures) is listed
// as a warning for kFailingFor after the growth was noticed, with the
// failures counted since start.
#pragma once

#include <chrono>

#include "broker/admin/api.hpp"
#include "broker/uns/namespace_hook.hpp"

namespace strata::uns {

inline constexpr std::chrono::minutes kFailingFor{5};

void add_contract_alarms(admin::Api& api, const NamespaceHook& hook);

}  // namespace strata::uns
