// [historian]: what is recorded and how long it is kept. Read from the
// config file by read_historian_config (the module owns its section).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "broker/config/config.hpp"

namespace strata::historian {

struct HistorianConfig {
  bool enabled = false;
  std::vector<std::string> filters;  // MQTT filters of the topics recorded
  std::vector<std::string> exclude;  // filters of topics never recorded
  bool record_payloads = true;       // keep the raw messages too (replay)
  std::string timestamp_field;       // JSON path of a payload timestamp; empty: receive time
  std::int64_t raw_ms = 7 * 86'400'000LL;         // retention of raw points and messages
  std::int64_t minute_ms = 90 * 86'400'000LL;     // of per-minute rollups
  std::int64_t hour_ms = 5 * 365 * 86'400'000LL;  // of per-hour rollups
  std::uint64_t max_bytes = 0;                    // 0: no limit
  bool operator==(const HistorianConfig&) const = default;
};

// The [historian] section of `config` (defaults when absent); throws
// config::ConfigError with file:line:column.
HistorianConfig read_historian_config(const config::Config& config);

}  // namespace strata::historian
