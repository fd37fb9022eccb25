// One strata-bench connection (see bench_connection.hpp).
#include "tools/bench/bench_connection.hpp"

#include <cstring>
#include <span>
#include <variant>

#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>

#include "broker/protocol/codec.hpp"

namespace strata::bench {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {
// Any packet the broker sends is accepted; the broker enforces the limits.
constexpr std::uint32_t max_packet = 268'435'460;
}  // namespace

BenchConnection::BenchConnection(asio::io_context& io, ConnectionEvents& events,
                                 std::uint32_t index, const Options& options, asio::ssl::context* tls,
                                 std::size_t read_buffer)
    : options_(options),
      stream_(io, options.transport, tls, !options.insecure),
      events_(events),
      index_(index),
      version_(options.version),
      in_(read_buffer) {}

void BenchConnection::start(const asio::ip::tcp::endpoint& broker, const std::string& source,
                            protocol::Connect connect) {
  auto& socket = stream_.socket();
  error_code ec;
  socket.open(broker.protocol(), ec);
  if (!ec && !source.empty()) {
    const auto addr = asio::ip::make_address(source, ec);
    if (!ec) socket.bind(asio::ip::tcp::endpoint(addr, 0), ec);
  }
  if (ec) {
    fail("socket: " + ec.message());
    return;
  }
  connect.version = version_;
  send(connect);
  socket.async_connect(broker, [this](const error_code& e) {
    if (e) {
      fail("connect: " + e.message());
      return;
    }
    error_code ignored;
    stream_.socket().set_option(asio::ip::tcp::no_delay(true), ignored);
    stream_.async_handshake(options_.host, options_.port, options_.path,
                            [this](const error_code& he, const char* stage) {
                              if (he) {
                                fail(std::string(stage) + ": " + he.message());
                                return;
                              }
                              handshaken_ = true;
                              flush();
                              read();
                            });
  });
}

void BenchConnection::send(const protocol::Packet& p) {
  if (closed_) return;
  protocol::encode(p, version_, out_);
  if (connected_) flush();
}

void BenchConnection::publish(protocol::Publish& p) {
  if (closed_) return;
  if (p.qos != protocol::QoS::at_most_once) {
    if (++next_id_ == 0) next_id_ = 1;
    p.packet_id = next_id_;
  }
  protocol::encode(p, version_, out_);
  ++out_publishes_;
  flush();
}

void BenchConnection::disconnect() {
  if (closed_ || closing_) return;
  protocol::encode(protocol::Disconnect{}, version_, out_);
  closing_ = true;
  flush();
}

void BenchConnection::close() noexcept {
  if (closed_) return;
  closed_ = true;
  error_code ec;
  auto& socket = stream_.socket();
  socket.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

void BenchConnection::flush() {
  if (write_in_flight_ || closed_ || !handshaken_) return;
  if (out_.empty()) {
    if (closing_) close();
    return;
  }
  out_.swap(writing_);
  out_.clear();
  writing_publishes_ = out_publishes_;
  out_publishes_ = 0;
  write_in_flight_ = true;
  stream_.async_write(asio::buffer(writing_), [this](const error_code& e, std::size_t) {
    write_in_flight_ = false;
    if (e) {
      fail("write: " + e.message());
      return;
    }
    const std::uint32_t n = writing_publishes_;
    writing_publishes_ = 0;
    if (n != 0) events_.on_written(*this, n);
    flush();
  });
}

void BenchConnection::read() {
  if (closed_) return;
  if (in_end_ == in_.size()) {
    // Keep what is not decoded yet at the front; grow for a large packet.
    if (in_begin_ > 0) {
      std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
      in_end_ -= in_begin_;
      in_begin_ = 0;
    } else {
      in_.resize(in_.size() * 2);
    }
  }
  stream_.async_read_some(asio::buffer(in_.data() + in_end_, in_.size() - in_end_),
                          [this](const error_code& e, std::size_t n) {
                            if (e) {
                              if (!closing_ && !closed_) fail("read: " + e.message());
                              return;
                            }
                            on_read(n);
                          });
}

void BenchConnection::on_read(std::size_t n) {
  in_end_ += n;
  while (in_begin_ < in_end_ && !closed_) {
    auto r = protocol::decode(std::span<const std::uint8_t>(in_.data() + in_begin_, in_end_ - in_begin_),
                              version_, max_packet);
    if (r.status == protocol::DecodeStatus::need_more) break;
    if (r.status == protocol::DecodeStatus::error) {
      fail("undecodable packet from broker: " + r.error_text);
      return;
    }
    in_begin_ += r.consumed;
    handle(r.packet);
  }
  if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;
  flush();
  read();
}

void BenchConnection::handle(protocol::Packet& packet) {
  using namespace protocol;
  if (auto* p = std::get_if<Publish>(&packet)) {
    if (p->qos == QoS::at_least_once) {
      encode(Ack{PacketType::puback, p->packet_id, ReasonCode::success, {}}, version_, out_);
    } else if (p->qos == QoS::exactly_once) {
      encode(Ack{PacketType::pubrec, p->packet_id, ReasonCode::success, {}}, version_, out_);
    }
    events_.on_message(*this, *p);
  } else if (auto* a = std::get_if<Ack>(&packet)) {
    switch (a->type) {
      case PacketType::pubrel:
        encode(Ack{PacketType::pubcomp, a->packet_id, ReasonCode::success, {}}, version_, out_);
        break;
      case PacketType::pubrec:
        if (static_cast<std::uint8_t>(a->reason) >= 0x80) {
          events_.on_completed(*this);  // refused: the flow ends here
        } else {
          encode(Ack{PacketType::pubrel, a->packet_id, ReasonCode::success, {}}, version_, out_);
        }
        break;
      case PacketType::puback:
      case PacketType::pubcomp:
        events_.on_completed(*this);
        break;
      default:
        break;
    }
  } else if (auto* c = std::get_if<Connack>(&packet)) {
    connected_ = c->reason == ReasonCode::success;
    events_.on_connack(*this, *c);
  } else if (auto* s = std::get_if<Suback>(&packet)) {
    events_.on_suback(*this, *s);
  } else if (auto* d = std::get_if<Disconnect>(&packet)) {
    fail("broker sent DISCONNECT with reason " + std::to_string(static_cast<int>(d->reason)));
  }
}

void BenchConnection::fail(const std::string& what) {
  if (closed_) return;
  failed_ = true;
  connected_ = false;
  close();
  events_.on_error(*this, what);
}

}  // namespace strata::bench
