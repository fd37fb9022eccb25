// TCP segment counts of a socket (tcp_info), for tests that check how
// many writes the broker made. In a file of its
// own: the field is only in the kernel's <linux/tcp.h>, which cannot be
// included next to glibc's <netinet/tcp.h> (Asio includes that one).
#pragma once

#include <cstdint>

namespace strata::test {

// Data segments the socket has received; 0 when it cannot say.
std::uint32_t tcp_data_segments_in(int fd);
// Segments it sent that the peer has not acknowledged yet; -1 when it
// cannot say. 0 means what was sent is in the peer's socket.
long tcp_unacked_segments(int fd);

}  // namespace strata::test
