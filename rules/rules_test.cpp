#include "rules/rules_test.hpp"

#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

#include "broker/core/clock.hpp"
#include "rules/rule_dir.hpp"
#include "rules/rule_engine.hpp"
#include "rules/rule_vm.hpp"

namespace strata::rules {
namespace {

// Emit targets known to the dry run: the same names as in the broker.
class PrintTarget final : public EmitTarget {
 public:
  void emit(router::MessagePtr, unsigned) override {}
};

void print_message(std::ostream& out, const router::Message& m) {
  out << m.topic << " " << m.payload;
  if (m.qos != protocol::QoS::at_most_once) out << " qos=" << static_cast<int>(m.qos);
  if (m.retain) out << " retain";
  for (const auto& [k, v] : m.properties.user_properties) out << " " << k << "=" << v;
}

void print_actions(std::ostream& out, const std::vector<Action>& actions) {
  for (const Action& a : actions) {
    if (a.kind == Action::Kind::publish) {
      out << "  publish ";
    } else {
      out << "  emit " << a.target << " ";
    }
    print_message(out, *a.msg);
    out << "\n";
  }
}

}  // namespace

int run_rules_test(const std::string& file, const std::vector<std::pair<std::string, std::string>>& messages,
                   const config::Rules& config, std::ostream& out, std::ostream& err) {
  namespace fs = std::filesystem;
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    err << file << ": cannot open\n";
    return 1;
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string dir = fs::path(file).parent_path().string();
  if (dir.empty()) dir = ".";

  EmitTargets targets;
  PrintTarget local;
  targets.add("local", &local);
  RuleStatsRegistry stats(1);
  std::uint64_t offset_ms = 0;  // moves the clock past open windows at the end
  RuleVm vm(budgets_of(config), dir, &targets, stats, 0, [&offset_ms] { return core::now_ms() + offset_ms; });
  RuleVm::LoadResult loaded = vm.load(file, text.str());
  if (!loaded.error.empty()) {
    err << loaded.error << "\n";
    return 1;
  }
  out << "rule " << loaded.name << " from " << file << "\n";
  auto counters = stats.get(loaded.name);
  int n = 0;
  for (const auto& [topic, payload] : messages) {
    out << "message " << ++n << ": " << topic << " " << payload << "\n";
    auto msg = std::make_shared<router::Message>();
    msg->topic = topic;
    msg->payload = payload;
    msg->publisher = "rules-test";
    router::MessagePtr m = msg;
    std::uint64_t errors_before = counters->totals().errors;
    RuleVm::Outcome outcome = vm.run(m);
    print_actions(out, outcome.actions);
    if (counters->totals().errors != errors_before) {
      out << "  fault (see the error above); the message passes unchanged\n";
    }
    if (outcome.drop) {
      out << "  drop\n";
    } else {
      out << "  pass ";
      print_message(out, *m);
      out << "\n";
    }
  }
  offset_ms = 366ull * 24 * 3600 * 1000;
  RuleVm::Outcome closing = vm.tick();
  if (!closing.actions.empty()) {
    out << "windows closed after the last message:\n";
    print_actions(out, closing.actions);
  }
  return counters->totals().errors == 0 ? 0 : 1;
}

}  // namespace strata::rules
