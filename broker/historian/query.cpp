#include "broker/historian/query.hpp"

#include <algorithm>
#include <functional>

#include "broker/router/topic.hpp"

namespace strata::historian {

namespace {

std::string_view view(const MDB_val& v) { return {static_cast<const char*>(v.mv_data), v.mv_size}; }

struct Cursor {
  MDB_cursor* c = nullptr;
  Cursor(MDB_txn* txn, MDB_dbi dbi) { store::check(mdb_cursor_open(txn, dbi, &c), "open a cursor"); }
  ~Cursor() { mdb_cursor_close(c); }
};

std::int64_t floor_to(std::int64_t t, std::int64_t step) { return t - t % step; }

// Splits a filter into its topic filter and field (empty: any).
void split_filter(std::string_view filter, std::string_view& topic, std::string_view& field) {
  for (std::size_t i = 0; i < filter.size(); ++i) {
    if (filter[i] != '#') continue;
    if ((i == 0 || filter[i - 1] == '/') && i + 1 == filter.size()) break;  // the wildcard
    topic = filter.substr(0, i);
    field = filter.substr(i + 1);
    return;
  }
  topic = filter;
  field = {};
}

}  // namespace

std::optional<Agg> parse_agg(std::string_view s) {
  if (s == "avg" || s == "mean") return Agg::avg;
  if (s == "min") return Agg::min;
  if (s == "max") return Agg::max;
  if (s == "sum") return Agg::sum;
  if (s == "count") return Agg::count;
  if (s == "first") return Agg::first;
  if (s == "last") return Agg::last;
  return std::nullopt;
}

std::optional<Fill> parse_fill(std::string_view s) {
  if (s == "none") return Fill::none;
  if (s == "null") return Fill::null;
  if (s == "previous") return Fill::previous;
  if (s == "linear") return Fill::linear;
  return std::nullopt;
}

std::string_view name_of(Agg a) {
  static constexpr std::string_view names[] = {"avg", "min", "max", "sum", "count", "first", "last"};
  return names[static_cast<unsigned>(a)];
}

std::string_view name_of(Tier t) {
  static constexpr std::string_view names[] = {"raw", "minute", "hour"};
  return names[static_cast<unsigned>(t)];
}

double value_of(const Rollup& r, Agg agg) {
  switch (agg) {
    case Agg::avg: return r.sum / r.count;
    case Agg::min: return r.min;
    case Agg::max: return r.max;
    case Agg::sum: return r.sum;
    case Agg::count: return r.count;
    case Agg::first: return r.first;
    case Agg::last: return r.last;
  }
  return 0;
}

std::vector<Row> bucket_rows(const std::map<std::int64_t, Rollup>& buckets, std::int64_t from, std::int64_t to,
                             std::int64_t interval, Agg agg, Fill fill, std::size_t limit) {
  std::vector<Row> rows;
  if (limit == 0) limit = max_rows;
  if (fill == Fill::none) {
    for (const auto& [t, r] : buckets) {
      if (rows.size() >= limit) break;
      if (t < floor_to(from, interval) || t >= to || r.empty()) continue;
      rows.push_back({t, value_of(r, agg)});
    }
    return rows;
  }
  std::optional<double> previous;
  for (std::int64_t t = floor_to(from, interval); t < to && rows.size() < limit; t += interval) {
    auto it = buckets.find(t);
    if (it != buckets.end() && !it->second.empty()) {
      previous = value_of(it->second, agg);
      rows.push_back({t, previous});
      continue;
    }
    Row row{t, std::nullopt};
    if (fill == Fill::previous) {
      row.v = previous;
    } else if (fill == Fill::linear && previous) {
      // The nearest non-empty buckets on both sides.
      auto next = buckets.upper_bound(t);
      while (next != buckets.end() && next->second.empty()) ++next;
      auto prev = std::make_reverse_iterator(buckets.lower_bound(t));
      while (prev != buckets.rend() && prev->second.empty()) ++prev;
      if (next != buckets.end() && next->first < to && prev != buckets.rend()) {
        double v0 = value_of(prev->second, agg), v1 = value_of(next->second, agg);
        double f = static_cast<double>(t - prev->first) / static_cast<double>(next->first - prev->first);
        row.v = v0 + (v1 - v0) * f;
      }
    }
    rows.push_back(row);
  }
  return rows;
}

bool series_matches(std::string_view filter, std::string_view series) {
  std::string_view ftopic, ffield;
  split_filter(filter, ftopic, ffield);
  std::string_view topic = series, field;
  if (auto hash = series.find('#'); hash != std::string_view::npos) {
    topic = series.substr(0, hash);
    field = series.substr(hash + 1);
  }
  if (!ffield.empty() && ffield != field) return false;
  return router::topic_matches(ftopic, topic);
}

std::vector<SeriesInfo> QueryEngine::series(std::string_view filter) const {
  std::vector<SeriesInfo> out;
  store::ReadTxn txn(env_);
  Cursor cur(txn.get(), dbs_.series);
  // Without wildcards in the topic part, only names with that prefix.
  std::string_view ftopic, ffield;
  split_filter(filter, ftopic, ffield);
  const bool exact = ftopic.find_first_of("+#") == std::string_view::npos;
  MDB_val k{ftopic.size(), const_cast<char*>(ftopic.data())}, v;
  int rc = exact && !ftopic.empty() ? mdb_cursor_get(cur.c, &k, &v, MDB_SET_RANGE)
                                    : mdb_cursor_get(cur.c, &k, &v, MDB_FIRST);
  for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(cur.c, &k, &v, MDB_NEXT)) {
    std::string_view name = view(k);
    if (exact && name.substr(0, ftopic.size()) != ftopic) break;
    if (!series_matches(filter, name)) continue;
    SeriesInfo info;
    info.name = name;
    if (decode_series(view(v), info.rec)) out.push_back(std::move(info));
  }
  return out;
}

std::optional<SeriesInfo> QueryEngine::find(std::string_view name) const {
  store::ReadTxn txn(env_);
  MDB_val k{name.size(), const_cast<char*>(name.data())}, v;
  if (mdb_get(txn.get(), dbs_.series, &k, &v) != MDB_SUCCESS) return std::nullopt;
  SeriesInfo info;
  info.name = name;
  if (!decode_series(view(v), info.rec)) return std::nullopt;
  return info;
}

void QueryEngine::read_points(MDB_txn* txn, std::uint32_t sid, std::int64_t from, std::int64_t to,
                              const std::function<bool(const Point&)>& fn) const {
  Cursor cur(txn, dbs_.blocks);
  const std::string key = series_key(sid, from);
  MDB_val k{key.size(), const_cast<char*>(key.data())}, v;
  int rc = mdb_cursor_get(cur.c, &k, &v, MDB_SET_RANGE);
  std::uint32_t ksid;
  std::int64_t kt;
  // The block that covers `from` is the last one starting at or before it.
  if (rc != MDB_SUCCESS || !split_series_key(view(k), ksid, kt) || ksid != sid || kt != from) {
    MDB_val pk, pv;
    int prc = rc == MDB_SUCCESS ? mdb_cursor_get(cur.c, &pk, &pv, MDB_PREV) : mdb_cursor_get(cur.c, &pk, &pv, MDB_LAST);
    if (prc == MDB_SUCCESS && split_series_key(view(pk), ksid, kt) && ksid == sid) {
      k = pk;
      v = pv;
      rc = MDB_SUCCESS;
    } else {
      k = MDB_val{key.size(), const_cast<char*>(key.data())};
      rc = mdb_cursor_get(cur.c, &k, &v, MDB_SET_RANGE);
    }
  }
  std::vector<Point> points;
  for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(cur.c, &k, &v, MDB_NEXT)) {
    if (!split_series_key(view(k), ksid, kt) || ksid != sid || kt >= to) break;
    BlockInfo info;
    if (!read_block_info(view(v), info) || info.last < from) continue;
    points.clear();
    if (!decode_block(view(v), points)) continue;  // damaged: skipped
    for (const Point& p : points) {
      if (p.t < from) continue;
      if (p.t >= to || !fn(p)) return;
    }
  }
}

void QueryEngine::read_rollups(MDB_txn* txn, MDB_dbi dbi, std::uint32_t sid, std::int64_t from, std::int64_t to,
                               std::int64_t interval, std::map<std::int64_t, Rollup>& out) const {
  Cursor cur(txn, dbi);
  std::string key = series_key(sid, from);
  MDB_val k{key.size(), key.data()}, v;
  for (int rc = mdb_cursor_get(cur.c, &k, &v, MDB_SET_RANGE); rc == MDB_SUCCESS;
       rc = mdb_cursor_get(cur.c, &k, &v, MDB_NEXT)) {
    std::uint32_t ksid;
    std::int64_t kt;
    if (!split_series_key(view(k), ksid, kt) || ksid != sid || kt >= to) break;
    Rollup r;
    if (decode_rollup(view(v), kt, r)) out[floor_to(kt, interval)].merge(r);
  }
}

bool QueryEngine::run(const Query& q, Result& out, std::string& error) const {
  out = Result{};
  out.series = q.series;
  const std::size_t limit = q.limit == 0 ? max_rows : std::min(q.limit, max_rows);
  store::ReadTxn txn(env_);
  MDB_val k{q.series.size(), const_cast<char*>(q.series.data())}, v;
  SeriesRecord rec;
  if (mdb_get(txn.get(), dbs_.series, &k, &v) != MDB_SUCCESS || !decode_series(view(v), rec)) return true;
  out.found = true;
  // An open end is where the data ends (and is on every boundary).
  const bool open_from = !q.from, open_to = !q.to;
  std::int64_t from = q.from.value_or(rec.first_t);
  std::int64_t to = q.to.value_or(rec.last_t + 1);
  from = std::max<std::int64_t>(from, 0);
  if (to <= from) return true;
  if (q.interval == 0) {
    if (rec.count == 0) return true;  // (rollups may remain)
    read_points(txn.get(), rec.sid, from, to, [&](const Point& p) {
      out.rows.push_back({p.t, p.v});
      return out.rows.size() < limit;
    });
    return true;
  }
  auto aligned = [&](std::int64_t g) {
    return q.interval % g == 0 && (open_from || from % g == 0) && (open_to || to % g == 0);
  };
  out.tier = aligned(hour_ms) ? Tier::hour : aligned(minute_ms) ? Tier::minute : Tier::raw;
  const MDB_dbi tier_dbi = out.tier == Tier::hour ? dbs_.hour : dbs_.minute;
  if (open_from && out.tier != Tier::raw) {
    // Rollups outlive raw points: start at the series' first rollup.
    Cursor cur(txn.get(), tier_dbi);
    std::string key = series_key(rec.sid, 0);
    MDB_val rk{key.size(), key.data()}, rv;
    std::uint32_t ksid;
    std::int64_t kt;
    if (mdb_cursor_get(cur.c, &rk, &rv, MDB_SET_RANGE) == MDB_SUCCESS && split_series_key(view(rk), ksid, kt) &&
        ksid == rec.sid) {
      from = std::min(from, kt);
    }
  }
  if (open_from) from = floor_to(from, q.interval);
  if (q.fill != Fill::none &&
      (to - floor_to(from, q.interval)) / q.interval > static_cast<std::int64_t>(max_rows)) {
    error = "the range holds more than " + std::to_string(max_rows) + " intervals; use a longer interval";
    return false;
  }
  std::map<std::int64_t, Rollup> buckets;
  if (out.tier != Tier::raw) {
    read_rollups(txn.get(), tier_dbi, rec.sid, from, to, q.interval, buckets);
  } else {
    // Points come in time order: one bucket is open at a time.
    std::int64_t open = -1;
    Rollup acc;
    read_points(txn.get(), rec.sid, from, to, [&](const Point& p) {
      std::int64_t b = floor_to(p.t, q.interval);
      if (b != open) {
        if (open >= 0) buckets[open] = acc;
        open = b;
        acc = Rollup{};
      }
      acc.add(p.t, p.v);
      return true;
    });
    if (open >= 0) buckets[open] = acc;
  }
  out.rows = bucket_rows(buckets, from, to, q.interval, q.agg, q.fill, limit);
  return true;
}

}  // namespace strata::historian
