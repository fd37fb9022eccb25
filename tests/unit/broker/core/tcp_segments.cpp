#include "tests/unit/broker/core/tcp_segments.hpp"

#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace strata::test {

namespace {

bool read_info(int fd, tcp_info& info) {
  socklen_t len = sizeof info;
  return ::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0;
}

}  // namespace

std::uint32_t tcp_data_segments_in(int fd) {
  tcp_info info{};
  return read_info(fd, info) ? info.tcpi_data_segs_in : 0;
}

long tcp_unacked_segments(int fd) {
  tcp_info info{};
  return read_info(fd, info) ? static_cast<long>(info.tcpi_unacked) : -1;
}

}  // namespace strata::test
