// The MQTT 5 application properties of a topic's last message, as the
// catalog keeps them (catalog.hpp) and snapshots them (snapshot_record.hpp):
// payload format, the expiry interval it was published with, content type,
// response topic, correlation data and user properties (in order, repeats
// kept). An entry holds them behind a pointer that is null when the last
// message had none, the usual case for plant data, so they cost nothing then.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "broker/protocol/properties.hpp"

namespace strata::uns {

struct LastProperties {
  std::optional<std::uint8_t> payload_format_indicator;
  std::optional<std::uint32_t> message_expiry_interval;
  std::optional<std::string> content_type;
  std::optional<std::string> response_topic;
  std::optional<std::string> correlation_data;  // binary
  protocol::UserProperties user;

  bool operator==(const LastProperties&) const = default;

  // True when a message with properties `p` has any of the above.
  static bool any(const protocol::Properties& p) noexcept {
    return p.payload_format_indicator || p.message_expiry_interval || p.content_type || p.response_topic ||
           p.correlation_data || !p.user_properties.empty();
  }
  // `expiry_s`: the message's expiry interval when it has one (the router
  // keeps it as a deadline, not in the properties), else 0.
  static LastProperties of(const protocol::Properties& p, std::uint64_t expiry_s) {
    LastProperties out{p.payload_format_indicator, p.message_expiry_interval, p.content_type,
                       p.response_topic,           p.correlation_data,        p.user_properties};
    if (expiry_s != 0) out.message_expiry_interval = static_cast<std::uint32_t>(expiry_s);
    return out;
  }
  bool empty() const noexcept {
    return !payload_format_indicator && !message_expiry_interval && !content_type && !response_topic &&
           !correlation_data && user.empty();
  }
};

}  // namespace strata::uns
