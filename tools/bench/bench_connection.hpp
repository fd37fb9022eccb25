// One MQTT client connection of strata-bench over a non-blocking socket.
//
// Model: every connection lives on the one io_context of the generator, so
// nothing here is locked. Packets are encoded with strata_protocol's codec
// into `out_`; while a write is in flight, new packets pile up in `out_` and
// go out together in the next write (batched writes, one syscall for many
// packets). Reads go into a per-connection buffer that is decoded packet by
// packet. The connection answers the QoS flows itself (PUBACK, PUBREC,
// PUBREL, PUBCOMP) and reports what matters to its Events: CONNACK, SUBACK,
// an application message, a completed outgoing QoS 1/2 publish, how many
// publishes a finished write carried, and errors.
//
// The transport is a BenchStream: plain TCP, TLS, WebSocket or secure
// WebSocket, chosen by the --url scheme (see bench_stream.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "broker/protocol/packet.hpp"
#include "tools/bench/bench_stream.hpp"

namespace strata::bench {

class BenchConnection;

class ConnectionEvents {
 public:
  virtual ~ConnectionEvents() = default;
  virtual void on_connack(BenchConnection& c, const protocol::Connack& ack) = 0;
  virtual void on_suback(BenchConnection& c, const protocol::Suback& ack) = 0;
  virtual void on_message(BenchConnection& c, const protocol::Publish& p) = 0;
  // An outgoing QoS 1 (PUBACK) or QoS 2 (PUBCOMP) publish is done.
  virtual void on_completed(BenchConnection& c) = 0;
  // A write finished that carried `publishes` PUBLISH packets.
  virtual void on_written(BenchConnection& c, std::uint32_t publishes) = 0;
  virtual void on_error(BenchConnection& c, const std::string& what) = 0;
};

class BenchConnection {
 public:
  // `tls` is the shared client context (tls and wss only).
  BenchConnection(boost::asio::io_context& io, ConnectionEvents& events, std::uint32_t index,
                  const Options& options, boost::asio::ssl::context* tls, std::size_t read_buffer);

  std::uint32_t index() const noexcept { return index_; }
  bool connected() const noexcept { return connected_; }
  bool failed() const noexcept { return failed_; }

  // Opens the socket (bound to `source` unless empty), connects, does the
  // TLS/WebSocket handshake of the --url scheme and sends `connect`.
  void start(const boost::asio::ip::tcp::endpoint& broker, const std::string& source,
             protocol::Connect connect);
  void send(const protocol::Packet& p);
  // Encodes a PUBLISH; QoS 1/2 get the next packet identifier.
  void publish(protocol::Publish& p);
  // Sends DISCONNECT and closes once it is written.
  void disconnect();
  void close() noexcept;

 private:
  void read();
  void on_read(std::size_t n);
  void handle(protocol::Packet& p);
  void flush();
  void fail(const std::string& what);

  const Options& options_;
  BenchStream stream_;
  ConnectionEvents& events_;
  std::uint32_t index_;
  protocol::Version version_;
  std::vector<std::uint8_t> in_;
  std::size_t in_begin_ = 0;
  std::size_t in_end_ = 0;
  std::string out_;
  std::string writing_;
  std::uint32_t out_publishes_ = 0;
  std::uint32_t writing_publishes_ = 0;
  bool write_in_flight_ = false;
  bool handshaken_ = false;  // the stream carries MQTT (after TCP/TLS/WebSocket set-up)
  bool connected_ = false;
  bool closing_ = false;
  bool closed_ = false;
  bool failed_ = false;
  std::uint16_t next_id_ = 0;
};

}  // namespace strata::bench
