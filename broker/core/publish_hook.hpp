// The seam after a PUBLISH is accepted and before it is routed: where the
// namespace (contract checks, catalog), the rule engine and the bridges plug
// in. Hooks run on the publishing client's core, in registration order.
#pragma once

#include <string>

#include "broker/protocol/reason_code.hpp"
#include "broker/router/message.hpp"

namespace strata::core {

enum class HookVerdict : unsigned char {
  pass,  // route the (possibly replaced) message
  drop,  // do not route; the publisher is still acknowledged
  // Do not route, and refuse the message to its publisher: an MQTT 5 QoS 1/2
  // PUBLISH is answered with refusal(core)'s reason code and string (e.g. the
  // namespace's 0x99 for a contract violation); QoS 0 and 3.1.1, which cannot
  // be refused, are dropped — or the 3.1.1 connection closed if the refusal
  // says so. The hooks after this one do not run.
  reject,
};

// Why a hook rejected the message it was last called with on a core.
struct Refusal {
  protocol::ReasonCode code = protocol::ReasonCode::unspecified_error;
  std::string reason;          // MQTT 5 reason string; may be empty
  bool close_v311 = false;     // close a 3.1.1 publisher instead of dropping silently
};

class PublishHook {
 public:
  virtual ~PublishHook() = default;
  // `msg` may be replaced by a new message (e.g. a transformed payload).
  // `core` is the index of the calling core: a hook keeps per-core state.
  virtual HookVerdict on_publish(router::MessagePtr& msg, unsigned core) = 0;
  // Asked on the same core right after on_publish returned reject.
  virtual Refusal refusal(unsigned /*core*/) const { return {}; }
};

}  // namespace strata::core
