// Wall-clock time in unix milliseconds: message expiry deadlines are kept
// in wall time so they mean the same after a restart.
#pragma once

#include <chrono>
#include <cstdint>

namespace strata::core {

inline std::uint64_t now_ms() noexcept {
  using namespace std::chrono;
  return static_cast<std::uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

}  // namespace strata::core
