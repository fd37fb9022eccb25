// The LMDB environment of the store: <data_dir>/store/{data.mdb,lock.mdb},
// guarded by <data_dir>/strata.pid, and its named databases (layouts in
// records.hpp).
//
// Opening refuses, with a StoreError that says what and where:
// - a data directory another strata process holds (flock on strata.pid,
//   released by the kernel when that process dies, kill -9 included);
// - a directory that cannot be created or written;
// - a data.mdb that is not an LMDB file, or is shorter than its own meta
//   pages say (truncated: reading it would fault);
// - a store written by a newer format version.
//
// Threading: after start-up only the store's writer thread writes to the
// environment. Readers on other threads hold a ReadTxn (the historian's
// queries), which takes resize_lock shared, or read through the writer's
// read ops (the bridges' outbox logs), so the map can be grown
// (mdb_env_set_mapsize needs no transaction open in this process) when a
// write transaction hits MDB_MAP_FULL: grow() takes the lock exclusively.
#pragma once

#include <cstdint>
#include <shared_mutex>
#include <stdexcept>
#include <string>

#include <lmdb.h>

#include "broker/config/config.hpp"

namespace strata::store {

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws StoreError naming `what` when `rc` is not MDB_SUCCESS.
void check(int rc, const std::string& what);

class LmdbEnv {
 public:
  LmdbEnv(const std::string& data_dir, const config::Store& settings);
  ~LmdbEnv();
  LmdbEnv(const LmdbEnv&) = delete;
  LmdbEnv& operator=(const LmdbEnv&) = delete;

  MDB_env* env() const noexcept { return env_; }
  const std::string& path() const noexcept { return path_; }
  std::uint64_t map_size() const noexcept { return map_size_; }
  std::uint64_t max_map_size() const noexcept { return max_map_size_; }
  // Doubles the map up to max_map_size; false when already there.
  bool grow();
  // Bytes of the map holding pages (the last page number in use, plus one,
  // times the page size): what data.mdb needs on disk.
  std::uint64_t used_bytes() const;
  // Bytes the file system holding the store can still give us (statvfs).
  std::uint64_t disk_free() const;

  MDB_dbi meta = 0, sessions = 0, messages = 0, qos2 = 0, retained = 0;
  // The bridges' outbox logs (layout: bridges/outbox/outbox_log.hpp).
  MDB_dbi outbox = 0, outbox_meta = 0, outbox_dead = 0, outbox_state = 0;

  // Opens (creating it) a module's own named database (the historian's);
  // before the writer starts. Throws StoreError.
  MDB_dbi open_database(const char* name);
  std::shared_mutex& resize_lock() noexcept { return resize_lock_; }

 private:
  void lock_data_dir(const std::string& data_dir);
  void check_file(const std::string& file);
  void open_databases();

  std::string path_;
  int pid_fd_ = -1;
  MDB_env* env_ = nullptr;
  std::uint64_t map_size_ = 0;
  std::uint64_t max_map_size_ = 0;
  std::shared_mutex resize_lock_;
};

// A read-only transaction for a thread other than the writer's; it keeps
// the map from being resized while open. Throws StoreError.
class ReadTxn {
 public:
  explicit ReadTxn(LmdbEnv& env);
  ~ReadTxn();
  ReadTxn(const ReadTxn&) = delete;
  ReadTxn& operator=(const ReadTxn&) = delete;
  MDB_txn* get() const noexcept { return txn_; }

 private:
  std::shared_lock<std::shared_mutex> lock_;
  MDB_txn* txn_ = nullptr;
};

}  // namespace strata::store
