// Times as users write them: RFC 3339 ("2026-12-06T07:35:20Z",
// "2026-12-06T08:35:20.250+01:00") or unix milliseconds ("1796542520250"),
// and back to RFC 3339 in UTC with milliseconds. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace strata::historian {

// Unix ms of an RFC 3339 date-time (a 'T' or ' ' between date and time,
// fraction of any length truncated to ms, 'Z' or a ±HH:MM offset); nullopt
// when malformed.
std::optional<std::int64_t> parse_rfc3339(std::string_view s);
// RFC 3339 or a plain integer of unix ms.
std::optional<std::int64_t> parse_time(std::string_view s);
// "2026-12-06T07:35:20.250Z"
std::string format_rfc3339(std::int64_t unix_ms);
// A duration like "500ms", "10s", "1m", "2h", "7d", "1w", "5y" (365 d) in ms; nullopt
// when malformed or not positive.
std::optional<std::int64_t> parse_duration(std::string_view s);

}  // namespace strata::historian
