// Lingering close: how the broker closes a connection it decided to close
// (a DISCONNECT or refused CONNACK sent, the notice of stream.hpp given).
//
// Closing a TCP socket that still has unread input makes the kernel send a
// reset instead of FIN, and a reset can make the peer's kernel discard
// what it had not yet read: the DISCONNECT with its reason code. A client
// that is still sending when the broker closes (it keeps publishing, or
// answers a PUBREC with PUBREL) would see EPIPE/ECONNRESET and never learn
// why. So the broker shuts down only its sending side (the peer reads the
// last packet, then end of stream) and keeps reading and discarding what
// the peer still sends, until the peer closes its side, `linger_time`
// passes or `linger_bytes` were read; only then is the socket closed.
// Nothing read is looked at, so TLS (close_notify already sent) and
// WebSocket (close frame already sent) linger on the raw socket alike.
//
// A lingering socket belongs to no Client: it costs a file descriptor and
// a timer for at most linger_time, and counts toward no connection limit.
#pragma once

#include <chrono>
#include <cstddef>

#include <boost/asio/ip/tcp.hpp>

namespace strata::transport {

inline constexpr std::chrono::milliseconds linger_time{2000};
inline constexpr std::size_t linger_bytes = 64 * 1024;

// Cancels the socket's outstanding operations (their handlers complete
// with operation_aborted), shuts down its sending side and lingers as
// above on the socket's executor. The socket is moved from.
void linger_close(boost::asio::ip::tcp::socket&& socket) noexcept;

// Lingering closes started on the calling thread and not finished (a core
// waits for its own before it stops at shutdown).
int lingering_closes() noexcept;

}  // namespace strata::transport
