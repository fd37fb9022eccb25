#include "bridges/bridge.hpp"

#include <algorithm>

#include <boost/asio/post.hpp>

#include "broker/util/log.hpp"

namespace strata::bridges {

namespace asio = boost::asio;

Bridge::Bridge(std::unique_ptr<BridgeConfig> config, std::unique_ptr<Adapter> adapter, Outbox& outbox,
               LocalPublisher* local)
    : config_(std::move(config)),
      adapter_(std::move(adapter)),
      outbox_(outbox),
      local_(local),
      work_(asio::make_work_guard(io_)),
      order_(config_->order, config_->live_threshold, outbox_.acknowledged() + 1) {
  restart_end_ = outbox_.next_offset();
}

// The adapter's timers and sockets live on io_: the adapter goes first (a
// member destroyed after io_ would touch its freed timer services).
Bridge::~Bridge() {
  stop();
  adapter_.reset();
}

void Bridge::start() {
  outbox_.set_notify([this] { schedule_pump(); });
  if (!config_->enabled) {
    state_.store(AdapterState::disabled);
    return;
  }
  thread_ = std::thread([this] { io_.run(); });
  asio::post(io_, [this] {
    AdapterContext ctx;
    ctx.events = this;
    ctx.io = &io_;
    ctx.local = local_;
    ctx.config = config_.get();
    ctx.outbox = &outbox_;
    adapter_->start(ctx);
  });
}

void Bridge::stop() {
  if (!thread_.joinable()) return;
  outbox_.set_notify(nullptr);
  asio::post(io_, [this] {
    adapter_->stop();
    work_.reset();
    io_.stop();
  });
  thread_.join();
}

void Bridge::pause() {
  paused_.store(true);  // seen at once by state(); the pump stops at its next turn
}

void Bridge::resume() {
  if (!paused_.exchange(false)) return;
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    if (ready_) state_.store(AdapterState::connected);
    pump();
  });
}

void Bridge::schedule_pump() {
  if (pump_scheduled_.exchange(true)) return;
  asio::post(io_, [this] {
    pump_scheduled_.store(false);
    pump();
  });
}

void Bridge::ready(std::size_t window) {
  asio::post(io_, [this, window] {
    ready_ = true;
    window_ = window == 0 ? 1 : window;
    in_flight_ = 0;
    state_.store(AdapterState::connected);
    pump();
  });
}

void Bridge::failed(std::string reason) {
  counters_.failures.fetch_add(1, std::memory_order_relaxed);
  asio::post(io_, [this, reason = std::move(reason)] {
    if (ready_) {
      STRATA_WARN("bridge") << config_->name << ": " << reason;
    }
    ready_ = false;
    ++epoch_;  // everything unconfirmed is sent again after the next ready()
    in_flight_ = 0;
    stale_ = unconfirmed_.size();
  });
}

void Bridge::state(AdapterState s) { state_.store(s, std::memory_order_relaxed); }

void Bridge::duplicate() { counters_.duplicates.fetch_add(1, std::memory_order_relaxed); }

void Bridge::confirmed(std::uint64_t offset) { confirmed(std::span<const std::uint64_t>(&offset, 1)); }

void Bridge::confirmed(std::span<const std::uint64_t> offsets) {
  std::lock_guard lock(confirm_mutex_);
  confirms_.insert(confirms_.end(), offsets.begin(), offsets.end());
  if (confirms_scheduled_) return;
  confirms_scheduled_ = true;
  asio::post(io_, [this] { apply_confirms(); });
}

void Bridge::apply_confirms() {
  std::vector<std::uint64_t> done;
  {
    std::lock_guard lock(confirm_mutex_);
    done.swap(confirms_);
    confirms_scheduled_ = false;
  }
  for (std::uint64_t o : done) {
    auto it = unconfirmed_.find(o);
    if (it == unconfirmed_.end()) continue;
    forget(it);
  }
  outbox_.confirm(done);
  pump();
}

void Bridge::rejected(std::uint64_t offset, std::string reason) {
  asio::post(io_, [this, offset, reason = std::move(reason)] {
    auto it = unconfirmed_.find(offset);
    if (it != unconfirmed_.end()) forget(it);
    outbox_.dead_letter(offset, reason);
    pump();
  });
}

void Bridge::forget(Unconfirmed::iterator it) {
  if (it->second.epoch == epoch_) {
    if (in_flight_ > 0) --in_flight_;
  } else if (stale_ > 0) {
    --stale_;
  }
  unconfirmed_.erase(it);
}

void Bridge::pump() {
  if (!ready_ || paused()) return;
  while (in_flight_ < window_ && !paused()) {
    if (redeliver()) {
      if (!ready_) return;
      continue;
    }
    bool again = false;  // something was read, or a backlog ended: read on
    for (const ReadOrder::Read& read : order_.plan(outbox_.next_offset(), window_ - in_flight_)) {
      const std::size_t room = std::min(read.max, window_ - in_flight_);
      if (room == 0) continue;
      std::uint64_t reached = read.from;
      auto records = outbox_.read(read.from, room, read.until, &reached);
      const std::size_t got = records.size();
      if (order_.advanced(read, reached, got)) again = true;
      if (got == 0) continue;
      again = true;
      send(std::move(records), read.backlog);
      if (!ready_) return;
    }
    if (!again) return;
  }
}

// First what an earlier connection sent and never saw confirmed, in
// offset order, in runs of the same backlog mark.
bool Bridge::redeliver() {
  // The walk only while some wait: the map holds the whole window.
  if (stale_ == 0) return false;
  std::vector<std::uint64_t> stale;
  stale.reserve(stale_);
  for (const auto& [offset, sent] : unconfirmed_) {
    if (sent.epoch != epoch_) stale.push_back(offset);
  }
  std::sort(stale.begin(), stale.end());
  Batch batch;
  const std::size_t room = window_ - in_flight_;
  for (std::uint64_t offset : stale) {
    if (batch.records.size() >= room) break;
    Sent& sent = unconfirmed_.find(offset)->second;
    if (!batch.records.empty() && sent.backlog != batch.backlog) break;
    sent.epoch = epoch_;
    --stale_;
    batch.backlog = sent.backlog;
    batch.records.push_back(sent.record);
  }
  if (batch.records.empty()) return false;
  batch.redelivery = true;
  in_flight_ += batch.records.size();
  counters_.resent.fetch_add(batch.records.size(), std::memory_order_relaxed);
  adapter_->deliver(std::move(batch));
  return true;
}

void Bridge::send(std::vector<RecordPtr> records, bool backlog) {
  Batch batch;
  batch.records = std::move(records);
  batch.backlog = backlog;
  std::uint64_t again = 0;
  for (const RecordPtr& r : batch.records) {
    unconfirmed_[r->offset] = Sent{r, epoch_, backlog};
    if (r->offset < restart_end_) ++again;
  }
  // Records that were in the log at start-up may have been sent by the
  // previous run: delivered as a redelivery (MQTT: DUP).
  batch.redelivery = again != 0;
  in_flight_ += batch.records.size();
  counters_.sent.fetch_add(batch.records.size() - again, std::memory_order_relaxed);
  counters_.resent.fetch_add(again, std::memory_order_relaxed);
  adapter_->deliver(std::move(batch));
}

}  // namespace strata::bridges
