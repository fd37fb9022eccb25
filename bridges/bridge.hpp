// One bridge at run time: its outbox, its adapter, and the driver between
// them on the bridge's own thread (adapter.hpp has the protocol).
//
// The driver keeps, per delivered and unconfirmed offset, the record and
// the connection "epoch" it was sent in. It delivers while the adapter is
// ready and fewer than `window` records of this epoch are unconfirmed:
// first what an earlier epoch sent and never saw confirmed (redelivery),
// then new records from the outbox, in the bridge's `order`
// (read_order.hpp: offset order, or live records ahead of a backlog). Confirmations are
// gathered from any thread and applied to the outbox in one call per turn
// of the bridge's loop. Nothing here sleeps: a backlog drains as fast as
// the adapter confirms.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/unordered/unordered_flat_map.hpp>

#include "bridges/adapter.hpp"
#include "bridges/bridge_config.hpp"
#include "bridges/outbox/outbox.hpp"
#include "bridges/read_order.hpp"

namespace strata::bridges {

// What a bridge did since start (its outbox counts the rest).
struct BridgeCounters {
  std::atomic<std::uint64_t> sent{0};        // records handed to the adapter the first time
  std::atomic<std::uint64_t> resent{0};      // handed again after a failure or a restart
  std::atomic<std::uint64_t> duplicates{0};  // reported by the adapter
  std::atomic<std::uint64_t> failures{0};    // failed() calls: connections lost or refused
  std::atomic<std::uint64_t> received{0};    // `in` messages published locally
};

class Bridge : public AdapterEvents {
 public:
  Bridge(std::unique_ptr<BridgeConfig> config, std::unique_ptr<Adapter> adapter, Outbox& outbox,
         LocalPublisher* local);
  ~Bridge() override;

  void start();  // the thread and the adapter
  void stop();   // the adapter, then the thread
  // A paused bridge keeps queueing in its outbox and sends nothing new
  // (what was in flight may still be confirmed); resume() goes on in
  // outbox order. Not kept across restarts.
  void pause();
  void resume();
  bool paused() const noexcept { return paused_.load(std::memory_order_relaxed); }

  const BridgeConfig& config() const noexcept { return *config_; }
  Outbox& outbox() noexcept { return outbox_; }
  const BridgeCounters& counters() const noexcept { return counters_; }
  // The adapter's skipped records by reason (Adapter::skipped).
  std::vector<std::pair<std::string_view, std::uint64_t>> skipped() const { return adapter_->skipped(); }
  BridgeCounters& mutable_counters() noexcept { return counters_; }
  AdapterState state() const noexcept {
    AdapterState s = state_.load(std::memory_order_relaxed);
    return paused() && s != AdapterState::disabled ? AdapterState::paused : s;
  }
  bool connected() const noexcept { return state() == AdapterState::connected; }
  boost::asio::io_context& io() noexcept { return io_; }

  // AdapterEvents (any thread).
  void ready(std::size_t window) override;
  void confirmed(std::uint64_t offset) override;
  void confirmed(std::span<const std::uint64_t> offsets) override;
  void rejected(std::uint64_t offset, std::string reason) override;
  void failed(std::string reason) override;
  void state(AdapterState s) override;
  void duplicate() override;

 private:
  struct Sent {
    RecordPtr record;
    std::uint64_t epoch = 0;
    bool backlog = false;  // sent from a backlog (live_first): re-sent marked the same
  };
  void pump();           // bridge thread
  void schedule_pump();  // any thread, coalesced
  void apply_confirms();
  using Unconfirmed = boost::unordered_flat_map<std::uint64_t, Sent>;
  void forget(Unconfirmed::iterator it);  // confirmed or rejected
  bool redeliver();  // what an earlier epoch sent; false when there is none
  void send(std::vector<RecordPtr> records, bool backlog);

  std::unique_ptr<BridgeConfig> config_;
  std::unique_ptr<Adapter> adapter_;
  Outbox& outbox_;
  LocalPublisher* local_;
  BridgeCounters counters_;
  std::atomic<AdapterState> state_{AdapterState::connecting};

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  std::atomic<bool> pump_scheduled_{false};
  std::atomic<bool> paused_{false};  // written on the bridge thread (and before start)

  std::mutex confirm_mutex_;
  std::vector<std::uint64_t> confirms_;  // guarded by confirm_mutex_
  bool confirms_scheduled_ = false;      // guarded by confirm_mutex_

  // Bridge thread only.
  bool ready_ = false;
  std::size_t window_ = 0;
  std::uint64_t epoch_ = 1;
  std::size_t in_flight_ = 0;                // unconfirmed records sent in this epoch
  // Offset -> what was sent. A flat hash map: an insert and an erase per
  // forwarded record without a tree node each (the offsets of a window are
  // not contiguous under live_first, so not a ring); redeliver() sorts
  // what it re-sends.
  Unconfirmed unconfirmed_;
  std::size_t stale_ = 0;  // of unconfirmed_, sent in an earlier epoch and not yet again
  ReadOrder order_;
  std::uint64_t restart_end_ = 0;  // offsets below were in the log at start: possibly sent before
};

}  // namespace strata::bridges
