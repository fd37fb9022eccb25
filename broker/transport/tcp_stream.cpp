#include "broker/transport/tcp_stream.hpp"

#include <boost/asio/write.hpp>

#include "broker/transport/linger.hpp"

namespace strata::transport {

namespace asio = boost::asio;

TcpStream::TcpStream(Socket socket, std::string remote) : socket_(std::move(socket)) {
  boost::system::error_code ec;
  // MQTT packets are small and latency matters more than segment count;
  // writes are already batched per connection (see Client::flush).
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  // read_available() must not wait (Asio's own operations are
  // non-blocking whatever this says).
  socket_.non_blocking(true, ec);
  remote_ = remote_or(socket_, std::move(remote));
}

std::string format_endpoint(const asio::ip::tcp::endpoint& ep) {
  std::string host = ep.address().to_string();
  if (ep.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

void TcpStream::async_read_some(asio::mutable_buffer buffer, Handler handler) {
  socket_.async_read_some(buffer, std::move(handler));
}

void TcpStream::async_wait_readable(WaitHandler handler) {
  socket_.async_wait(asio::socket_base::wait_read, std::move(handler));
}

std::size_t TcpStream::read_available(asio::mutable_buffer buffer, boost::system::error_code& ec) {
  return socket_.read_some(buffer, ec);
}

void TcpStream::async_write(asio::const_buffer buffer, Handler handler) {
  asio::async_write(socket_, buffer, std::move(handler));
}

void TcpStream::close(CloseNotice notice) noexcept {
  if (notice != CloseNotice::none) return linger_close(asio::ip::tcp::socket(std::move(socket_)));
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

}  // namespace strata::transport
