// The socket of an accepted connection.
//
// Bound to its core's io_context rather than to Asio's type-erased
// any_io_executor: the socket is 40 bytes instead of 88, and every
// operation pending on it is 48 bytes smaller (each carries the
// executor). Most connections are idle, each with one wait pending
// (stream.hpp, readiness reads), so both count per idle connection. TLS
// and WebSocket streams take the socket over as a tcp::socket (a move, no
// new registration with the reactor).
#pragma once

#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace strata::transport {

using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;

// "address:port" of `ep` ("[v6]:port" for IPv6).
std::string format_endpoint(const boost::asio::ip::tcp::endpoint& ep);

// "address:port" of the socket's peer, or "unknown".
template <class S>
std::string remote_of(const S& socket) {
  boost::system::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  return format_endpoint(ep);
}

// `remote` when given (the client behind a PROXY header), else remote_of().
template <class S>
std::string remote_or(const S& socket, std::string remote) {
  return remote.empty() ? remote_of(socket) : remote;
}

}  // namespace strata::transport
