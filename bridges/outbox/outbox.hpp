// A bridge's outbox: an append-only log of Records in the store's LMDB
// environment, keyed by a 64-bit offset, with the acknowledged offset
// stored next to it. Every bridge (and every [[bridge_session]]) has one;
// its adapter delivers from it (adapter.hpp) and nothing else.
//
// Offsets. append() gives each record the next offset (from 1, +1 each,
// across all cores: one atomic order per log). The acknowledged offset A is
// the end of the contiguous confirmed prefix: every record with offset <= A
// has left the log — confirmed by the target, dead-lettered (rejected for
// good), dropped by the overflow policy or expired — and no record above A
// has been counted as gone unless it is confirmed out of order and waits
// for the gap below it to close. confirm() may be called in any order.
//
// Durability. append() pushes the record's put onto the calling core's
// queue of the store's Writer (group commit; the writer encodes the record
// straight into LMDB's page, the record kept alive by the op), so
// `store.after_commit(core, fn)` runs fn once the record is as durable as
// [store] durability says: a QoS 1/2 publisher is acknowledged from there.
// Confirmations delete records and store A in the same group commit (on
// the bridge's own writer queue). A record whose delete lost the race with
// its put, or whose A was stored after it, is below A at open and deleted
// then: the log on disk is exactly the offsets above A that were committed.
// A record confirmed before the writer took its put is not written at all:
// the writer skips a put that a later delete of the same transaction
// removes (store/writer.hpp), and the transaction ends the same.
//
// Memory. A backlog costs disk, not RAM: only a window of the log is in
// memory, whatever its length. The window is the offsets from the
// acknowledged one up to the end of what is loaded: appended records while
// fewer than the memory limit (set_memory_limit) are held, and the
// stretches read() takes back from LMDB as the adapter comes to them. It
// has the records and, per offset, 12 bytes (bytes, receive time, done).
// The rest of the log, the tail, is on disk only and summed in chunks of
// 4,096 offsets (32 bytes: messages, bytes, receive time of the first):
// 100 million queued messages cost ~800 KB of chunks. Every figure stays
// exact (queued messages and bytes, fill, lag, drops and expiry by
// reason): a record leaves the log only once it is in memory, where its
// bytes are known (the adapter read it; drop_oldest reads the oldest
// stretch from disk first), and its bytes leave its chunk. outbox.cpp has
// the details.
//
// Key layout: outbox_log.hpp (databases outbox, outbox_meta, outbox_dead,
// outbox_state).
//
// Blocking (overflow = "block"). append() answers `full` instead of
// dropping; the caller holds its publisher (see bridge_manager.cpp). The
// append that fills the log (or the first `full`) marks it blocking
// (blocking() reads it relaxed, and a counter given to set_space_notify()
// counts the blocking logs); the first
// confirm, dead letter, expiry or drop that leaves room again clears the
// mark and calls the space notification once, outside the lock. A forced
// append (a publisher that was acknowledged before the log filled) goes in
// past the bounds: nothing acknowledged is dropped.
//
// Fill warnings. Every append and every record leaving the log moves the
// fill level (Fill); crossing 50, 80 or 95 % upwards logs a warning once,
// and the level falls back only 10 points below its threshold, so a log
// hovering at a threshold does not flood the log. $SYS, /metrics and the
// admin API show the level (bridge_manager.cpp, bridge_api.cpp).
//
// Dead letters (outbox_dead) are kept until an operator re-sends them (they
// go to the end of the log as new offsets) or purges them; reading them
// takes a read transaction of the caller's, the deletes go through the
// bridge's writer queue.
//
// Threading: append(), has_space() and blocking() from any core; the dead
// letter calls from any thread (the admin API); everything else on the
// bridge's thread. Counters are atomics, read from anywhere.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bridges/bridge_config.hpp"
#include "bridges/outbox/record.hpp"
#include "broker/util/latency_histogram.hpp"

namespace strata::store {
class Store;
}

namespace strata::bridges {

// What an outbox did since start, by reason; gauges are current values.
struct OutboxCounters {
  std::atomic<std::uint64_t> appended{0};
  std::atomic<std::uint64_t> confirmed{0};
  std::atomic<std::uint64_t> dead_lettered{0};
  std::atomic<std::uint64_t> expired{0};
  std::atomic<std::uint64_t> dropped_oldest{0};     // overflow = drop_oldest
  std::atomic<std::uint64_t> dropped_new{0};        // overflow = drop_new
  std::atomic<std::uint64_t> dropped_blocked{0};    // overflow = block: held past block_timeout (0x97)
  std::atomic<std::uint64_t> dropped_hops{0};       // past max_hops
  std::atomic<std::uint64_t> dropped_offline_qos0{0};  // qos0 = drop_when_offline
  std::atomic<std::uint64_t> dropped_age{0};        // older than max_age
  std::atomic<std::uint64_t> discarded{0};          // a bridge session started anew (discard())
  std::atomic<std::uint64_t> queued_messages{0};    // gauge: offsets above acknowledged still held
  std::atomic<std::uint64_t> queued_bytes{0};       // gauge: their topic + payload bytes
  // Receive to confirmation, per confirmed record, in ms (recorded as
  // ms x 1000: its quantile_us() reads as ms; latency_histogram.hpp).
  util::LatencyHistogram delivery_ms;
};

// How full a log is: the larger of its messages and bytes over their
// bounds, in percent (above 100 when forced appends went past them).
struct Fill {
  std::uint64_t percent = 0;
  unsigned warning = 0;  // the highest of 50, 80, 95 reached (with hysteresis), or 0
};

// A record the target rejected for good (Outbox::dead_letter), as kept.
struct DeadLetter {
  std::uint64_t offset = 0;  // its offset in the log when it was rejected
  std::string reason;
  std::uint64_t at_ms = 0;  // when
  Record record;
};

class Outbox {
 public:
  enum class Appended : std::uint8_t {
    queued,      // in the log; its put is on `core`'s writer queue
    dropped,     // full and overflow = drop_new (counted)
    full,        // full and overflow = block: hold the publisher, retry on space
    store_full,  // the store cannot write (QoS 1/2: 0x97)
  };

  // Appended records kept in memory by default (set_memory_limit).
  static constexpr std::size_t kMemoryRecords = 65536;

  // Opens (creating) the log `name` in `store`'s environment and reads its
  // acknowledged offset, its end and its bounds' state. Before store.start().
  // `memory_records`: the memory limit from the start (the first records
  // of a log found on disk are loaded up to it).
  Outbox(store::Store& store, std::string name, OutboxBounds bounds, std::size_t memory_records = kMemoryRecords);
  // A log known to have nothing on disk (a bridge session's, made while
  // the broker runs: bridge_sessions.cpp opened every one on disk at
  // start-up): nothing is read, so it may be made after store.start().
  struct Fresh {};
  Outbox(store::Store& store, std::string name, OutboxBounds bounds, Fresh);
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  const std::string& name() const noexcept { return name_; }

  // The names of the logs in `store` (records or an acknowledged offset),
  // sorted; "session:<client id>" logs are a [[bridge_session]]'s. Any
  // time (a read transaction of its own).
  static std::vector<std::string> stored_logs(store::Store& store);
  // Deletes everything of log `name` (records, acknowledged offset, dead
  // letters, adapter state) through the bridges' writer queue; `done` runs
  // on the writer's thread once that is committed. No Outbox of `name` may
  // be in use (a removed bridge's: nothing appends to it any more).
  static void purge(store::Store& store, const std::string& name, std::function<void()> done);

  // --- any core -------------------------------------------------------------
  // Appends `r` (offset assigned here; r.offset is ignored), applying the
  // bounds and overflow policy.
  // `force`: past the bounds (the publisher was acknowledged already).
  Appended append(unsigned core, Record r, bool force = false);
  bool has_space() const;
  // Full (overflow = "block"): an append filled the log or was refused,
  // and no room was made since.
  bool blocking() const noexcept { return blocking_.load(std::memory_order_relaxed); }
  // Called (any thread, outside the lock) when a blocking log has room
  // again; `blocking_logs` (may be null) is incremented while it blocks.
  void set_space_notify(std::function<void()> fn, std::atomic<std::uint32_t>* blocking_logs = nullptr);

  // --- the bridge's thread --------------------------------------------------
  // Called (from the appending core) when a record is appended and the
  // reader had caught up: the driver posts a read onto its thread.
  void set_notify(std::function<void()> fn);
  // Records with from <= offset < until, in order, at most `max`; fewer
  // (or none) when no more are committed yet. Skips records that left the
  // log. `reached` (if given) gets the first offset it did not look at.
  std::vector<RecordPtr> read(std::uint64_t from, std::size_t max, std::uint64_t until = UINT64_MAX,
                              std::uint64_t* reached = nullptr);
  // The target confirmed `offset` (any order; repeats ignored).
  void confirm(std::uint64_t offset);
  void confirm(std::span<const std::uint64_t> offsets);  // one store write for all
  // Rejected for good: kept in the dead letters with `reason`; counts as
  // confirmed for the acknowledged offset.
  void dead_letter(std::uint64_t offset, std::string_view reason);
  // Everything queued leaves the log (counted as discarded): a bridge
  // session that starts anew does not get an earlier session's messages.
  void discard();
  std::uint64_t acknowledged() const noexcept;
  std::uint64_t next_offset() const noexcept;  // the offset the next append gets
  std::uint64_t oldest_ms() const;             // receive time of the oldest queued record; 0 when empty

  // Small state an adapter keeps with its log across restarts (MQTT: QoS 2
  // records awaiting PUBCOMP), written in the same group commit.
  // loaded_state() is what was stored at open plus what was put and dropped
  // since: an adapter restarted by a reload on the same log starts from it.
  void put_state(std::string_view key, std::string_view value);
  void drop_state(std::string_view key);
  const std::map<std::string, std::string, std::less<>>& loaded_state() const noexcept;

  // Dead letters, in offset order: `max` from the `skip`-th on, and how
  // many there are in all. Any thread (a read transaction of its own).
  std::vector<DeadLetter> dead_letters(std::size_t skip, std::size_t max, std::size_t& total) const;
  // Appends the dead letters with these offsets (all when empty) to the log
  // again, as new records past the bounds (they were accepted once), and
  // removes them from the dead letters; or only removes them (purge).
  // Any thread; returns how many.
  std::size_t resend_dead(std::span<const std::uint64_t> offsets);
  std::size_t purge_dead(std::span<const std::uint64_t> offsets);

  const OutboxCounters& counters() const noexcept;
  // Fill level and warning. A warning is logged when the fill rises past
  // 50, 80 or 95 %, and cleared (logged too) once it is 10 points below.
  Fill fill() const noexcept;
  // Delivery latency quantile q (0..1) in ms since start; 0 before any.
  std::uint64_t delivery_quantile_ms(double q) const;
  void set_bounds(const OutboxBounds& bounds);  // reload
  // Appended records kept in memory (default kMemoryRecords); the rest
  // wait on disk. Takes effect from the next append.
  void set_memory_limit(std::size_t records);
  // Offsets with exact state in memory (the window; see Memory above): at
  // most about the memory limit plus one stretch read from disk plus the
  // confirmations waiting for a gap, whatever the backlog.
  std::size_t window_entries() const;

 private:
  struct Impl;
  // For the operations on disk (outbox_disk.cpp).
  store::Store& store() const noexcept;
  const std::string& log_name() const noexcept;
  std::mutex& dead_mutex() const noexcept;

  std::string name_;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> blocking_{false};
};

}  // namespace strata::bridges
