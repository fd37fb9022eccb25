// strata-bench's scenarios: sets up connections, drives the load, reports.
//
// Model: one thread, one io_context, every connection on it (a generator
// core serves thousands of connections; the broker under test gets the
// other core). The run is linear code that turns the io_context until a
// condition holds or a deadline passes (run_until), in phases:
//   1. subscribers connect and subscribe;   2. publishers connect;
//   3. load: warm-up, then the measured window;  4. drain: wait for what is
//   still in flight;   5. DISCONNECT everything;   6. report.
// Pacing: with --rate each publisher sends its share on a fine clock; in
// closed loop each publisher keeps --window messages in flight, topped up
// from the completion callbacks. A QoS 0 message counts as complete when
// every subscriber that should get it did (or, without subscribers, when it
// was written); a window stuck for 200 ms (a broker that drops QoS 0) is
// released so the run goes on — the loss shows in the sequence numbers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "tools/bench/bench_connection.hpp"
#include "tools/bench/options.hpp"
#include "tools/bench/recorder.hpp"

namespace strata::bench {

class Runner : public ConnectionEvents {
 public:
  explicit Runner(const Options& options);
  // Runs the scenario and prints the report; returns the exit status.
  int run();

  void on_connack(BenchConnection& c, const protocol::Connack& ack) override;
  void on_suback(BenchConnection& c, const protocol::Suback& ack) override;
  void on_message(BenchConnection& c, const protocol::Publish& p) override;
  void on_completed(BenchConnection& c) override;
  void on_written(BenchConnection& c, std::uint32_t publishes) override;
  void on_error(BenchConnection& c, const std::string& what) override;

 private:
  struct Publisher {
    BenchConnection* conn = nullptr;
    protocol::Publish msg;
    std::uint32_t window = 0;
    std::uint64_t sent = 0;
    std::uint64_t limit = UINT64_MAX;  // --count: this publisher's share
    std::uint64_t acked = 0;      // QoS 1/2 completions, or QoS 0 writes without subscribers
    std::uint64_t delivered = 0;  // copies received by our subscribers
    std::uint64_t forgiven = 0;   // released after a stall (see header)
    std::uint64_t last_progress_ns = 0;
  };
  struct Counters {
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
    double broker_cpu_s = 0;
    double gen_cpu_s = 0;
    std::uint64_t ns = 0;
  };

  bool run_until(const std::function<bool()>& done, double seconds);
  void run_one_for(std::chrono::microseconds slice);  // one handler, or none within `slice`
  BenchConnection& open(std::uint32_t index, std::size_t read_buffer, protocol::Connect c);
  std::uint64_t completed(const Publisher& p) const;
  void top_up(Publisher& p);
  void send_one(Publisher& p);
  void pace(std::uint64_t now_ns);
  void release_stalled(std::uint64_t now_ns);
  void ping_all();
  Counters snapshot() const;
  int run_conn();
  int run_load();
  void disconnect_all();

  Options o_;
  boost::asio::io_context io_;
  boost::asio::steady_timer slice_timer_{io_};  // run_one_for on io_uring
  bool slice_armed_ = false;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  boost::asio::ip::tcp::endpoint broker_;
  std::optional<boost::asio::ssl::context> tls_;  // tls:// and wss:// only
  std::vector<std::unique_ptr<BenchConnection>> conns_;
  std::vector<Publisher> pubs_;  // by publisher index
  std::uint32_t copies_ = 0;     // deliveries per published message
  bool loading_ = false;
  bool measuring_ = false;
  std::uint64_t load_start_ns_ = 0;

  // Set-up progress.
  std::uint32_t connacks_ = 0;
  std::uint32_t subacks_ = 0;
  std::uint32_t refused_ = 0;
  std::uint64_t errors_ = 0;
  std::string first_error_;
  std::vector<std::uint64_t> connect_sent_ns_;
  LatencyHistogram connect_latency_;

  // Receiving side.
  std::uint64_t received_ = 0;
  std::uint64_t received_in_window_ = 0;
  std::uint64_t first_recv_ns_ = 0, last_recv_ns_ = 0;  // steady clock, of our messages
  std::uint64_t json_base_ms_ = 0;  // --payload json: timestamps from here, +1 ms per message
  LatencyHistogram latency_;
  std::unordered_map<std::uint64_t, SeqTracker> seqs_;  // (subscriber << 32 | publisher)
  // $share: one tracker per publisher for the group; order per member here.
  std::unordered_map<std::uint64_t, std::uint64_t> member_end_;
  std::uint64_t member_reordered_ = 0;
  std::uint64_t foreign_ = 0;  // messages without our header
};

// Monotonic nanoseconds (the clock of the payload timestamps).
inline std::uint64_t now_ns() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

}  // namespace strata::bench
