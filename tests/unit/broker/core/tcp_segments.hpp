// TCP data segments a socket has received (tcp_info's tcpi_data_segs_in),
// for tests that check how many writes the broker made. In a file of its
// own: the field is only in the kernel's <linux/tcp.h>, which cannot be
// included next to glibc's <netinet/tcp.h> (Asio includes that one).
#pragma once

#include <cstdint>

namespace strata::test {

// 0 when the socket cannot say.
std::uint32_t tcp_data_segments_in(int fd);

}  // namespace strata::test
