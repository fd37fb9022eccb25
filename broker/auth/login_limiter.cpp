#include "broker/auth/login_limiter.hpp"

namespace strata::auth {

namespace {
constexpr std::size_t prune_above = 10000;
}

std::string_view LoginLimiter::host_of(std::string_view remote) {
  if (remote.starts_with('[')) return remote.substr(1, remote.find(']') - 1);
  return remote.substr(0, remote.rfind(':'));
}

bool LoginLimiter::allowed(std::string_view address, Clock::time_point now) {
  if (max_ == 0) return true;
  std::lock_guard lock(mutex_);
  auto it = entries_.find(std::string(address));
  if (it == entries_.end()) return true;
  if (now - it->second.first >= window_) {
    entries_.erase(it);
    return true;
  }
  return it->second.failures < max_;
}

bool LoginLimiter::failed(std::string_view address, Clock::time_point now) {
  if (max_ == 0) return false;
  std::lock_guard lock(mutex_);
  if (entries_.size() > prune_above) {
    std::erase_if(entries_, [&](const auto& e) { return now - e.second.first >= window_; });
  }
  Entry& e = entries_[std::string(address)];
  if (e.failures == 0 || now - e.first >= window_) {
    e.first = now;
    e.failures = 0;
  }
  ++e.failures;
  return e.failures == max_;
}

}  // namespace strata::auth
