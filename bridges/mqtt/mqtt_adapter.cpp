#include "bridges/mqtt/mqtt_adapter.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <set>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

#include "bridges/outbox/outbox.hpp"
#include "broker/protocol/codec.hpp"
#include "broker/protocol/publish_view.hpp"
#include "broker/router/topic.hpp"
#include "broker/util/log.hpp"

namespace strata::bridges::mqtt {

namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace ws = boost::beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using protocol::QoS;
using protocol::ReasonCode;
using Handler = std::function<void(const boost::system::error_code&, std::size_t)>;

// Marks a record sent from a backlog under order = "live_first" (v5).
constexpr std::string_view kBacklogProperty = "strata-backlog";

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// One connection's byte stream, whatever the transport.
class Link {
 public:
  virtual ~Link() = default;
  virtual tcp::socket& socket() = 0;
  // After the TCP connect: TLS handshake, WebSocket upgrade.
  virtual void handshake(const Settings& s, std::function<void(const boost::system::error_code&)> done) = 0;
  virtual void write(const std::string& bytes, Handler h) = 0;
  virtual void read(Handler h) = 0;  // into buffer()
  virtual std::string_view take() = 0;  // what the last read added
  virtual void close() = 0;
};

class TcpLink : public Link {
 public:
  explicit TcpLink(asio::io_context& io) : sock_(io) {}
  tcp::socket& socket() override { return sock_; }
  void handshake(const Settings&, std::function<void(const boost::system::error_code&)> done) override { done({}); }
  void write(const std::string& bytes, Handler h) override { asio::async_write(sock_, asio::buffer(bytes), h); }
  void read(Handler h) override {
    sock_.async_read_some(asio::buffer(buf_), [this, h](const boost::system::error_code& ec, std::size_t n) {
      n_ = n;
      h(ec, n);
    });
  }
  std::string_view take() override { return {buf_.data(), n_}; }
  void close() override {
    boost::system::error_code ec;
    sock_.shutdown(tcp::socket::shutdown_both, ec);
    sock_.close(ec);
  }

 private:
  tcp::socket sock_;
  std::array<char, 65536> buf_{};
  std::size_t n_ = 0;
};

class TlsLink : public Link {
 public:
  TlsLink(asio::io_context& io, ssl::context& ctx) : stream_(io, ctx) {}
  tcp::socket& socket() override { return stream_.next_layer(); }
  void handshake(const Settings& s, std::function<void(const boost::system::error_code&)> done) override {
    SSL_set_tlsext_host_name(stream_.native_handle(), s.host.c_str());
    if (s.verify_host) stream_.set_verify_callback(ssl::host_name_verification(s.host));
    stream_.async_handshake(ssl::stream_base::client, done);
  }
  void write(const std::string& bytes, Handler h) override { asio::async_write(stream_, asio::buffer(bytes), h); }
  void read(Handler h) override {
    stream_.async_read_some(asio::buffer(buf_), [this, h](const boost::system::error_code& ec, std::size_t n) {
      n_ = n;
      h(ec, n);
    });
  }
  std::string_view take() override { return {buf_.data(), n_}; }
  void close() override {
    boost::system::error_code ec;
    stream_.next_layer().shutdown(tcp::socket::shutdown_both, ec);
    stream_.next_layer().close(ec);
  }

 private:
  ssl::stream<tcp::socket> stream_;
  std::array<char, 65536> buf_{};
  std::size_t n_ = 0;
};

template <class Next>
class WsLink : public Link {
 public:
  template <class... Args>
  explicit WsLink(Args&&... args) : ws_(std::forward<Args>(args)...) {}
  tcp::socket& socket() override { return beast::get_lowest_layer(ws_); }
  void handshake(const Settings& s, std::function<void(const boost::system::error_code&)> done) override {
    ws_.binary(true);
    ws_.set_option(ws::stream_base::decorator(
        [](ws::request_type& req) { req.set(beast::http::field::sec_websocket_protocol, "mqtt"); }));
    std::string host = s.host + ":" + std::to_string(s.port);
    auto upgrade = [this, host, path = s.path, done](const boost::system::error_code& ec) {
      if (ec) return done(ec);
      ws_.async_handshake(host, path, done);
    };
    if constexpr (std::is_same_v<Next, ssl::stream<tcp::socket>>) {
      SSL_set_tlsext_host_name(ws_.next_layer().native_handle(), s.host.c_str());
      if (s.verify_host) ws_.next_layer().set_verify_callback(ssl::host_name_verification(s.host));
      ws_.next_layer().async_handshake(ssl::stream_base::client, upgrade);
    } else {
      upgrade({});
    }
  }
  void write(const std::string& bytes, Handler h) override { ws_.async_write(asio::buffer(bytes), h); }
  void read(Handler h) override {
    buf_.clear();
    ws_.async_read(buf_, h);
  }
  std::string_view take() override {
    auto d = buf_.data();
    return {static_cast<const char*>(d.data()), d.size()};
  }
  void close() override {
    boost::system::error_code ec;
    beast::get_lowest_layer(ws_).shutdown(tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws_).close(ec);
  }

 private:
  ws::stream<Next> ws_;
  beast::flat_buffer buf_;
};

class MqttAdapter : public Adapter {
 public:
  MqttAdapter(const BridgeConfig& bridge, Settings s) : bridge_(bridge), s_(std::move(s)) {
    for (std::size_t i = 0; i < bridge.routes.size(); ++i) {
      const Route& r = bridge.routes[i];
      if (r.direction == Route::Direction::in) in_routes_.push_back(i);
      // Checked when the config was read (read_route): these compile.
      templates_.push_back(route_template(r, r.direction == Route::Direction::out ? r.remote : r.local, bridge.namespaces));
    }
  }

  void start(const AdapterContext& ctx) override {
    ctx_ = ctx;
    io_ = ctx.io;
    timer_ = std::make_unique<asio::steady_timer>(*io_);
    ping_timer_ = std::make_unique<asio::steady_timer>(*io_);
    resolver_ = std::make_unique<tcp::resolver>(*io_);
    if (s_.scheme == "tls" || s_.scheme == "wss") {
      tls_ = std::make_unique<ssl::context>(ssl::context::tls_client);
      if (s_.ca_file.empty()) {
        tls_->set_default_verify_paths();
      } else {
        tls_->load_verify_file(s_.ca_file);
      }
      if (!s_.cert_file.empty()) {
        tls_->use_certificate_chain_file(s_.cert_file);
        tls_->use_private_key_file(s_.key_file, ssl::context::pem);
      }
      tls_->set_verify_mode(s_.verify_host ? ssl::verify_peer : ssl::verify_none);
    }
    // QoS 2 records the peer acknowledged with PUBREC before a restart.
    if (ctx.outbox != nullptr) {
      for (const auto& [key, value] : ctx.outbox->loaded_state()) {
        if (!key.starts_with("q2/") || value.size() != 2) continue;
        std::uint64_t offset = std::stoull(key.substr(3));
        pubrec_[offset] = static_cast<std::uint16_t>((static_cast<unsigned char>(value[0]) << 8) |
                                                     static_cast<unsigned char>(value[1]));
      }
    }
    connect();
  }

  void deliver(Batch batch) override {
    if (!connected_) return;  // failed() was reported; the driver sends it again
    for (const RecordPtr& r : batch.records) send_record(r, batch.redelivery, batch.backlog);
    flush();
  }

  void stop() override {
    stopped_ = true;
    if (timer_) timer_->cancel();
    if (ping_timer_) ping_timer_->cancel();
    if (link_) {
      if (connected_) {
        protocol::Disconnect d;
        std::string bytes;
        protocol::encode(d, s_.version, bytes);
        boost::system::error_code ec;
        if (s_.scheme == "tcp") asio::write(link_->socket(), asio::buffer(bytes), ec);
      }
      link_->close();
    }
    connected_ = false;
  }

 private:
  struct Out {
    std::uint64_t offset = 0;
    QoS qos = QoS::at_most_once;
    bool released = false;  // QoS 2: PUBREC came, PUBREL sent
  };
  // Packet id -> what it carries: an insert and an erase per forwarded
  // message, so a flat map (no node allocated and freed per message).
  using Inflight = boost::unordered_flat_map<std::uint16_t, Out>;

  // --- connection ------------------------------------------------------------
  void connect() {
    if (stopped_) return;
    ++generation_;
    ctx_.events->state(AdapterState::connecting);
    if (s_.scheme == "tcp") {
      link_ = std::make_unique<TcpLink>(*io_);
    } else if (s_.scheme == "tls") {
      link_ = std::make_unique<TlsLink>(*io_, *tls_);
    } else if (s_.scheme == "ws") {
      link_ = std::make_unique<WsLink<tcp::socket>>(*io_);
    } else {
      link_ = std::make_unique<WsLink<ssl::stream<tcp::socket>>>(*io_, *tls_);
    }
    std::uint64_t gen = generation_;
    resolver_->async_resolve(s_.host, std::to_string(s_.port),
                             [this, gen](const boost::system::error_code& ec, tcp::resolver::results_type results) {
                               if (gen != generation_ || stopped_) return;
                               if (ec) return fail("cannot resolve " + s_.host + ": " + ec.message());
                               asio::async_connect(link_->socket(), results,
                                                   [this, gen](const boost::system::error_code& ec2, const tcp::endpoint&) {
                                                     if (gen != generation_ || stopped_) return;
                                                     if (ec2) return fail("cannot connect to " + where() + ": " + ec2.message());
                                                     link_->socket().set_option(tcp::no_delay(true));
                                                     link_->handshake(s_, [this, gen](const boost::system::error_code& ec3) {
                                                       if (gen != generation_ || stopped_) return;
                                                       if (ec3) return fail("handshake with " + where() + ": " + ec3.message());
                                                       send_connect();
                                                     });
                                                   });
                             });
  }

  std::string where() const { return s_.scheme + "://" + s_.host + ":" + std::to_string(s_.port); }

  void send_connect() {
    protocol::Connect c;
    c.version = s_.version;
    c.protocol_name = "MQTT";
    c.clean_start = s_.clean_start;
    c.keep_alive = s_.keep_alive;
    c.client_id = s_.client_id;
    c.username = s_.username;
    c.password = s_.password;
    if (s_.version == protocol::Version::v5) {
      c.properties.session_expiry_interval = s_.session_expiry;
      c.properties.receive_maximum = 65535;
    }
    protocol::encode(c, s_.version, out_);
    last_rx_ = Clock::now();
    flush();
    read();
    arm_ping();
  }

  void fail(const std::string& why) {
    if (stopped_) return;
    const bool was = connected_;
    connected_ = false;
    ++generation_;
    if (link_) link_->close();
    out_.clear();
    writing_ = false;
    inflight_.clear();
    in_q2_.clear();
    in_buf_.clear();
    ping_timer_->cancel();
    // Every failed attempt is reported (the bridge counts connections lost
    // or refused); the first of a series that never got connected is
    // logged as a warning (the driver logs a lost connection), the
    // repeats only at debug level.
    ctx_.events->failed(why);
    if (!was && !reported_) {
      STRATA_WARN("bridge") << bridge_.name << ": " << why << " (retrying with backoff)";
    } else if (!was) {
      STRATA_DEBUG("bridge") << bridge_.name << ": " << why;
    }
    reported_ = true;
    ctx_.events->state(AdapterState::backing_off);
    // 1 s, 2 s, 4 s ... up to reconnect_max, each a random 50-100 %.
    auto step = s_.reconnect_min * (1ll << std::min(attempts_, 20u));
    if (step > s_.reconnect_max) step = s_.reconnect_max;
    ++attempts_;
    std::uniform_int_distribution<long long> jitter(step.count() / 2, step.count());
    timer_->expires_after(std::chrono::milliseconds(jitter(rng_)));
    timer_->async_wait([this](const boost::system::error_code& ec) {
      if (!ec) connect();
    });
  }

  void arm_ping() {
    // Checked four times per keep alive: PINGREQ once a keep alive, and a
    // peer silent for 1.5 keep alives is hung.
    auto quarter = std::chrono::milliseconds(s_.keep_alive * 250);
    ping_timer_->expires_after(quarter);
    std::uint64_t gen = generation_;
    ping_timer_->async_wait([this, gen](const boost::system::error_code& ec) {
      if (ec || gen != generation_ || stopped_) return;
      auto now = Clock::now();
      auto ka = std::chrono::seconds(s_.keep_alive);
      if (now - last_rx_ > ka * 3 / 2) return fail("no answer from " + where() + " for 1.5 x keep_alive; reconnecting");
      if (now - last_ping_ >= ka) {
        last_ping_ = now;
        protocol::encode(protocol::Pingreq{}, s_.version, out_);
        flush();
      }
      arm_ping();
    });
  }

  void flush() {
    if (writing_ || out_.empty() || !link_) return;
    writing_ = true;
    writing_buf_.swap(out_);
    out_.clear();
    std::uint64_t gen = generation_;
    link_->write(writing_buf_, [this, gen](const boost::system::error_code& ec, std::size_t) {
      if (gen != generation_) return;
      writing_ = false;
      writing_buf_.clear();
      if (ec) return fail("write to " + where() + ": " + ec.message());
      if (!qos0_written_.empty()) {
        std::vector<std::uint64_t> done;
        done.swap(qos0_written_);
        ctx_.events->confirmed(done);
      }
      flush();
    });
  }

  void read() {
    std::uint64_t gen = generation_;
    link_->read([this, gen](const boost::system::error_code& ec, std::size_t) {
      if (gen != generation_ || stopped_) return;
      if (ec) return fail("connection to " + where() + " lost: " + ec.message());
      last_rx_ = Clock::now();
      in_buf_.append(link_->take());
      std::size_t used = 0;
      for (;;) {
        auto span = std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(in_buf_.data()) + used,
                                                  in_buf_.size() - used);
        auto r = protocol::decode(span, s_.version, 268435460u);
        if (r.status == protocol::DecodeStatus::need_more) break;
        if (r.status == protocol::DecodeStatus::error) return fail("bad packet from " + where() + ": " + r.error_text);
        used += r.consumed;
        on_packet(std::move(r.packet));
        if (gen != generation_) return report_acked();
      }
      report_acked();
      in_buf_.erase(0, used);
      flush();
      read();
    });
  }

  // The PUBACKs/PUBCOMPs of one read, to the driver in one call (also
  // when the read ends in a failure: they were confirmed by the peer).
  void report_acked() {
    if (acked_.empty()) return;
    ctx_.events->confirmed(acked_);
    acked_.clear();
  }

  // --- packets ---------------------------------------------------------------
  void on_packet(protocol::Packet&& p) {
    if (auto* c = std::get_if<protocol::Connack>(&p)) return on_connack(*c);
    if (auto* a = std::get_if<protocol::Ack>(&p)) return on_ack(*a);
    if (auto* pub = std::get_if<protocol::Publish>(&p)) return on_publish(std::move(*pub));
    if (auto* d = std::get_if<protocol::Disconnect>(&p)) {
      return fail("the peer disconnected (reason 0x" + hex(static_cast<unsigned>(d->reason)) + ")");
    }
    // PINGRESP, SUBACK: nothing to do (any packet counts as a sign of life).
  }

  static std::string hex(unsigned v) {
    const char* d = "0123456789abcdef";
    return std::string{d[(v >> 4) & 15], d[v & 15]};
  }

  void on_connack(const protocol::Connack& c) {
    if (c.reason != ReasonCode::success) {
      return fail("the peer refused the connection (reason 0x" + hex(static_cast<unsigned>(c.reason)) + ")");
    }
    connected_ = true;
    reported_ = false;
    attempts_ = 0;
    std::size_t peer = c.properties.receive_maximum.value_or(65535);
    window_ = s_.inflight != 0 ? std::min<std::size_t>(s_.inflight, peer) : peer;
    window_ = std::min<std::size_t>(window_, 65535);
    STRATA_INFO("bridge") << bridge_.name << ": connected to " << where() << " (window " << window_ << ")";
    if (!in_routes_.empty()) {
      protocol::Subscribe sub;
      sub.packet_id = 1;  // no outgoing PUBLISH is in flight yet on this connection
      for (std::size_t i : in_routes_) {
        protocol::SubscribeEntry e;
        e.filter = bridge_.routes[i].filter;
        e.options.max_qos = bridge_.routes[i].qos;
        e.options.no_local = s_.version == protocol::Version::v5;
        e.options.retain_as_published = s_.version == protocol::Version::v5;
        sub.entries.push_back(std::move(e));
      }
      sub_pid_busy_ = true;
      protocol::encode(sub, s_.version, out_);
    }
    ctx_.events->state(AdapterState::connected);
    ctx_.events->ready(window_);
  }

  void on_ack(const protocol::Ack& a) {
    using T = protocol::PacketType;
    if (a.type == T::pubrel) {  // in: QoS 2 completed by the peer
      in_q2_.erase(a.packet_id);
      protocol::Ack comp{T::pubcomp, a.packet_id, ReasonCode::success, {}};
      protocol::encode(comp, s_.version, out_);
      return;
    }
    auto it = inflight_.find(a.packet_id);
    if (it == inflight_.end()) return;
    Out& o = it->second;
    const auto reason = static_cast<unsigned>(a.reason);
    if (a.type == T::pubrec) {
      if (reason >= 0x80) return refused(it, reason);
      o.released = true;
      std::string pid{static_cast<char>(a.packet_id >> 8), static_cast<char>(a.packet_id & 0xFF)};
      ctx_.outbox->put_state("q2/" + std::to_string(o.offset), pid);
      pubrec_[o.offset] = a.packet_id;
      protocol::Ack rel{T::pubrel, a.packet_id, ReasonCode::success, {}};
      protocol::encode(rel, s_.version, out_);
      return;
    }
    if (a.type == T::puback && reason >= 0x80) return refused(it, reason);
    std::uint64_t offset = o.offset;
    if (a.type == T::pubcomp && pubrec_.erase(offset) != 0) ctx_.outbox->drop_state("q2/" + std::to_string(offset));
    inflight_.erase(it);
    acked_.push_back(offset);  // reported once per read (read()): one post for many PUBACKs
  }

  void refused(Inflight::iterator it, unsigned reason) {
    if (reason == 0x97) return fail("the peer's quota is exceeded (0x97); reconnecting");
    std::uint64_t offset = it->second.offset;
    inflight_.erase(it);
    ctx_.events->rejected(offset, "refused by the peer with reason 0x" + hex(reason));
  }

  void send_record(const RecordPtr& r, bool dup, bool backlog) {
    if (r->origin == bridge_.name) {  // came in over this bridge: never back to the peer
      ctx_.events->confirmed(r->offset);
      return;
    }
    std::uint16_t pid = 0;
    auto known = pubrec_.find(r->offset);
    if (known != pubrec_.end() && r->qos == QoS::exactly_once) {
      // The peer has it (PUBREC came before the link or the process went):
      // complete it with PUBREL.
      pid = known->second;
      inflight_[pid] = Out{r->offset, r->qos, true};
      protocol::Ack rel{protocol::PacketType::pubrel, pid, ReasonCode::success, {}};
      protocol::encode(rel, s_.version, out_);
      return;
    }
    // Encoded straight from the record (publish_view.hpp): no copy of its
    // payload or of its properties, the common case of a record without
    // application properties (Record::props null: it goes out with the
    // hops property alone) sharing one hops-only property set per value.
    const bool routed = r->route >= 0 && static_cast<std::size_t>(r->route) < bridge_.routes.size();
    const TopicTemplate* tmpl = routed ? &templates_[static_cast<std::size_t>(r->route)] : nullptr;
    protocol::PublishView v;
    if (tmpl != nullptr && !tmpl->is_whole_topic()) {
      topic_buf_.clear();
      tmpl->expand(r->topic, topic_buf_);
      v.topic = topic_buf_;
    } else {
      v.topic = r->topic;
    }
    v.payload = r->payload;
    v.qos = r->qos;
    v.retain = r->retain;
    v.dup = dup && r->qos != QoS::at_most_once;
    std::optional<protocol::Properties> with_hops;  // made only for a record with properties of its own
    if (s_.version == protocol::Version::v5) {
      if (!r->props && !backlog) {
        auto& cached = hops_only_[r->hops];
        if (!cached) {
          cached = std::make_unique<protocol::Properties>();
          cached->user_properties.emplace_back(bridge_.hops_property, std::to_string(r->hops + 1));
        }
        v.properties = cached.get();
      } else {
        const std::string hops = std::to_string(r->hops + 1);
        with_hops.emplace(r->properties());
        auto& up = with_hops->user_properties;
        std::erase_if(up, [&](const auto& kv) { return kv.first == bridge_.hops_property; });
        up.emplace_back(bridge_.hops_property, hops);
        // A backlog mark an earlier tier set stays: the data is as old.
        if (backlog && std::none_of(up.begin(), up.end(), [](const auto& kv) { return kv.first == kBacklogProperty; })) {
          up.emplace_back(kBacklogProperty, "1");
        }
        v.properties = &*with_hops;
      }
      if (r->expires_at_ms != 0) {
        std::uint64_t now = now_ms();
        std::uint64_t left = r->expires_at_ms > now ? (r->expires_at_ms - now + 999) / 1000 : 1;
        v.message_expiry_interval = static_cast<std::uint32_t>(std::min<std::uint64_t>(left, 0xFFFFFFFF));
      }
    }
    if (r->qos != QoS::at_most_once) {
      pid = static_cast<std::uint16_t>(r->offset % 65535 + 1);
      while (inflight_.count(pid) != 0 || (sub_pid_busy_ && pid == 1)) pid = static_cast<std::uint16_t>(pid % 65535 + 1);
      v.packet_id = pid;
      inflight_[pid] = Out{r->offset, r->qos, false};
    } else {
      qos0_written_.push_back(r->offset);
    }
    protocol::encode_publish(v, s_.version, out_);
  }

  void on_publish(protocol::Publish&& p) {
    using T = protocol::PacketType;
    if (p.qos == QoS::exactly_once && in_q2_.count(p.packet_id) != 0) {
      ctx_.events->duplicate();
      protocol::Ack rec{T::pubrec, p.packet_id, ReasonCode::success, {}};
      protocol::encode(rec, s_.version, out_);
      return;
    }
    const Route* route = nullptr;
    for (std::size_t i : in_routes_) {
      if (router::topic_matches(bridge_.routes[i].filter, p.topic)) {
        route = &bridge_.routes[i];
        break;
      }
    }
    auto ack = [this, qos = p.qos, pid = p.packet_id, gen = generation_](bool ok) {
      if (!ok || gen != generation_ || qos == QoS::at_most_once) return;
      protocol::Ack a{qos == QoS::at_least_once ? T::puback : T::pubrec, pid, ReasonCode::success, {}};
      protocol::encode(a, s_.version, out_);
      flush();
    };
    if (p.qos == QoS::exactly_once) in_q2_.insert(p.packet_id);
    // Coming in over this bridge is a crossing too: the message is
    // published here with hops + 1, and dropped when that is past
    // max_hops (two bridges pulling from each other go round only so far).
    int hops = 1;
    for (const auto& [k, v] : p.properties.user_properties) {
      if (k == bridge_.hops_property) hops = std::min(255, std::max(0, std::atoi(v.c_str()))) + 1;
    }
    const bool past = hops > bridge_.max_hops;
    if (route == nullptr || past || ctx_.local == nullptr) {
      // Not ours (or past the hop limit): acknowledged so the peer does not
      // send it again, and not published.
      if (ctx_.outbox && past) {
        const_cast<OutboxCounters&>(ctx_.outbox->counters()).dropped_hops.fetch_add(1, std::memory_order_relaxed);
      }
      ack(true);
      return;
    }
    auto& up = p.properties.user_properties;
    std::erase_if(up, [&](const auto& kv) { return kv.first == bridge_.hops_property; });
    up.emplace_back(bridge_.hops_property, std::to_string(hops));
    auto m = router::Message::make(
        templates_[static_cast<std::size_t>(route - bridge_.routes.data())].expand(p.topic), p.payload);
    m->qos = std::min(p.qos, route->qos);
    m->retain = p.retain && route->retain == Route::Retain::keep;
    m->publisher = "bridge:" + bridge_.name;
    if (p.properties.message_expiry_interval) {
      m->expires_at_ms = now_ms() + std::uint64_t{*p.properties.message_expiry_interval} * 1000;
    }
    m->properties = protocol::SharedProperties::application(std::move(p.properties));
    ctx_.local->publish(std::move(m), ack);
  }

  const BridgeConfig& bridge_;
  Settings s_;
  std::vector<std::size_t> in_routes_;
  std::vector<TopicTemplate> templates_;  // per route: its remote (out) or local (in) template
  AdapterContext ctx_;
  asio::io_context* io_ = nullptr;
  std::unique_ptr<ssl::context> tls_;
  std::unique_ptr<asio::steady_timer> timer_, ping_timer_;
  std::unique_ptr<tcp::resolver> resolver_;
  std::unique_ptr<Link> link_;
  std::uint64_t generation_ = 0;
  bool connected_ = false;
  bool stopped_ = false;
  bool reported_ = false;  // a failure was logged since the last connection
  bool sub_pid_busy_ = false;
  unsigned attempts_ = 0;
  std::size_t window_ = 0;
  std::string out_, writing_buf_, in_buf_, topic_buf_;
  std::array<std::unique_ptr<protocol::Properties>, 256> hops_only_;  // by record hops: {hops_property: hops + 1}
  bool writing_ = false;
  std::vector<std::uint64_t> qos0_written_;
  std::vector<std::uint64_t> acked_;  // confirmed by the peer in the current read (report_acked)
  Inflight inflight_;
  std::map<std::uint64_t, std::uint16_t> pubrec_;  // QoS 2 offsets the peer has (PUBREC), across restarts
  std::set<std::uint16_t> in_q2_;                  // in: QoS 2 ids received, awaiting PUBREL
  Clock::time_point last_rx_{}, last_ping_{};
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace

std::unique_ptr<Adapter> make_adapter(const BridgeConfig& bridge, Settings settings) {
  return std::make_unique<MqttAdapter>(bridge, std::move(settings));
}

AdapterType adapter_type() {
  AdapterType t;
  t.name = "mqtt";
  t.keys = keys();
  t.make = [](const BridgeConfig& bridge, const config::TableReader& r) {
    return make_adapter(bridge, read_settings(bridge, r));
  };
  return t;
}

}  // namespace strata::bridges::mqtt
