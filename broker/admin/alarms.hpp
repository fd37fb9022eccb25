// Alarms: conditions an operator should act on, gathered when asked
// (GET /api/v1/alarms) from the sources the modules register with
// Api::add_alarms(): the store (map or disk nearly full, built in), the
// bridges (an outbox filling), the rules (faulted or disabled) and the
// namespace (contracts failing). An alarm is a state, not an event: it is
// listed for as long as its condition holds.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace strata::admin {

struct Alarm {
  std::string id;        // what kind: "store.map_nearly_full", "bridge.outbox_filling", ...
  std::string severity;  // "critical", "warning" or "info"
  std::string subject;   // what it is about: "store", a bridge's, rule's or contract's name
  std::string message;   // one sentence for people
};

// Appends the alarms of one module; runs on the admin thread.
using AlarmSource = std::function<void(std::vector<Alarm>&)>;

// Severity order for sorting: critical first.
inline int severity_rank(const std::string& s) { return s == "critical" ? 0 : s == "warning" ? 1 : 2; }

}  // namespace strata::admin
