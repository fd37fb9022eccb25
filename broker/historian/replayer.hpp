// Replay jobs (DESIGN.md, Bridges: replay): re-send the historian's raw log
// (hist_raw, history_store.hpp) of a topic filter and a range of receive
// times [from, to) through a bridge's outbox, in time order, each message
// marked with the user properties `strata-replay: <job id>` and
// `strata-time: <original receive time, unix ms>`. This is how a new tier
// is backfilled, or one that was cut off longer than its outbox kept data
// is repaired.
//
// Model. A job (replay_job.hpp) holds its request, its state (running,
// done, cancelled, failed), counts and its position: the raw-log key of
// the last record it passed. The replayer's own thread runs every running
// job in steps, one every tick (50 ms): a step opens a short read
// transaction, reads at most kScan records after the position (stopping at
// `to`, and at receive times less than kSettleMs old, which may still be on
// their way to the writer), closes it, then offers the matching messages
// to the bridge (ReplayTargets::offer: the out route's own append) until
// one does not fit. A step offers at most kBatch messages, no more than
// keep the bridge's outbox under kWindow records (line rate: as fast as the
// target confirms), or as many as `rate` allows since the last step. Live
// traffic keeps flowing: the cores never see a job; the outbox interleaves
// live and replayed records in append order.
//
// Durability: at-least-once. The job's record (hist_replay, key: job id)
// is written after each step on the same writer queue as the step's
// outbox appends (the store's bridge queue), and one queue's operations
// are committed in order, so a stored position is never ahead of the
// outbox records it covers: after a crash or a restart the job resumes at
// the stored position and skips nothing. A crash between the commit of a
// step's records and that of its job record re-sends that step's messages
// (at most one batch); the stored counts roll back with the position, so a
// finished job's `sent` counts each message of the range once. On top of
// that, the bridge itself re-sends what was in flight to its target
// (at-least-once delivery of the outbox).
//
// Done means every message of the range was handed to the outbox; the
// bridge delivers the tail afterwards. What is changed in replayed
// messages: retain is cleared (an old value is not the current one), a
// message expiry is dropped (it was relative to the original time), and
// the QoS is capped by the out route the topic matches, if any, whose
// remote template also applies. The job's total is counted by a second
// bounded scan beside the sending one (exact once it reached the end).
//
// Threading: create/cancel/list/get from the admin thread; steps on the
// replayer's thread; a mutex guards the jobs, held while a step's messages
// are offered (appends never wait), so once cancel() returns nothing more
// of that job enters the outbox.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "broker/historian/replay_job.hpp"
#include "broker/historian/replay_target.hpp"
#include "broker/store/store.hpp"

namespace strata::historian {

class HistoryStore;

// A job as the API shows it: the stored part and the run-time figures.
struct ReplayStatus {
  ReplayJob job;
  std::uint64_t total = 0;   // matching messages in the range (counted so far)
  bool total_exact = false;  // the count reached the end of the range
  double rate = 0;           // messages/s sent since the job (re)started
  std::optional<double> eta_s;
  std::optional<std::int64_t> position_ms;  // receive time of the position
};

class Replayer {
 public:
  static constexpr unsigned kScan = 4096;     // raw-log records read per step
  static constexpr unsigned kBatch = 500;     // messages offered per step
  static constexpr std::uint64_t kWindow = 1000;  // the most outbox records a job lets queue up
  static constexpr std::int64_t kSettleMs = 1000;
  static constexpr std::int64_t kTickMs = 50;
  // Finished jobs (done, cancelled, failed) kept for the API; beyond this
  // the oldest go, from memory and the store, when a job is created.
  static constexpr std::size_t kKeepFinished = 100;

  using NowFn = std::function<std::int64_t()>;
  // Reads the stored jobs (running ones resume at start()). Before the
  // store's writer starts.
  Replayer(store::Store& store, HistoryStore& history, ReplayTargets& targets, NowFn now);
  ~Replayer();
  Replayer(const Replayer&) = delete;
  Replayer& operator=(const Replayer&) = delete;

  void start();
  void stop();

  // A new job, or an error: `status` 400 (record_payloads off) or 404 (no
  // such bridge) with `error`.
  std::optional<ReplayStatus> create(const ReplayRequest& request, int& status, std::string& error);
  std::vector<ReplayStatus> list() const;
  std::optional<ReplayStatus> get(std::uint64_t id) const;
  enum class Cancel : std::uint8_t { cancelled, not_found, finished };
  Cancel cancel(std::uint64_t id, ReplayStatus& out);

 private:
  struct Run {  // what is not stored
    std::uint64_t total = 0;
    bool counted = false;
    std::string count_pos;  // raw-log key the count reached
    double tokens = 0;
    std::int64_t last_step_ms = 0;
    std::int64_t started_ms = 0;
    std::uint64_t sent_at_start = 0;
  };
  struct Entry {
    ReplayJob job;
    Run run;
  };
  void tick();
  void schedule();
  void step(std::uint64_t id);
  void count_step(std::uint64_t id);
  void persist(const ReplayJob& job);  // under mutex_
  void prune_finished();               // under mutex_
  ReplayStatus status_of(const Entry& e) const;
  void fail(std::uint64_t id, const std::string& why);

  store::Store& store_;
  HistoryStore& history_;
  ReplayTargets& targets_;
  NowFn now_;
  MDB_dbi jobs_dbi_ = 0;
  MDB_dbi raw_dbi_ = 0;

  mutable std::mutex mutex_;
  std::map<std::uint64_t, Entry> jobs_;  // guarded by mutex_
  std::uint64_t next_id_ = 1;            // guarded by mutex_

  boost::asio::io_context io_;
  boost::asio::steady_timer timer_{io_};
  std::thread thread_;
  std::atomic<bool> stopped_{false};
};

}  // namespace strata::historian
