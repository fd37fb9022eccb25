// Dry runs of one rule: `strata --rules-test FILE --message TOPIC PAYLOAD ...`
// and the admin API's POST /api/v1/rules/test share dry_run(), which loads
// the rule in a VM of its own and runs it on sample messages, recording
// per message what the broker would do — pass (with the message as
// routed), drop, publish, emit — with what the rule logged and its faults,
// and, after the last message, what its time windows emit when they close.
// No broker runs and nothing is sent.
//
// format_dry_run() is the text `--rules-test` prints (exit status 0, or 1
// if the rule did not load or faulted on a message):
//   rule NAME from FILE
//   message 1: TOPIC PAYLOAD
//     publish TOPIC PAYLOAD [qos=N] [retain] [key=value ...]
//     emit TARGET TOPIC PAYLOAD ...
//     pass TOPIC PAYLOAD ...      or   drop
//   windows closed after the last message:
//     publish ...
#pragma once

#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "broker/config/config.hpp"
#include "broker/router/message.hpp"

namespace strata::rules {

struct DryRunInput {
  std::string topic;
  std::string payload;
  protocol::QoS qos = protocol::QoS::at_most_once;
  bool retain = false;
};

struct DryRunAction {
  bool emit = false;   // else publish
  std::string target;  // emit: the target's name
  router::MessagePtr msg;
};

struct DryRunLog {
  std::string level;  // "debug", "info", "warn", "error"
  std::string text;   // "file:line: what the rule logged"
};

// What the rule did with one message (or, for `closing`, at the end).
struct DryRunStep {
  DryRunInput input;
  std::vector<DryRunAction> actions;  // in the order the rule called them
  std::vector<DryRunLog> logs;
  std::vector<std::string> faults;    // "file:line: error"; the message then passes unchanged
  bool dropped = false;
  router::MessagePtr passed;          // the message as it would be routed (null when dropped)
};

struct DryRun {
  std::string error;  // the rule did not load: "file[:line]: what"; nothing else is set
  std::string rule;   // the rule's name
  std::string file;
  std::vector<DryRunStep> messages;
  DryRunStep closing;  // windows closed after the last message (actions, logs, faults)
  bool faulted = false;
};

// Runs the rule in `file` (its text `source`; context files are read from
// `context_dir`) on `messages` under the [rules] budgets of `config`. The
// rule may emit to "local" and to each of `targets` (the bridges' names).
DryRun dry_run(const std::string& file, const std::string& source, const std::vector<DryRunInput>& messages,
               const std::string& context_dir, const config::Rules& config,
               const std::vector<std::string>& targets = {});

// The emit targets a config gives besides "local": its [[bridge]] names.
std::vector<std::string> emit_target_names(const config::Config& config);

// The `--rules-test` text of a run that loaded (r.error empty).
std::string format_dry_run(const DryRun& r);

// `strata --rules-test`: reads `file`, prints format_dry_run() to `out`,
// a load error to `err`; the exit status.
int run_rules_test(const std::string& file, const std::vector<std::pair<std::string, std::string>>& messages,
                   const config::Config& config, std::ostream& out, std::ostream& err);

}  // namespace strata::rules
