// The historian's query engine: reads what history_store.hpp wrote, in a
// read-only transaction on the caller's thread (the admin server's, a
// rule's core, a test), never blocking the writer.
//
// - series(filter): the series whose topic matches an MQTT filter, with
//   their first/last time, point count and last value. A filter may name a
//   field after its topic part: "plant/+/press#temperature". A '#' that is
//   a whole last level ("plant/#") is the multi-level wildcard; any other
//   '#' starts the field name.
// - raw(): the points of one series in [from, to), in time order.
// - aggregate(): one row per interval bucket (buckets start at multiples of
//   the interval since the unix epoch; the first one may start before
//   `from` but holds only points at or after it) with avg, min, max, sum,
//   count, first or last, and empty buckets filled per `fill`:
//   none (left out), null, previous (the last non-empty bucket's value),
//   linear (between the two nearest non-empty buckets; null at the edges).
//   Tier: the hour rollups when the interval is a whole number of hours
//   and from and to are on hour boundaries, else the minute rollups under
//   the same rule for minutes, else the raw points: the cheapest tier that
//   gives the exact answer. (Rollups outlive raw points: an old range may
//   be answered from a tier when raw data is already pruned.)
//
// The bucket arithmetic (Buckets) is a pure function of rollups, tested on
// its own.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "broker/historian/block_codec.hpp"
#include "broker/historian/history_store.hpp"
#include "broker/historian/rollup.hpp"
#include "broker/store/lmdb_env.hpp"

namespace strata::historian {

enum class Agg : std::uint8_t { avg, min, max, sum, count, first, last };
enum class Fill : std::uint8_t { none, null, previous, linear };
enum class Tier : std::uint8_t { raw, minute, hour };

std::optional<Agg> parse_agg(std::string_view s);    // "avg" ("mean"), "min", ...
std::optional<Fill> parse_fill(std::string_view s);  // "none", "null", "previous", "linear"
std::string_view name_of(Agg a);
std::string_view name_of(Tier t);

struct SeriesInfo {
  std::string name;
  SeriesRecord rec;
};

struct Row {
  std::int64_t t = 0;
  std::optional<double> v;  // nullopt: an empty bucket filled with null
};

// The value of `agg` over a non-empty rollup.
double value_of(const Rollup& r, Agg agg);

// Rows of buckets [first_bucket, to) of `interval` from the rollups per
// bucket start (a bucket missing from the map is empty).
std::vector<Row> bucket_rows(const std::map<std::int64_t, Rollup>& buckets, std::int64_t from, std::int64_t to,
                             std::int64_t interval, Agg agg, Fill fill, std::size_t limit);

// Does the series name match the filter (see above)?
bool series_matches(std::string_view filter, std::string_view series);

struct Query {
  std::string series;
  std::optional<std::int64_t> from, to;  // [from, to); absent: the series' first / last point
  std::int64_t interval = 0;             // 0: raw points
  Agg agg = Agg::avg;
  Fill fill = Fill::none;
  std::size_t limit = 0;                 // 0: max_rows
};

struct Result {
  std::string series;
  Tier tier = Tier::raw;
  std::vector<Row> rows;
  bool found = false;  // the series exists
};

inline constexpr std::size_t max_rows = 1'000'000;

class QueryEngine {
 public:
  QueryEngine(store::LmdbEnv& env, HistoryDbs dbs) : env_(env), dbs_(dbs) {}

  std::vector<SeriesInfo> series(std::string_view filter) const;
  std::optional<SeriesInfo> find(std::string_view name) const;
  // false with `error` for a query that cannot be answered (too many buckets).
  bool run(const Query& q, Result& out, std::string& error) const;

 private:
  // Calls fn with the points in [from, to) in time order while it returns true.
  void read_points(MDB_txn* txn, std::uint32_t sid, std::int64_t from, std::int64_t to,
                   const std::function<bool(const Point&)>& fn) const;
  void read_rollups(MDB_txn* txn, MDB_dbi dbi, std::uint32_t sid, std::int64_t from, std::int64_t to,
                    std::int64_t interval, std::map<std::int64_t, Rollup>& out) const;

  store::LmdbEnv& env_;
  HistoryDbs dbs_;
};

}  // namespace strata::historian
