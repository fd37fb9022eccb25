// strata-bench's scenarios (see runner.hpp).
#include "tools/bench/runner.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "tools/bench/proc_stats.hpp"

namespace strata::bench {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t stall_ns = 200'000'000;
constexpr std::size_t sub_read_buffer = 64 * 1024;
constexpr std::size_t pub_read_buffer = 4 * 1024;
constexpr std::size_t idle_read_buffer = 256;

double us(std::uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out + "\"";
}

}  // namespace

Runner::Runner(const Options& options)
    : o_(options), work_(asio::make_work_guard(io_)) {}

void Runner::run_one_for(std::chrono::microseconds slice) {
#if defined(BOOST_ASIO_HAS_IO_URING) && defined(BOOST_ASIO_DISABLE_EPOLL)
  // Asio's io_uring backend can take the timeout of an earlier timed wait
  // for an operation and crash (chriskohlhoff/asio#1284, Boost 1.81): bound
  // the wait with a timer of our own instead.
  // The timer is armed anew only once it has fired, or to end sooner (a
  // load's short slices after the set-up's long ones): cancelling it each
  // turn would queue a handler each turn, and the ring would never be read.
  const auto due = std::chrono::steady_clock::now() + slice;
  if (!slice_armed_ || slice_timer_.expiry() > due) {
    slice_armed_ = true;
    slice_timer_.expires_at(due);
    slice_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec != asio::error::operation_aborted) slice_armed_ = false;  // not the wait replaced above
    });
  }
  io_.run_one();
#else
  io_.run_one_for(slice);
#endif
}

bool Runner::run_until(const std::function<bool()>& done, double seconds) {
  const std::uint64_t deadline = now_ns() + static_cast<std::uint64_t>(seconds * 1e9);
  std::uint64_t next_ping = now_ns() + static_cast<std::uint64_t>(o_.keepalive) * 500'000'000ULL;
  while (!done()) {
    const std::uint64_t now = now_ns();
    if (now >= deadline) return false;
    if (loading_) pace(now);
    run_one_for(!loading_ ? std::chrono::microseconds(5000)
                : o_.rate > 0 ? std::chrono::microseconds(20)
                              : std::chrono::microseconds(1000));
    if (o_.keepalive != 0 && now >= next_ping) {
      ping_all();
      next_ping = now + static_cast<std::uint64_t>(o_.keepalive) * 500'000'000ULL;
    }
  }
  return true;
}

BenchConnection& Runner::open(std::uint32_t index, std::size_t read_buffer, protocol::Connect c) {
  conns_.push_back(std::make_unique<BenchConnection>(io_, *this, index, o_, tls_ ? &*tls_ : nullptr, read_buffer));
  auto& conn = *conns_.back();
  const std::string source = o_.sources.empty() ? std::string() : o_.sources[index % o_.sources.size()];
  c.keep_alive = o_.keepalive;
  // Clean start always (client ids are new per run); with --session-expiry
  // the session is persistent, so a broker with a store keeps it durably.
  c.clean_start = o_.version == protocol::Version::v5 || o_.session_expiry == 0;
  if (o_.version == protocol::Version::v5) {
    c.properties.receive_maximum = 65535;
    if (o_.session_expiry != 0) c.properties.session_expiry_interval = o_.session_expiry;
  }
  if (connect_sent_ns_.size() <= index) connect_sent_ns_.resize(index + 1);
  connect_sent_ns_[index] = now_ns();
  conn.start(broker_, source, std::move(c));
  return conn;
}

void Runner::on_connack(BenchConnection& c, const protocol::Connack& ack) {
  ++connacks_;
  if (ack.reason != protocol::ReasonCode::success) {
    ++refused_;
    if (first_error_.empty()) {
      first_error_ = "CONNACK reason " + std::to_string(static_cast<int>(ack.reason));
    }
    return;
  }
  if (c.index() < connect_sent_ns_.size()) connect_latency_.record(now_ns() - connect_sent_ns_[c.index()]);
  // A publisher never sends more than the broker's Receive Maximum.
  const std::uint32_t first_pub = o_.subs;
  if (c.index() >= first_pub && c.index() - first_pub < pubs_.size() && ack.properties.receive_maximum &&
      o_.qos != protocol::QoS::at_most_once) {
    auto& p = pubs_[c.index() - first_pub];
    p.window = std::min<std::uint32_t>(p.window, *ack.properties.receive_maximum);
  }
}

void Runner::on_suback(BenchConnection&, const protocol::Suback& ack) {
  ++subacks_;
  for (auto r : ack.reasons) {
    if (static_cast<std::uint8_t>(r) >= 0x80) {
      ++refused_;
      if (first_error_.empty()) first_error_ = "SUBACK reason " + std::to_string(static_cast<int>(r));
    }
  }
}

void Runner::on_message(BenchConnection& c, const protocol::Publish& p) {
  const std::uint64_t now = now_ns();
  PayloadHeader h;
  if (!read_header(p.payload, h)) {
    ++foreign_;
    return;
  }
  ++received_;
  if (first_recv_ns_ == 0) first_recv_ns_ = now;
  last_recv_ns_ = now;
  if (measuring_) {
    ++received_in_window_;
    latency_.record(now >= h.sent_ns ? now - h.sent_ns : 0);
  }
  // A $share group is one receiver: each message goes to one member.
  // Order is only promised per receiving connection, so a group's members
  // are checked for reordering one by one.
  if (o_.share.empty()) {
    seqs_[std::uint64_t{c.index()} << 32 | h.publisher].record(h.seq);
  } else {
    seqs_[h.publisher].record(h.seq);
    std::uint64_t& end = member_end_[std::uint64_t{c.index()} << 32 | h.publisher];
    if (h.seq < end) ++member_reordered_;
    else end = h.seq + 1;
  }
  if (h.publisher < pubs_.size()) {
    auto& pub = pubs_[h.publisher];
    ++pub.delivered;
    if (o_.qos == protocol::QoS::at_most_once) {
      pub.last_progress_ns = now;
      if (loading_ && o_.rate == 0) top_up(pub);
    }
  }
}

void Runner::on_completed(BenchConnection& c) {
  const std::uint32_t i = c.index() - o_.subs;
  if (i >= pubs_.size()) return;
  auto& pub = pubs_[i];
  ++pub.acked;
  pub.last_progress_ns = now_ns();
  if (loading_ && o_.rate == 0) top_up(pub);
}

void Runner::on_written(BenchConnection& c, std::uint32_t publishes) {
  if (o_.qos != protocol::QoS::at_most_once || copies_ != 0) return;
  const std::uint32_t i = c.index() - o_.subs;
  if (i >= pubs_.size()) return;
  auto& pub = pubs_[i];
  pub.acked += publishes;
  pub.last_progress_ns = now_ns();
  if (loading_ && o_.rate == 0) top_up(pub);
}

void Runner::on_error(BenchConnection&, const std::string& what) {
  ++errors_;
  if (first_error_.empty()) first_error_ = what;
}

std::uint64_t Runner::completed(const Publisher& p) const {
  if (o_.qos != protocol::QoS::at_most_once || copies_ == 0) return p.acked + p.forgiven;
  return p.delivered / copies_ + p.forgiven;
}

void Runner::send_one(Publisher& p) {
  if (o_.json_payload) {
    p.msg.payload = "{\"ts\":" + std::to_string(json_base_ms_ + p.sent) + ",\"value\":" + std::to_string(p.sent) + ".5}";
  } else {
    write_header(p.msg.payload, PayloadHeader{static_cast<std::uint32_t>(&p - pubs_.data()), p.sent, now_ns()});
  }
  p.conn->publish(p.msg);
  ++p.sent;
}

void Runner::top_up(Publisher& p) {
  if (!p.conn->connected()) return;
  while (p.sent < p.limit && p.sent - completed(p) < p.window) send_one(p);
}

void Runner::pace(std::uint64_t now) {
  if (now < load_start_ns_) return;
  if (o_.rate == 0) {
    release_stalled(now);
    return;
  }
  const double per_pub = o_.rate / static_cast<double>(pubs_.size());
  const double elapsed = static_cast<double>(now - load_start_ns_) / 1e9;
  const auto due = static_cast<std::uint64_t>(per_pub * elapsed);
  for (auto& p : pubs_) {
    if (!p.conn->connected()) continue;
    while (p.sent < due && p.sent < p.limit && p.sent - completed(p) < p.window) send_one(p);
  }
  release_stalled(now);
}

void Runner::release_stalled(std::uint64_t now) {
  for (auto& p : pubs_) {
    if (p.sent - completed(p) >= p.window && now - p.last_progress_ns > stall_ns) {
      p.forgiven += p.sent - completed(p);
      p.last_progress_ns = now;
      if (o_.rate == 0) top_up(p);
    }
  }
}

void Runner::ping_all() {
  for (auto& c : conns_) {
    if (c->connected()) c->send(protocol::Pingreq{});
  }
}

Runner::Counters Runner::snapshot() const {
  Counters c;
  for (const auto& p : pubs_) c.sent += p.sent;
  c.received = received_;
  c.broker_cpu_s = o_.broker_pid ? cpu_seconds(*o_.broker_pid) : -1;
  c.gen_cpu_s = self_cpu_seconds();
  c.ns = now_ns();
  return c;
}

void Runner::disconnect_all() {
  for (auto& c : conns_) {
    if (c->connected()) c->disconnect();
    else c->close();
  }
  // Let the DISCONNECTs go out; the broker closes its side.
  run_until([] { return false; }, 0.2);
  for (auto& c : conns_) c->close();
}

int Runner::run() {
  asio::ip::tcp::resolver resolver(io_);
  boost::system::error_code ec;
  auto results = resolver.resolve(o_.host, std::to_string(o_.port), ec);
  if (ec || results.empty()) {
    std::cerr << "strata-bench: cannot resolve " << o_.host << ": " << ec.message() << "\n";
    return 1;
  }
  broker_ = *results.begin();
  if (o_.transport == Transport::tls || o_.transport == Transport::wss) {
    tls_.emplace(asio::ssl::context::tls_client);
    std::string error;
    if (!configure_tls(o_, *tls_, error)) {
      std::cerr << "strata-bench: " << error << "\n";
      return 2;
    }
  }
  return o_.scenario == Scenario::conn ? run_conn() : run_load();
}

int Runner::run_conn() {
  const long rss_before = o_.broker_pid ? rss_kib(*o_.broker_pid) : -1;
  const std::uint64_t start = now_ns();
  std::uint32_t opened = 0;
  auto settled = [&] {
    return static_cast<std::uint64_t>(connacks_) + errors_;
  };
  const bool all = run_until(
      [&] {
        // Keep conn_window connects in flight, at most conn_rate per second.
        const std::uint64_t now = now_ns();
        while (opened < o_.conns && opened - settled() < o_.conn_window &&
               (o_.conn_rate == 0 ||
                static_cast<double>(opened) < o_.conn_rate * static_cast<double>(now - start) / 1e9)) {
          protocol::Connect c;
          c.client_id = "sb" + std::to_string(getpid()) + "-c" + std::to_string(opened);
          open(opened, idle_read_buffer, std::move(c));
          ++opened;
        }
        return settled() >= o_.conns;
      },
      std::max(30.0, o_.conns / 100.0));
  const std::uint64_t connected_ns = now_ns() - start;
  std::uint32_t connected = 0;
  for (auto& c : conns_) connected += c->connected() ? 1 : 0;
  // Let the broker settle (its accept loop, its allocator) before reading its memory.
  run_until([] { return false; }, 0.5);
  const long rss_after = o_.broker_pid ? rss_kib(*o_.broker_pid) : -1;
  run_until([] { return false; }, o_.duration);
  std::uint32_t still = 0;
  for (auto& c : conns_) still += c->connected() ? 1 : 0;
  disconnect_all();

  const double conn_rate = connected_ns ? connected / (static_cast<double>(connected_ns) / 1e9) : 0;
  const double per_conn = (rss_before >= 0 && rss_after >= 0 && connected)
                              ? static_cast<double>(rss_after - rss_before) * 1024.0 / connected
                              : -1;
  std::cout << "strata-bench conn: " << connected << " of " << o_.conns << " connected in "
            << fixed(static_cast<double>(connected_ns) / 1e9, 3) << " s (" << fixed(conn_rate, 0)
            << " conn/s), " << still << " still connected after " << o_.duration << " s\n";
  std::cout << "connect latency  p50 " << fixed(us(connect_latency_.quantile(0.5)), 1) << " us  p99 "
            << fixed(us(connect_latency_.quantile(0.99)), 1) << " us  max "
            << fixed(us(connect_latency_.max()), 1) << " us\n";
  if (o_.broker_pid) {
    std::cout << "broker VmRSS     " << rss_before << " KiB -> " << rss_after << " KiB, "
              << fixed(per_conn, 0) << " bytes per connection\n";
  }
  if (errors_ || refused_) std::cout << "errors " << errors_ << ", refused " << refused_ << ": " << first_error_ << "\n";
  std::ostringstream j;
  j << "{\"scenario\":\"conn\",\"mqtt\":\"" << (o_.version == protocol::Version::v5 ? "5" : "3.1.1")
    << "\",\"conns\":" << o_.conns << ",\"connected\":" << connected << ",\"still_connected\":" << still
    << ",\"conn_rate\":" << fixed(conn_rate, 1)
    << ",\"connect_p50_us\":" << fixed(us(connect_latency_.quantile(0.5)), 1)
    << ",\"connect_p99_us\":" << fixed(us(connect_latency_.quantile(0.99)), 1)
    << ",\"broker_rss_before_kib\":" << rss_before << ",\"broker_rss_after_kib\":" << rss_after
    << ",\"rss_per_conn_bytes\":" << fixed(per_conn, 1) << ",\"errors\":" << errors_
    << ",\"refused\":" << refused_ << ",\"first_error\":" << json_string(first_error_) << "}";
  std::cout << j.str() << std::endl;
  return (all && connected == o_.conns && errors_ == 0) ? 0 : 3;
}

int Runner::run_load() {
  const std::string pid = std::to_string(getpid());
  const bool share = !o_.share.empty();
  // Topics: fanin and pub publish on TOPIC/p<i> and subscribe to TOPIC/+;
  // fanout publishes and subscribes on TOPIC/all.
  const bool fanout = o_.scenario == Scenario::fanout;
  std::string filter = fanout ? o_.topic + "/all" : o_.topic + "/+";
  if (share) filter = "$share/" + o_.share + "/" + filter;
  copies_ = (o_.scenario == Scenario::sub || o_.subs == 0) ? 0 : (share ? 1 : o_.subs);

  // 1. Subscribers.
  for (std::uint32_t i = 0; i < o_.subs; ++i) {
    protocol::Connect c;
    c.client_id = "sb" + pid + "-s" + std::to_string(i);
    auto& conn = open(i, sub_read_buffer, std::move(c));
    protocol::Subscribe s;
    s.packet_id = 1;
    s.entries.push_back({filter, protocol::SubscribeOptions{o_.qos, false, false, 0}});
    conn.send(s);  // goes out right after CONNECT, in the same write when it can
  }
  if (!run_until([&] { return subacks_ + errors_ >= o_.subs; }, 30) || errors_ || refused_) {
    std::cerr << "strata-bench: subscribers could not subscribe: " << first_error_ << "\n";
    return 1;
  }
  // 2. Publishers.
  const std::uint32_t npubs = o_.scenario == Scenario::sub ? 0 : o_.pubs;
  pubs_.resize(npubs);
  const std::uint32_t default_window = o_.rate > 0 ? 10000 : 100;
  for (std::uint32_t i = 0; i < npubs; ++i) {
    auto& p = pubs_[i];
    p.window = o_.window ? o_.window : default_window;
    p.msg.topic = fanout ? o_.topic + "/all" : o_.topic + "/p" + std::to_string(i);
    p.msg.qos = o_.qos;
    p.msg.payload.assign(o_.size, 'x');
    if (o_.count != 0) p.limit = o_.count / npubs + (i < o_.count % npubs ? 1 : 0);
    protocol::Connect c;
    c.client_id = "sb" + pid + "-p" + std::to_string(i);
    p.conn = &open(o_.subs + i, pub_read_buffer, std::move(c));
  }
  const std::uint32_t total = o_.subs + npubs;
  if (!run_until([&] { return connacks_ + errors_ >= total; }, 30) || errors_ || refused_) {
    std::cerr << "strata-bench: publishers could not connect: " << first_error_ << "\n";
    return 1;
  }

  // 3. Load: warm-up, then the measured window.
  loading_ = true;
  load_start_ns_ = now_ns();
  json_base_ms_ = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 std::chrono::system_clock::now().time_since_epoch())
                                                 .count()) -
                  3'600'000;
  for (auto& p : pubs_) p.last_progress_ns = load_start_ns_;
  if (o_.rate == 0) {
    for (auto& p : pubs_) top_up(p);
  }
  // --count: the whole run is measured, until every message is complete
  // (publishers) or received (sub), at most --duration.
  if (o_.count == 0) run_until([] { return false; }, o_.warmup);
  const Counters before = snapshot();
  measuring_ = true;
  if (o_.count == 0) {
    run_until([] { return false; }, o_.duration);
  } else if (o_.scenario == Scenario::sub) {
    run_until([&] { return received_ >= o_.count; }, o_.duration);
  } else {
    run_until(
        [&] {
          for (const auto& p : pubs_) {
            if (p.sent < p.limit || completed(p) < p.sent) return false;
          }
          return true;
        },
        o_.duration);
  }
  measuring_ = false;
  const Counters after = snapshot();
  loading_ = false;

  // 4. Drain: every copy delivered, every QoS 1/2 flow completed.
  std::uint64_t sent = 0;
  for (const auto& p : pubs_) sent += p.sent;
  const std::uint64_t expected = sent * copies_;
  run_until(
      [&] {
        if (received_ < expected) return false;
        if (o_.qos == protocol::QoS::at_most_once) return true;
        for (const auto& p : pubs_) {
          if (p.acked < p.sent) return false;
        }
        return true;
      },
      o_.scenario == Scenario::sub ? 0 : o_.drain);
  const std::uint64_t run_errors = errors_;
  disconnect_all();

  // 6. Report.
  std::uint64_t lost = 0, dups = 0, reordered = 0;
  if (o_.scenario == Scenario::sub) {
    for (const auto& [key, t] : seqs_) {
      lost += t.end() - t.distinct();
      dups += t.duplicates();
      reordered += t.reordered();
    }
  } else {
    const std::uint32_t receivers = copies_ == 0 ? 0 : (share ? 1 : o_.subs);
    for (std::uint32_t r = 0; r < receivers; ++r) {
      for (std::uint32_t p = 0; p < npubs; ++p) {
        auto it = seqs_.find(static_cast<std::uint64_t>(r) << 32 | p);
        const std::uint64_t got = it == seqs_.end() ? 0 : it->second.distinct();
        lost += pubs_[p].sent - std::min(got, pubs_[p].sent);
        if (it != seqs_.end()) {
          dups += it->second.duplicates();
          if (!share) reordered += it->second.reordered();
        }
      }
    }
    if (share) reordered = member_reordered_;
  }
  std::uint64_t unacked = 0;
  if (o_.qos != protocol::QoS::at_most_once) {
    for (const auto& p : pubs_) unacked += p.sent - std::min(p.acked, p.sent);
  }
  const double secs = static_cast<double>(after.ns - before.ns) / 1e9;
  const double sent_rate = static_cast<double>(after.sent - before.sent) / secs;
  // --count sub: from the first message received to the last.
  const double recv_secs = o_.count != 0 && o_.scenario == Scenario::sub && last_recv_ns_ > first_recv_ns_
                               ? static_cast<double>(last_recv_ns_ - first_recv_ns_) / 1e9
                               : secs;
  const double recv_rate = static_cast<double>(received_in_window_) / recv_secs;
  const std::uint64_t delivered = copies_ == 0 && o_.scenario != Scenario::sub ? after.sent - before.sent
                                                                              : received_in_window_;
  const double broker_cpu = o_.broker_pid ? after.broker_cpu_s - before.broker_cpu_s : -1;
  const double gen_cpu = after.gen_cpu_s - before.gen_cpu_s;
  const double cpu_per_msg_us = (broker_cpu >= 0 && delivered) ? broker_cpu * 1e6 / static_cast<double>(delivered) : -1;
  const char* mqtt = o_.version == protocol::Version::v5 ? "5" : "3.1.1";

  std::cout << "strata-bench " << scenario_name(o_.scenario) << ": " << npubs << " pub -> " << o_.subs
            << " sub" << (share ? " ($share/" + o_.share + ")" : std::string()) << ", MQTT " << mqtt
            << ", QoS " << static_cast<int>(o_.qos) << ", " << o_.size << " B, "
            << (o_.rate > 0 ? "fixed " + fixed(o_.rate, 0) + " msg/s" : "closed loop")
            << ", window " << (pubs_.empty() ? 0 : pubs_[0].window) << ", " << o_.duration << " s (+"
            << o_.warmup << " s warm-up)\n";
  std::cout << "sent      " << fixed(sent_rate, 0) << " msg/s  (" << sent << " in all)\n";
  std::cout << "received  " << fixed(recv_rate, 0) << " msg/s  (" << received_ << " in all, "
            << expected << " expected)\n";
  std::cout << "latency   p50 " << fixed(us(latency_.quantile(0.5)), 1) << " us  p99 "
            << fixed(us(latency_.quantile(0.99)), 1) << " us  p99.9 " << fixed(us(latency_.quantile(0.999)), 1)
            << " us  max " << fixed(us(latency_.max()), 1) << " us\n";
  std::cout << "lost " << lost << "  duplicated " << dups << "  reordered " << reordered << "  unacked "
            << unacked << "  errors " << run_errors << (first_error_.empty() ? "" : " (" + first_error_ + ")")
            << "\n";
  std::cout << "cpu       generator " << fixed(gen_cpu, 2) << " s";
  if (o_.broker_pid) {
    std::cout << ", broker " << fixed(broker_cpu, 2) << " s = " << fixed(cpu_per_msg_us, 3)
              << " us per delivered message";
  }
  std::cout << " over " << fixed(secs, 2) << " s\n";
  std::ostringstream j;
  j << "{\"scenario\":\"" << scenario_name(o_.scenario) << "\",\"mqtt\":\"" << mqtt << "\",\"qos\":"
    << static_cast<int>(o_.qos) << ",\"pubs\":" << npubs << ",\"subs\":" << o_.subs
    << ",\"share\":" << json_string(o_.share) << ",\"size\":" << o_.size << ",\"rate_target\":" << fixed(o_.rate, 0)
    << ",\"window\":" << (pubs_.empty() ? 0 : pubs_[0].window) << ",\"duration_s\":" << fixed(secs, 3)
    << ",\"sent\":" << sent << ",\"received\":" << received_ << ",\"expected\":" << expected
    << ",\"sent_rate\":" << fixed(sent_rate, 1) << ",\"recv_rate\":" << fixed(recv_rate, 1)
    << ",\"lat_p50_us\":" << fixed(us(latency_.quantile(0.5)), 2)
    << ",\"lat_p99_us\":" << fixed(us(latency_.quantile(0.99)), 2)
    << ",\"lat_p999_us\":" << fixed(us(latency_.quantile(0.999)), 2)
    << ",\"lat_max_us\":" << fixed(us(latency_.max()), 2) << ",\"lost\":" << lost
    << ",\"duplicated\":" << dups << ",\"reordered\":" << reordered << ",\"unacked\":" << unacked
    << ",\"foreign\":" << foreign_ << ",\"first_recv_ns\":" << first_recv_ns_
    << ",\"last_recv_ns\":" << last_recv_ns_ << ",\"errors\":" << run_errors
    << ",\"first_error\":" << json_string(first_error_) << ",\"gen_cpu_s\":" << fixed(gen_cpu, 3)
    << ",\"broker_cpu_s\":" << fixed(broker_cpu, 3) << ",\"broker_cpu_us_per_msg\":" << fixed(cpu_per_msg_us, 4)
    << "}";
  std::cout << j.str() << std::endl;
  return run_errors == 0 ? 0 : 3;
}

}  // namespace strata::bench
