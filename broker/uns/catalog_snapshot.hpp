// The catalog's snapshot in the store (issue: "the catalog survives a
// restart"): the merged catalog of every core, one record per topic
// (snapshot_record.hpp) in the store's database "uns_catalog".
//
//   restore(): at start-up, before the cores run: each record goes to the
//     catalog of core hash(topic) % cores; a damaged record is skipped,
//     counted and logged once.
//   start(): every `snapshot_interval` seconds core 0 asks every core for
//     its part, merges them and pushes to the store's writer (queue 0) a
//     delete of the old records and a put per topic.
//   write_final(): after the cores and the writer stopped (graceful stop),
//     the same in one transaction of its own.
// Topics whose name is longer than LMDB's key limit (511 bytes) are left
// out (counted). After a kill -9 the last periodic snapshot is what comes
// back. Rates, user properties, schema history and last violations are not
// kept (see snapshot_record.hpp).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include <boost/asio/steady_timer.hpp>
#include <lmdb.h>

namespace strata::core {
class Broker;
}

namespace strata::uns {

class NamespaceHook;
struct MergedCatalog;

class CatalogSnapshot {
 public:
  CatalogSnapshot(core::Broker& broker, NamespaceHook& hook, std::uint32_t interval_s);
  ~CatalogSnapshot();

  std::size_t restore();
  void start();
  void write_final();

  std::uint64_t snapshots() const noexcept { return snapshots_.load(std::memory_order_relaxed); }
  std::uint64_t damaged() const noexcept { return damaged_.load(std::memory_order_relaxed); }
  std::uint64_t restored() const noexcept { return restored_.load(std::memory_order_relaxed); }

 private:
  void schedule();
  void take();

  core::Broker& broker_;
  NamespaceHook& hook_;
  std::uint32_t interval_s_;
  MDB_dbi dbi_ = 0;
  std::unique_ptr<boost::asio::steady_timer> timer_;
  std::atomic<std::uint64_t> snapshots_{0}, damaged_{0}, restored_{0}, skipped_{0};
};

}  // namespace strata::uns
