// Service manager notifications (systemd's Type=notify): the broker tells
// the manager "READY=1" once its listeners are open and "STOPPING=1" when
// it begins to shut down.
//
// The protocol is one datagram of "KEY=VALUE\n" lines to the AF_UNIX socket
// named by $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace).
// It is spoken directly rather than through libsystemd, which would be a
// new dependency for two messages. Without $NOTIFY_SOCKET (not run by a
// service manager) nothing is sent.
#pragma once

#include <string>
#include <string_view>

namespace strata::util {

// Sends `state` ("READY=1\nSTATUS=...") to $NOTIFY_SOCKET. Returns false
// when the variable is unset or the datagram could not be sent; `error`
// then says why (empty when unset).
bool sd_notify(std::string_view state, std::string* error = nullptr);

}  // namespace strata::util
