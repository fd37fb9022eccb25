// `strata --rules-test FILE --message TOPIC PAYLOAD ...`: runs one rule
// offline on sample messages and prints, per message, what the broker would
// do — pass (with the message as routed), drop, publish, emit — and, after
// the last message, what the rule's time windows emit when they close. No
// broker runs and nothing is sent. Exit status: 0, or 1 if the rule did not
// load or faulted on a message.
//
// Output lines (one per outcome, indented under the message):
//   message 1: TOPIC PAYLOAD
//     publish TOPIC PAYLOAD [qos=N] [retain]
//     emit TARGET TOPIC PAYLOAD
//     pass TOPIC PAYLOAD      or   drop
//   windows closed after the last message:
//     publish ...
#pragma once

#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "broker/config/config.hpp"

namespace strata::rules {

int run_rules_test(const std::string& file, const std::vector<std::pair<std::string, std::string>>& messages,
                   const config::Rules& config, std::ostream& out, std::ostream& err);

}  // namespace strata::rules
