// The seam after a PUBLISH is accepted and before it is routed: where the
// namespace (contract checks, catalog), the rule engine and the bridges plug
// in. Hooks run on the publishing client's core, in registration order.
#pragma once

#include "broker/router/message.hpp"

namespace strata::core {

enum class HookVerdict : unsigned char {
  pass,  // route the (possibly replaced) message
  drop,  // do not route; the publisher is still acknowledged
};

class PublishHook {
 public:
  virtual ~PublishHook() = default;
  // `msg` may be replaced by a new message (e.g. a transformed payload).
  // `core` is the index of the calling core: a hook keeps per-core state.
  virtual HookVerdict on_publish(router::MessagePtr& msg, unsigned core) = 0;
};

}  // namespace strata::core
