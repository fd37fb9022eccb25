#include "rules/rule_engine.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>

#include <boost/asio/post.hpp>

#include "broker/core/broker.hpp"
#include "broker/core/clock.hpp"
#include "broker/util/log.hpp"

namespace strata::rules {

namespace asio = boost::asio;

Budgets budgets_of(const config::Rules& cfg) {
  Budgets b;
  b.instructions = cfg.instruction_limit;
  b.memory_bytes = std::size_t{cfg.memory_limit_kb} * 1024;
  b.publish_limit = cfg.publish_limit;
  b.fault_limit = cfg.fault_limit;
  b.fault_window_ms = static_cast<std::uint64_t>(cfg.fault_window.count()) * 1000;
  b.hop_limit = cfg.hop_limit;
  return b;
}

class RuleEngine::LocalTarget final : public EmitTarget {
 public:
  explicit LocalTarget(core::Broker& broker) : broker_(broker) {}
  void emit(router::MessagePtr msg, unsigned core) override { broker_.core(core).publish(std::move(msg), nullptr); }

 private:
  core::Broker& broker_;
};

RuleEngine::RuleEngine(core::Broker& broker, EmitTargets& targets)
    : broker_(broker),
      config_(broker.config().rules),
      targets_(targets),
      local_(std::make_unique<LocalTarget>(broker)),
      stats_(broker.core_count()),
      dir_(config_.dir),
      disabled_file_((std::filesystem::path(broker.config().data_dir) / "rules_disabled").string()) {
  targets_.add("local", local_.get());
  // Rules an operator turned off stay off across restarts.
  if (std::ifstream in(disabled_file_); in) {
    std::string name;
    while (std::getline(in, name)) {
      if (RuleVm::valid_name(name)) stats_.set_paused(name, true);
    }
  }
  Budgets budgets = budgets_of(config_);
  for (unsigned i = 0; i < broker.core_count(); ++i) {
    PerCore pc;
    pc.vm = std::make_unique<RuleVm>(budgets, config_.dir, &targets_, stats_, i, [] { return core::now_ms(); });
    pc.tick = std::make_unique<asio::steady_timer>(broker.core(i).io());
    cores_.push_back(std::move(pc));
  }
  scan_timer_ = std::make_unique<asio::steady_timer>(broker.core(0).io());

  // $SYS/rules/<name>/...: published with the broker's $SYS topics.
  broker.add_sys_source([this](const core::Broker::SysPublish& publish) {
    for (const auto& [name, counters] : stats_.snapshot()) {
      RuleTotals t = counters->totals();
      std::string prefix = "$SYS/rules/" + name + "/";
      publish(prefix + "matched", std::to_string(t.matched));
      publish(prefix + "passed", std::to_string(t.passed));
      publish(prefix + "dropped", std::to_string(t.dropped));
      publish(prefix + "published", std::to_string(t.published));
      publish(prefix + "emitted", std::to_string(t.emitted));
      publish(prefix + "errors", std::to_string(t.errors));
      publish(prefix + "p50_us", std::to_string(t.p50_us));
      publish(prefix + "p99_us", std::to_string(t.p99_us));
      publish(prefix + "memory_kb", std::to_string((t.memory_bytes + 1023) / 1024));
      publish(prefix + "state", t.disabled ? "disabled" : "enabled");
    }
  });
}

RuleEngine::~RuleEngine() = default;

bool RuleEngine::set_enabled(const std::string& name, bool enabled) {
  std::lock_guard lock(disabled_mutex_);
  stats_.set_paused(name, !enabled);
  // Written whole to a temporary file, then renamed over the old one.
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(fs::path(disabled_file_).parent_path(), ec);
  std::string tmp = disabled_file_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (const std::string& n : stats_.paused()) out << n << "\n";
    out.flush();
    if (!out) {
      STRATA_WARN("rules") << tmp << ": cannot write; rule " << name << " is "
                           << (enabled ? "enabled" : "disabled") << " until the broker restarts";
      return false;
    }
  }
  fs::rename(tmp, disabled_file_, ec);
  if (ec) {
    STRATA_WARN("rules") << disabled_file_ << ": " << ec.message();
    return false;
  }
  return true;
}

void RuleEngine::start() {
  // The cores do not run yet: load into every VM from this thread.
  RuleDir::Scan scan = dir_.scan();
  scan.contexts_changed = false;  // nothing was cached yet
  for (unsigned i = 0; i < cores_.size(); ++i) apply(i, scan);
  if (config_.reload_interval.count() > 0) schedule_scan();
  for (unsigned i = 0; i < cores_.size(); ++i) schedule_tick(i);
}

void RuleEngine::schedule_scan() {
  scan_timer_->expires_after(config_.reload_interval);
  scan_timer_->async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    scan_now();
    schedule_scan();
  });
}

void RuleEngine::scan_now(std::function<void()> done) {
  RuleDir::Scan scan = dir_.scan();
  // A file with a syntax error is reported once, here, and not sent to the
  // cores: the previous version of the rule keeps running. (This runs on
  // core 0, whose VM it may ask for the rule's name.)
  std::erase_if(scan.changes, [this](const RuleDir::Change& c) {
    if (!c.source) return false;
    std::string error = RuleVm::check_syntax(c.path, *c.source);
    if (error.empty()) return false;
    std::string name = cores_[0].vm->name_of(c.path);
    STRATA_ERROR("rules") << error
                          << (name.empty() ? std::string(" (not loaded)")
                                           : " (rule " + name + " not reloaded; the previous version keeps running)");
    return true;
  });
  if (scan.changes.empty() && !scan.contexts_changed) {
    if (done) done();
    return;
  }
  auto shared = std::make_shared<const RuleDir::Scan>(std::move(scan));
  auto left = std::make_shared<std::atomic<unsigned>>(static_cast<unsigned>(cores_.size()));
  for (unsigned i = 0; i < cores_.size(); ++i) {
    asio::post(broker_.core(i).io(), [this, i, shared, left, done] {
      apply(i, *shared);
      if (left->fetch_sub(1, std::memory_order_acq_rel) == 1 && done) done();
    });
  }
}

namespace {

void report_load(const RuleVm::LoadResult& r, const std::string& path) {
  if (!r.error.empty()) {
    STRATA_ERROR("rules") << r.error
                          << (!r.replaced.empty() ? " (the previous version of rule " + r.replaced + " keeps running)"
                              : r.name_taken      ? std::string(" (not loaded; the rule that has the name keeps running)")
                                                  : std::string(" (not loaded)"));
  } else if (r.replaced.empty()) {
    STRATA_INFO("rules") << "loaded rule " << r.name << " from " << path;
  } else if (r.replaced == r.name) {
    STRATA_INFO("rules") << "reloaded rule " << r.name << " from " << path;
  } else {
    STRATA_INFO("rules") << "reloaded rule " << r.name << " from " << path << " (renamed from " << r.replaced << ")";
  }
}

}  // namespace

void RuleEngine::apply(unsigned core, const RuleDir::Scan& scan) {
  PerCore& pc = cores_[core];
  RuleVm& vm = *pc.vm;
  bool report = core == 0;  // every core loads the same text: log once
  if (scan.contexts_changed) {
    vm.clear_context_cache();
    if (report) {
      STRATA_INFO("rules") << "context files in " << dir_.dir() << " changed; rules will re-read them";
    }
  }
  // Deletions first: a file renamed within one scan (mv a.lua b.lua) then
  // hands its rule's name and state to the new file instead of clashing.
  std::vector<std::string> gone;  // names that may have no rule any more
  for (const RuleDir::Change& c : scan.changes) {
    if (c.source) continue;
    pc.waiting.erase(c.path);
    std::string name = vm.remove(c.path);
    if (name.empty()) continue;
    gone.push_back(name);
    if (report) {
      STRATA_INFO("rules") << "removed rule " << name << " (" << c.path << " deleted)";
    }
  }
  for (const RuleDir::Change& c : scan.changes) {
    if (!c.source) continue;
    pc.waiting.erase(c.path);
    RuleVm::LoadResult r = vm.load(c.path, *c.source);
    if (r.error.empty() && !r.replaced.empty() && r.replaced != r.name) gone.push_back(r.replaced);
    if (r.name_taken) pc.waiting[c.path] = *c.source;
    if (report) report_load(r, c.path);
  }
  // A file refused because its name was taken loads once the name is free.
  if (!gone.empty()) {
    for (auto it = pc.waiting.begin(); it != pc.waiting.end();) {
      RuleVm::LoadResult r = vm.load(it->first, it->second);
      if (r.name_taken) {
        ++it;
        continue;
      }
      if (report) report_load(r, it->first);
      it = pc.waiting.erase(it);
    }
  }
  vm.collect();
  if (report) {
    std::vector<std::string> loaded = vm.names();
    for (const std::string& name : gone) {
      if (std::find(loaded.begin(), loaded.end(), name) == loaded.end()) stats_.remove(name);
    }
  }
}

void RuleEngine::schedule_tick(unsigned core) {
  PerCore& pc = cores_[core];
  pc.tick->expires_after(kTick);
  pc.tick->async_wait([this, core](const boost::system::error_code& ec) {
    if (ec) return;
    RuleVm& vm = *cores_[core].vm;
    if (!vm.empty()) {
      RuleVm::Outcome out = vm.tick();
      carry_out(core, out.actions);
    }
    schedule_tick(core);
  });
}

void RuleEngine::carry_out(unsigned core, std::vector<Action>& actions) {
  for (Action& a : actions) {
    if (a.kind == Action::Kind::publish) {
      broker_.core(core).publish(std::move(a.msg), nullptr);
    } else if (EmitTarget* t = targets_.find(a.target)) {
      t->emit(std::move(a.msg), core);
    }
  }
}

core::HookVerdict RuleEngine::on_publish(router::MessagePtr& msg, unsigned core) {
  RuleVm& vm = *cores_[core].vm;
  if (!vm.may_match(msg->topic)) return core::HookVerdict::pass;
  RuleVm::Outcome out = vm.run(msg);
  carry_out(core, out.actions);
  return out.drop ? core::HookVerdict::drop : core::HookVerdict::pass;
}

}  // namespace strata::rules
