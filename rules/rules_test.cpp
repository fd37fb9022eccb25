#include "rules/rules_test.hpp"

#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

#include "broker/config/table_reader.hpp"
#include "broker/core/clock.hpp"
#include "rules/rule_engine.hpp"
#include "rules/rule_vm.hpp"

namespace strata::rules {
namespace {

// Emit targets known to the dry run: the same names as in the broker.
class NullTarget final : public EmitTarget {
 public:
  void emit(router::MessagePtr, unsigned) override {}
};

// Collects what the rule logs and its faults into the current step.
class StepWatcher final : public RuleVm::Watcher {
 public:
  DryRunStep* step = nullptr;
  void log_line(std::string_view level, const std::string& text) override {
    if (step) step->logs.push_back({std::string(level), text});
  }
  void fault(const std::string& error) override {
    if (step) step->faults.push_back(error);
  }
};

void take(DryRunStep& step, std::vector<Action>& actions) {
  for (Action& a : actions) step.actions.push_back({a.kind == Action::Kind::emit, a.target, std::move(a.msg)});
}

void print_message(std::ostream& out, const router::Message& m) {
  out << m.topic << " " << m.payload;
  if (m.qos != protocol::QoS::at_most_once) out << " qos=" << static_cast<int>(m.qos);
  if (m.retain) out << " retain";
  for (const auto& [k, v] : m.properties->user_properties) out << " " << k << "=" << v;
}

void print_actions(std::ostream& out, const std::vector<DryRunAction>& actions) {
  for (const DryRunAction& a : actions) {
    if (a.emit) {
      out << "  emit " << a.target << " ";
    } else {
      out << "  publish ";
    }
    print_message(out, *a.msg);
    out << "\n";
  }
}

}  // namespace

std::vector<std::string> emit_target_names(const config::Config& config) {
  std::vector<std::string> out;
  if (!config.document) return out;
  for (const toml::table* t : config::section_tables(config.document->name, config.document->root, "bridge")) {
    if (auto name = (*t)["name"].value<std::string>()) out.push_back(*name);
  }
  return out;
}

DryRun dry_run(const std::string& file, const std::string& source, const std::vector<DryRunInput>& messages,
               const std::string& context_dir, const config::Rules& config, const std::vector<std::string>& names) {
  DryRun r;
  r.file = file;
  EmitTargets targets;
  NullTarget local;
  targets.add("local", &local);
  for (const std::string& name : names) targets.add(name, &local);  // recorded as emits, sent nowhere
  RuleStatsRegistry stats(1);
  std::uint64_t offset_ms = 0;  // moves the clock past open windows at the end
  RuleVm vm(budgets_of(config), context_dir, &targets, stats, 0, [&offset_ms] { return core::now_ms() + offset_ms; });
  StepWatcher watcher;
  vm.set_watcher(&watcher);
  RuleVm::LoadResult loaded = vm.load(file, source);
  if (!loaded.error.empty()) {
    r.error = loaded.error;
    return r;
  }
  r.rule = loaded.name;
  for (const DryRunInput& in : messages) {
    DryRunStep& step = r.messages.emplace_back();
    step.input = in;
    watcher.step = &step;
    auto msg = router::Message::make(in.topic, in.payload);
    msg->qos = in.qos;
    msg->retain = in.retain;
    msg->publisher = "rules-test";
    router::MessagePtr m = msg;
    RuleVm::Outcome outcome = vm.run(m);
    take(step, outcome.actions);
    step.dropped = outcome.drop;
    if (!outcome.drop) step.passed = m;
    if (!step.faults.empty()) r.faulted = true;
  }
  offset_ms = 366ull * 24 * 3600 * 1000;
  watcher.step = &r.closing;
  RuleVm::Outcome closing = vm.tick();
  take(r.closing, closing.actions);
  if (!r.closing.faults.empty()) r.faulted = true;
  vm.set_watcher(nullptr);
  return r;
}

std::string format_dry_run(const DryRun& r) {
  std::ostringstream out;
  out << "rule " << r.rule << " from " << r.file << "\n";
  int n = 0;
  for (const DryRunStep& step : r.messages) {
    out << "message " << ++n << ": " << step.input.topic << " " << step.input.payload << "\n";
    print_actions(out, step.actions);
    if (!step.faults.empty()) out << "  fault (see the error above); the message passes unchanged\n";
    if (step.dropped) {
      out << "  drop\n";
    } else {
      out << "  pass ";
      print_message(out, *step.passed);
      out << "\n";
    }
  }
  if (!r.closing.actions.empty()) {
    out << "windows closed after the last message:\n";
    print_actions(out, r.closing.actions);
  }
  return out.str();
}

int run_rules_test(const std::string& file, const std::vector<std::pair<std::string, std::string>>& messages,
                   const config::Config& config, std::ostream& out, std::ostream& err) {
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
  std::vector<DryRunInput> inputs;
  for (const auto& [topic, payload] : messages) inputs.push_back({topic, payload});
  DryRun r = dry_run(file, text.str(), inputs, dir, config.rules, emit_target_names(config));
  if (!r.error.empty()) {
    err << r.error << "\n";
    return 1;
  }
  out << format_dry_run(r);
  return r.faulted ? 1 : 0;
}

}  // namespace strata::rules
