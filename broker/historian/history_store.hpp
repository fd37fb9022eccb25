// The historian's records in the store's LMDB environment, written inside
// the store writer's group commit (store/writer.hpp, TxnClient).
//
// Databases (all integers big-endian; sid: u32 series id, t: u64 unix ms):
//
//   hist_series  series name               -> u32 sid, u64 first t, u64 last t,
//                                             u64 point count, f64 last value
//   hist_blocks  sid, u64 block key time   -> a block (block_codec.hpp)
//   hist_minute  sid, u64 minute start     -> rollup record (rollup.hpp)
//   hist_hour    sid, u64 hour start       -> rollup record
//   hist_raw     u64 receive t, u64 seq    -> message record (store/records.hpp)
//   hist_replay  u64 job id                -> replay job (replay_job.hpp)
//
// A series name is "{topic}" or "{topic}#{field.path}" (samples.hpp). Series
// ids are given in order of first appearance and never reused (the next id
// is one past the largest stored). A series' blocks are disjoint in time:
// the block stored under key time k holds points with k <= t < the next
// block's key time, in time order, so a range query seeks to the last block
// with key <= from and reads forward. The last block of a series is its
// head: points at or after its last time are appended to it (the encoder
// state stays in memory) and it is written again at every commit that
// added to it; it is sealed — left as it is, and a new head started — once
// it holds seal_points points or seal_bytes bytes. A late point (before the
// head's last time) is inserted into the block that covers its time, which
// is decoded and written again; one before the series' first block starts a
// block of its own. Rollups of the minute and hour of each point are
// gathered per transaction and merged into the stored record before the
// commit, late points included, so they always equal what the blocks hold.
// The raw log keeps every recorded message (record_payloads) in receive
// order; seq only breaks ties within a millisecond.
//
// Retention (prune steps, pushed by the historian's timer as housekeeping
// operations): raw blocks whose last point is older than the raw retention,
// rollups older than theirs, raw-log records older than the raw
// retention. Each step does at most prune_budget record reads and deletes
// and resumes where the previous one stopped. When the historian's
// databases hold more than max_bytes (pages in use), each step also drops
// the oldest hour of raw data (blocks and raw log), counted in
// Counters::size_pruned.
//
// Threading: everything here runs on the store's writer thread, except
// counters() and set_settings().
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/historian/block_codec.hpp"
#include "broker/historian/historian_config.hpp"
#include "broker/historian/rollup.hpp"
#include "broker/historian/samples.hpp"
#include "broker/store/lmdb_env.hpp"
#include "broker/store/writer.hpp"

namespace strata::historian {

struct HistoryDbs {
  MDB_dbi series = 0, blocks = 0, minute = 0, hour = 0, raw = 0;
  MDB_dbi replay = 0;  // replay jobs (replay_job.hpp has the layout)
  static HistoryDbs open(store::LmdbEnv& env);
};

// Key helpers, shared with the query side.
std::string series_key(std::uint32_t sid, std::int64_t t);  // sid, u64 t
bool split_series_key(std::string_view key, std::uint32_t& sid, std::int64_t& t);
std::string raw_key(std::int64_t t, std::uint64_t seq);

struct SeriesRecord {
  std::uint32_t sid = 0;
  std::int64_t first_t = 0, last_t = 0;
  std::uint64_t count = 0;
  double last_v = 0;
};
std::string encode_series(const SeriesRecord& r);
bool decode_series(std::string_view bytes, SeriesRecord& out);

struct Counters {
  std::atomic<std::uint64_t> messages{0};       // messages handed to the historian
  std::atomic<std::uint64_t> points{0};         // samples recorded
  std::atomic<std::uint64_t> late_points{0};    // of which before their series' last time
  std::atomic<std::uint64_t> raw_messages{0};   // messages written to the raw log
  std::atomic<std::uint64_t> series{0};         // series created since start
  std::atomic<std::uint64_t> sealed_blocks{0};
  std::atomic<std::uint64_t> dropped_points{0};  // could not be stored (a damaged or full block)
  std::atomic<std::uint64_t> pruned_blocks{0};
  std::atomic<std::uint64_t> pruned_points{0};
  std::atomic<std::uint64_t> pruned_rollups{0};
  std::atomic<std::uint64_t> pruned_messages{0};
  std::atomic<std::uint64_t> size_pruned{0};    // blocks and raw messages dropped for max_bytes
  std::atomic<std::uint64_t> bytes{0};          // pages in use by the historian at the last prune step
};

class HistoryStore : public store::TxnClient {
 public:
  static constexpr std::uint32_t seal_points = 1024;
  static constexpr std::size_t seal_bytes = 2000;
  static constexpr unsigned prune_budget = 2000;

  using NowFn = std::function<std::int64_t()>;
  HistoryStore(store::LmdbEnv& env, HistoryDbs dbs, const HistorianConfig& settings, NowFn now);

  int apply(MDB_txn* txn, const store::Op& op) override;
  int before_commit(MDB_txn* txn) override;
  void aborted() override;

  // From any thread: retention, max_bytes, record_payloads, timestamp_field.
  void set_settings(const HistorianConfig& settings);
  HistorianConfig settings() const;
  Counters& counters() noexcept { return counters_; }
  const Counters& counters() const noexcept { return counters_; }
  const HistoryDbs& dbs() const noexcept { return dbs_; }

  // Direct use (tests, benchmarks), in the caller's transaction.
  int add_message(MDB_txn* txn, const router::Message& msg, std::int64_t received_ms);
  int add_point(MDB_txn* txn, const std::string& series, std::int64_t t, double v);
  int prune_step(MDB_txn* txn, std::int64_t now_ms);

 private:
  struct Series {
    std::string name;
    SeriesRecord rec;
    BlockEncoder head;
    std::int64_t head_key = -1;  // -1: no head block
    bool dirty = false, head_dirty = false;
  };
  int prepare(MDB_txn* txn);  // after an abort: re-read the next ids
  int series_state(MDB_txn* txn, const std::string& name, Series*& out);
  int insert_old(MDB_txn* txn, Series& s, std::int64_t t, double v);
  int put_head(MDB_txn* txn, Series& s);
  int prune_series_blocks(MDB_txn* txn, Series* cached, std::uint32_t sid, SeriesRecord& rec,
                          std::int64_t cutoff, unsigned& work, bool& changed, bool for_size);
  int prune_rollups(MDB_txn* txn, MDB_dbi dbi, std::uint32_t sid, std::int64_t cutoff, unsigned& work);
  int prune_raw(MDB_txn* txn, std::int64_t cutoff, unsigned& work, bool for_size);
  std::uint64_t history_bytes(MDB_txn* txn) const;

  store::LmdbEnv& env_;
  HistoryDbs dbs_;
  NowFn now_;
  mutable std::mutex settings_mutex_;
  HistorianConfig settings_;

  bool loaded_ = false;  // next_sid_/raw_seq_ read from the store
  std::uint32_t next_sid_ = 1;
  std::uint64_t raw_seq_ = 0;
  std::string last_raw_key_;  // the largest raw-log key (MDB_APPEND beyond it)
  std::unordered_map<std::string, std::unique_ptr<Series>> series_;
  std::unordered_map<std::uint32_t, Series*> by_sid_;
  std::vector<Series*> dirty_;
  std::map<std::pair<std::uint32_t, std::int64_t>, Rollup> minute_, hour_;
  std::vector<Sample> samples_;  // scratch
  std::string prune_from_;       // series name the next prune step starts at
  Counters counters_;
};

}  // namespace strata::historian
