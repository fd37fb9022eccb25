// Failed logins per source address (the IP, without the port): after
// `max_failures` within `window`, further logins from that address are
// refused without checking credentials until the window has passed since
// its first failure. Guards password guessing; each block is logged once.
//
// Only CONNECT takes its mutex, never the publish path. The table is
// bounded: entries whose window passed are dropped when it grows.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace strata::auth {

class LoginLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  LoginLimiter(std::uint32_t max_failures, std::chrono::seconds window)
      : max_(max_failures), window_(window) {}

  // True when `address` may try to log in (max_failures 0: always).
  bool allowed(std::string_view address, Clock::time_point now = Clock::now());
  // Records a failed login; true when this failure starts a block.
  bool failed(std::string_view address, Clock::time_point now = Clock::now());
  // The address part of "ip:port" / "[v6]:port".
  static std::string_view host_of(std::string_view remote);

 private:
  struct Entry {
    Clock::time_point first;
    std::uint32_t failures = 0;
  };
  const std::uint32_t max_;
  const std::chrono::seconds window_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace strata::auth
