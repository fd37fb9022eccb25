// A byte stream to one client, whatever carries it. TCP is the first
// implementation; TLS and WebSocket streams will implement the same
// interface, so the MQTT connection logic (broker/core/client.hpp) never
// knows which transport it runs on.
//
// All calls and completions happen on the owning core's thread. At most one
// read and one write are outstanding at a time.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

namespace strata::transport {

class Stream {
 public:
  using Handler = std::function<void(const boost::system::error_code&, std::size_t)>;

  virtual ~Stream() = default;
  virtual void async_read_some(boost::asio::mutable_buffer buffer, Handler handler) = 0;
  // Completes when all of `buffer` was written, or on error.
  virtual void async_write(boost::asio::const_buffer buffer, Handler handler) = 0;
  // Closes both directions; outstanding operations complete with an error.
  virtual void close() noexcept = 0;
  // "127.0.0.1:50432", for logs and per-address limits.
  virtual const std::string& remote_address() const noexcept = 0;
};

}  // namespace strata::transport
