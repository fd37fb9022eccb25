// The rules' families of GET /metrics, one series per rule (label `rule`,
// the rule's name: bounded by the rules directory, not by traffic):
//
//   strata_rule_messages_total{rule,result="matched|passed|dropped"}
//   strata_rule_published_total, strata_rule_emitted_total, strata_rule_errors_total
//   strata_rule_disabled (1 after too many faults), strata_rule_memory_bytes
//   strata_rule_call_duration_seconds (histogram of on_message calls)
//
// Read on the admin thread from the per-core counters (rule_stats.hpp);
// main.cpp adds it with Api::add_metrics when the rule engine runs.
#pragma once

#include "broker/admin/metrics.hpp"
#include "rules/rule_stats.hpp"

namespace strata::rules {

void write_rule_metrics(admin::MetricsWriter& m, const RuleStatsRegistry& stats);

}  // namespace strata::rules
