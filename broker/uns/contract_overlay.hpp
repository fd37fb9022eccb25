// The contracts applied through the admin API (PUT and DELETE
// /api/v1/contracts/{name}, strata-ctl contracts apply|rm), kept in the
// store's database "uns_contracts" so that they outlive a restart and a
// reload (SIGHUP, POST /api/v1/reload).
//
// Model: the config file's [[uns.contract]] tables come first; the API's
// changes are an overlay on top, applied in the order they were made
// every time the configuration is built (start-up and every reload): a put
// replaces the contract of its name in place (or appends it, last), a
// removal drops it (when the file has it). So an API change wins over the
// file's contract of the same name until another API call changes it; a
// removed file contract stays removed across reloads until it is put
// again. `strata-ctl contracts list` shows where each one came from
// (`"origin": "config"|"api"`).
//
// Record (key: the contract's name): contract_record.hpp. A record that no longer builds (its schema refused by a newer Strata,
// damaged bytes) is skipped with a warning naming it; the others apply.
//
// Threading: put()/remove() run on core 0 (where the API applies
// contracts) and push to core 0's store queue; apply() runs wherever a
// configuration is built (start-up, the reload hook); a mutex guards the
// records (never taken on the publish path).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <lmdb.h>

#include "broker/uns/contract_record.hpp"
#include "broker/uns/uns_config.hpp"

namespace strata::store {
class Store;
}

namespace strata::uns {

class ContractOverlay {
 public:
  explicit ContractOverlay(store::Store& store);

  // Reads the records (start-up, before the writer runs); returns how many.
  std::size_t load();
  // Applies the records to `cfg` (built from the file), in their order.
  // Returns one line per contract the overlay changed, for the log.
  std::string apply(UnsConfig& cfg) const;
  // Records a put (`body`: the PUT body as JSON text) or a removal and
  // pushes it to the store; `done(stored)` runs on core 0 once committed.
  void put(const std::string& name, std::string body, std::function<void(bool)> done);
  void remove(const std::string& name, std::function<void(bool)> done);
  // Whether `name` was last put through the API.
  bool from_api(const std::string& name) const;

  using Record = ContractRecord;

 private:
  void persist(const std::string& name, const Record& r, std::function<void(bool)> done);

  store::Store& store_;
  MDB_dbi dbi_ = 0;
  mutable std::mutex mutex_;
  std::map<std::string, Record> records_;
  std::uint64_t seq_ = 0;
};

}  // namespace strata::uns
