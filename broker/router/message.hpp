// The message that travels through the broker once a PUBLISH is accepted.
// It is immutable and shared by every subscriber it is delivered to; what
// differs per delivery (QoS, packet id, retain flag, subscription ids, topic
// alias) is decided when it is encoded for one connection.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "broker/protocol/packet.hpp"

namespace strata::uns {
struct Annotation;  // broker/uns/annotation.hpp
}

namespace strata::router {

struct Message {
  std::string topic;
  std::string payload;
  protocol::QoS qos = protocol::QoS::at_most_once;
  bool retain = false;
  // Application properties only: payload format, content type, response
  // topic, correlation data, user properties. Message expiry is kept as an
  // absolute deadline below and re-computed on every send.
  protocol::Properties properties;
  std::uint64_t expires_at_ms = 0;  // unix time in ms; 0 = never expires
  std::string publisher;            // client id of the publisher, for logs
  std::string username;             // of the publisher, if it gave one (rules read it)
  // How many times a rule republished to get here: 0 for a client's
  // message. The rule engine stops a chain at its hop limit (loop guard).
  std::uint8_t hops = 0;
  // What the namespace hook (broker/uns/) found on the publishing core: the
  // topic's ISA-95 place and the payload parsed as JSON, which the rules
  // reuse instead of parsing again. Null when the namespace is off or the
  // message was neither governed nor parsed (no cost then). `mutable`: the
  // hook attaches it to the message it was handed, on the publishing core,
  // before the message is routed or seen by another thread; it is never
  // changed afterwards. A copy whose topic or payload differs must reset it.
  mutable std::shared_ptr<const uns::Annotation> uns;
};

using MessagePtr = std::shared_ptr<const Message>;

}  // namespace strata::router
