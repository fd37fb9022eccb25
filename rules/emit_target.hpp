// Named outputs a rule can `emit(target, msg)` to. A target is anything that
// accepts a message: today the built-in "local" target (publish on a local
// topic); bridges (mqtt, kafka, influx) register theirs under their names,
// and rules that emit to them need no change.
//
// Threading: targets are registered before the broker's cores start, and
// a bridge added by a reload registers its own while they run (add() and
// find() take a shared lock). emit() is called on the core that ran the
// rule, with that core's index; a target that is not thread-safe keeps
// per-core state, like a PublishHook.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "broker/router/message.hpp"
#include "rules/history_source.hpp"

namespace strata::rules {

class EmitTarget {
 public:
  virtual ~EmitTarget() = default;
  virtual void emit(router::MessagePtr msg, unsigned core) = 0;
};

class EmitTargets {
 public:
  // `target` must outlive the registry. A second target with the same name replaces the first.
  void add(const std::string& name, EmitTarget* target) {
    std::unique_lock lock(mutex_);
    targets_[name] = target;
  }
  EmitTarget* find(std::string_view name) const {
    std::shared_lock lock(mutex_);
    auto it = targets_.find(name);
    return it == targets_.end() ? nullptr : it->second;
  }
  // What history.last/history.range read (null: no historian; they fail).
  // Set before the cores start, like the targets.
  void set_history(const HistorySource* h) { history_ = h; }
  const HistorySource* history() const noexcept { return history_; }

 private:
  const HistorySource* history_ = nullptr;
  mutable std::shared_mutex mutex_;
  std::map<std::string, EmitTarget*, std::less<>> targets_;  // guarded by mutex_
};

}  // namespace strata::rules
