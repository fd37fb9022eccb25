#include "tools/bench/relay.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <span>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "broker/protocol/codec.hpp"

namespace strata::bench {

namespace asio = boost::asio;
using asio::ip::tcp;

struct Relay::Conn {
  explicit Conn(tcp::socket s) : socket(std::move(s)) {}
  tcp::socket socket;
  std::vector<std::uint8_t> in = std::vector<std::uint8_t>(64 * 1024);
  std::size_t filled = 0;
  std::string pending;  // written next
  std::string active;   // being written
  bool writing = false;
  bool subscribed = false;
  bool closed = false;
  protocol::Version version = protocol::Version::v5;
};

Relay::Relay(const Options& options) : o_(options), acceptor_(io_) {}

int Relay::run() {
  boost::system::error_code ec;
  tcp::endpoint at(asio::ip::make_address(o_.host, ec), o_.port);
  if (ec) {
    std::cerr << "strata-bench relay: bad address " << o_.host << "\n";
    return 1;
  }
  acceptor_.open(at.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(at, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::cerr << "strata-bench relay: cannot listen on " << o_.host << ":" << o_.port << ": " << ec.message()
              << "\n";
    return 1;
  }
  std::cerr << "relay: listening on " << o_.host << ":" << o_.port << "\n";
  accept();
  asio::steady_timer stop(io_, std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                   std::chrono::duration<double>(o_.duration)));
  stop.async_wait([this](const boost::system::error_code&) { io_.stop(); });
  io_.run();
  std::cout << "{\"scenario\":\"relay\",\"relayed\":" << relayed_ << "}\n";
  return 0;
}

void Relay::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket s) {
    if (ec) return;
    s.set_option(tcp::no_delay(true));
    auto c = std::make_shared<Conn>(std::move(s));
    read(c);
    accept();
  });
}

void Relay::read(const std::shared_ptr<Conn>& c) {
  if (c->filled == c->in.size()) c->in.resize(c->in.size() * 2);
  c->socket.async_read_some(asio::buffer(c->in.data() + c->filled, c->in.size() - c->filled),
                            [this, c](const boost::system::error_code& ec, std::size_t n) {
                              if (ec) return drop(c);
                              c->filled += n;
                              handle(c);
                              if (!c->closed) read(c);
                            });
}

void Relay::handle(const std::shared_ptr<Conn>& c) {
  std::size_t pos = 0;
  while (pos < c->filled) {
    // Fixed header: type and flags, then the remaining length (varint).
    std::size_t len = 0, i = pos + 1;
    int shift = 0;
    bool complete = false;
    while (i < c->filled && shift <= 21) {
      std::uint8_t b = c->in[i++];
      len |= std::size_t{b & 0x7Fu} << shift;
      shift += 7;
      if ((b & 0x80) == 0) {
        complete = true;
        break;
      }
    }
    if (!complete || c->filled - i < len) break;
    const std::size_t end = i + len;
    const std::uint8_t type = c->in[pos] >> 4;
    std::span<const std::uint8_t> packet(c->in.data() + pos, end - pos);
    if (type == 3) {  // PUBLISH: copied as is to every subscriber
      const std::uint8_t qos = (c->in[pos] >> 1) & 3;
      if (qos > 0) {  // PUBACK with the packet id after the topic
        std::size_t id_at = i + 2 + (std::size_t{c->in[i]} << 8 | c->in[i + 1]);
        protocol::encode(protocol::Ack{protocol::PacketType::puback,
                                       static_cast<std::uint16_t>(c->in[id_at] << 8 | c->in[id_at + 1]),
                                       protocol::ReasonCode::success, {}},
                         c->version, c->pending);
        write(c);
      }
      for (auto& s : subscribers_) {
        s->pending.append(reinterpret_cast<const char*>(packet.data()), packet.size());
        write(s);
      }
      ++relayed_;
    } else if (type == 1 || type == 8) {  // CONNECT, SUBSCRIBE: decoded to answer
      protocol::DecodeResult r = protocol::decode(packet, c->version, 1 << 20);
      if (r.status != protocol::DecodeStatus::ok) return drop(c);
      if (type == 1) {
        c->version = std::get<protocol::Connect>(r.packet).version;
        protocol::encode(protocol::Connack{}, c->version, c->pending);
      } else {
        const auto& s = std::get<protocol::Subscribe>(r.packet);
        protocol::Suback ack{s.packet_id, std::vector<protocol::ReasonCode>(s.entries.size(),
                                                                            protocol::ReasonCode::success),
                             {}};
        protocol::encode(ack, c->version, c->pending);
        if (!c->subscribed) subscribers_.push_back(c);
        c->subscribed = true;
      }
      write(c);
    } else if (type == 12) {  // PINGREQ
      c->pending.append("\xD0\x00", 2);
      write(c);
    } else if (type == 14) {  // DISCONNECT
      return drop(c);
    }
    pos = end;  // acknowledgements from subscribers: nothing to do
  }
  std::copy(c->in.begin() + static_cast<std::ptrdiff_t>(pos),
            c->in.begin() + static_cast<std::ptrdiff_t>(c->filled), c->in.begin());
  c->filled -= pos;
}

void Relay::write(const std::shared_ptr<Conn>& c) {
  if (c->writing || c->pending.empty() || c->closed) return;
  std::swap(c->active, c->pending);
  c->pending.clear();
  c->writing = true;
  asio::async_write(c->socket, asio::buffer(c->active), [this, c](const boost::system::error_code& ec, std::size_t) {
    c->writing = false;
    c->active.clear();
    if (ec) return drop(c);
    write(c);
  });
}

void Relay::drop(const std::shared_ptr<Conn>& c) {
  if (c->closed) return;
  c->closed = true;
  boost::system::error_code ignored;
  c->socket.close(ignored);
  std::erase(subscribers_, c);
}

}  // namespace strata::bench
