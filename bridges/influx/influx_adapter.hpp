// The influx bridge type: line protocol over HTTP behind the Adapter
// interface (adapter.hpp). The outbox drives it; it owns no queue beyond
// the batch it is filling and the writes in progress.
//
// deliver() maps each record to a line (point_mapper.hpp): a record that
// maps to nothing is counted by reason and confirmed at once (it is not
// sent). Lines fill a batch (batch.hpp) that is written when it holds
// batch_lines or batch_bytes, or batch_ms after its first line. Writes go
// one at a time, in order, over one keep-alive connection (http_client.hpp);
// each answer is classified in one place (write_answer.hpp):
//
//   ack      every record of the write is confirmed
//   split,   the write is replaced by its two halves, first half first
//   bisect
//   reject   the refused lines' records go to the dead letters with the
//            server's reason; the others are confirmed
//   pause    401/403/404: state paused, an error in the log (the alarm); the
//            same write is tried again every retry_max; nothing is dropped
//   retry    429/5xx/transport: state backing_off; the same write again after
//            the backoff (retry_min doubling to retry_max) or the server's
//            Retry-After, whichever is longer
//
// So a bad point never blocks the queue, and nothing leaves the outbox that
// the server did not take or refuse for good.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <memory>
#include <random>

#include "bridges/adapter.hpp"
#include "bridges/influx/http_client.hpp"
#include "bridges/influx/influx_options.hpp"

namespace strata::bridges::influx {

class InfluxAdapter final : public Adapter {
 public:
  InfluxAdapter(const BridgeConfig& bridge, InfluxOptions options);
  ~InfluxAdapter() override;

  void start(const AdapterContext& ctx) override;
  void deliver(Batch batch) override;
  void stop() override;

  // Records that mapped to no line, by MapResult (index 0 unused).
  std::uint64_t skipped(MapResult why) const noexcept { return skipped_[static_cast<int>(why)].load(); }
  std::vector<std::pair<std::string_view, std::uint64_t>> skipped() const override;

 private:
  void close_batch();
  void arm_batch_timer();
  void write_next();
  void on_answer(WriteAnswer answer);
  void wait_then_write(std::chrono::milliseconds delay);
  void set_state(AdapterState s);

  const BridgeConfig& bridge_;
  InfluxOptions options_;
  PointMapper mapper_;
  std::string path_, authorization_;
  AdapterContext ctx_;
  std::unique_ptr<boost::asio::ssl::context> tls_;
  std::unique_ptr<HttpClient> client_;
  std::unique_ptr<boost::asio::steady_timer> batch_timer_, retry_timer_;
  Batcher batcher_;
  std::deque<LineBatch> writes_;  // front: being written (or waiting to be retried)
  bool writing_ = false;
  bool batch_timer_armed_ = false;
  bool stopped_ = false;
  AdapterState state_ = AdapterState::connecting;
  Backoff backoff_;
  std::minstd_rand jitter_{std::random_device{}()};
  std::string line_;
  std::vector<std::uint64_t> confirmed_;
  std::array<std::atomic<std::uint64_t>, 5> skipped_{};
};

// The AdapterType to register as "influx".
AdapterType influx_adapter_type();

}  // namespace strata::bridges::influx
