// strata-history-bench: the historian's append path and queries, measured
// on a scratch store (figures in docs/benchmarks.md).
//
//   strata-history-bench [DIR]    (default: a new directory under /tmp)
//
// Ingest runs HistoryStore the way the store writer does — a batch of
// appends, before_commit, one LMDB commit (durability none: no fsync, so
// the figure is the historian's own cost) — on one thread:
//   - one series at full speed (2,000,000 points, batches of 10,000);
//   - 10,000 series at 1 Hz (600 s of data, one batch per second);
//   - the same through add_message with JSON payloads of 4 fields
//     (parsing included), and with record_payloads on (raw log too).
// Storage: block bytes per point of each run. Queries: one day of 1 s data
// to 1-minute averages (minute tier, and from the raw points), a year of
// hourly rollups, the last value of 10,000 series. All figures are per
// CPU second of the bench's one thread (best of 5 for queries).
#include <stdlib.h>

#include <chrono>
#include <ctime>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>

#include "broker/historian/history_api.hpp"
#include "broker/historian/history_store.hpp"
#include "broker/historian/query.hpp"

namespace {

using namespace strata;
using namespace strata::historian;
// The process's CPU time: the machine the figures come from is shared, so
// rates are per CPU second (the bench is one thread).
double cpu_now() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }
struct Stopwatch {
  double cpu0 = cpu_now();
  double cpu() const { return cpu_now() - cpu0; }
};

struct Bench {
  std::string dir;
  std::unique_ptr<store::LmdbEnv> env;
  HistoryDbs dbs;
  std::unique_ptr<HistoryStore> hs;
  std::unique_ptr<QueryEngine> engine;

  Bench(const std::string& d, bool record_payloads) : dir(d) {
    config::Store st;
    st.durability = config::Durability::none;
    st.map_size = 1ull << 30;
    env = std::make_unique<store::LmdbEnv>(dir, st);
    dbs = HistoryDbs::open(*env);
    HistorianConfig cfg;
    cfg.record_payloads = record_payloads;
    hs = std::make_unique<HistoryStore>(*env, dbs, cfg, [] { return std::int64_t{0}; });
    engine = std::make_unique<QueryEngine>(*env, dbs);
  }
  template <class Fn>
  void txn(const Fn& fn) {
    MDB_txn* t = nullptr;
    if (mdb_txn_begin(env->env(), nullptr, 0, &t) != 0) std::abort();
    int rc = fn(t);
    if (rc == 0) rc = hs->before_commit(t);
    if (rc != 0 || mdb_txn_commit(t) != 0) {
      std::fprintf(stderr, "commit failed: %s\n", mdb_strerror(rc));
      std::abort();
    }
  }
  // Sum of block sizes / points.
  double bytes_per_point() {
    store::ReadTxn t(*env);
    MDB_cursor* c;
    mdb_cursor_open(t.get(), dbs.blocks, &c);
    MDB_val k, v;
    std::uint64_t bytes = 0, points = 0;
    for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
      BlockInfo info;
      read_block_info({static_cast<char*>(v.mv_data), v.mv_size}, info);
      bytes += v.mv_size;
      points += info.count;
    }
    mdb_cursor_close(c);
    return static_cast<double>(bytes) / static_cast<double>(points);
  }
};

constexpr std::int64_t t0 = 1'796'540'400'000;

std::string fresh(const std::string& base, const char* name) {
  std::string d = base + "/" + name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

template <class Fn>
double timed_ms(int reps, const Fn& fn) {
  auto best = 1e18;
  for (int i = 0; i < reps; ++i) {
    Stopwatch t;
    fn();
    best = std::min(best, t.cpu() * 1000);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  std::string base;
  if (argc > 1) {
    base = argv[1];
  } else {
    char tmpl[] = "/tmp/strata-history-bench-XXXXXX";
    if (!::mkdtemp(tmpl)) return 1;
    base = tmpl;
  }
  std::mt19937_64 rng(1);
  std::normal_distribution<double> noise(0, 1);
  std::uniform_int_distribution<int> jitter(-3, 3);

  {  // One series at full speed.
    Bench b(fresh(base, "one"), false);
    const int n = 2'000'000, batch = 10'000;
    double level = 21.5;
    Stopwatch start;
    for (int i = 0; i < n; i += batch) {
      b.txn([&](MDB_txn* t) {
        for (int j = i; j < i + batch; ++j) {
          level += noise(rng) * 0.01;
          if (int rc = b.hs->add_point(t, "plant/line1/press#temp", t0 + j * 10LL + jitter(rng),
                                       std::round(level * 100) / 100)) {
            return rc;
          }
        }
        return 0;
      });
    }
    double s = start.cpu();
    std::printf("ingest, 1 series, add_point:             %10.0f points/s  %.2f bytes/point\n", n / s,
                b.bytes_per_point());
  }
  {  // 10,000 series at 1 Hz.
    Bench b(fresh(base, "many"), false);
    const int series = 10'000, secs = 600;
    std::vector<std::string> names;
    std::vector<double> level(series, 50);
    for (int i = 0; i < series; ++i) names.push_back("plant/cell" + std::to_string(i / 10) + "/m" + std::to_string(i));
    Stopwatch start;
    for (int s = 0; s < secs; ++s) {
      b.txn([&](MDB_txn* t) {
        for (int i = 0; i < series; ++i) {
          level[i] += noise(rng) * 0.1;
          if (int rc = b.hs->add_point(t, names[i], t0 + s * 1000LL + jitter(rng), std::round(level[i] * 10) / 10)) {
            return rc;
          }
        }
        return 0;
      });
    }
    double sec = start.cpu();
    std::printf("ingest, 10,000 series at 1 Hz, add_point: %10.0f points/s  %.2f bytes/point\n",
                series * secs / sec, b.bytes_per_point());
    double ms = timed_ms(5, [&] {
      auto all = b.engine->series("#");
      if (all.size() != series) std::abort();
    });
    std::printf("query, last value of 10,000 series:       %10.2f ms\n", ms);
  }
  for (bool raw_log : {false, true}) {  // Messages with JSON payloads.
    Bench b(fresh(base, raw_log ? "json_raw" : "json"), raw_log);
    const int n = 200'000, batch = 2'000;
    Stopwatch start;
    for (int i = 0; i < n; i += batch) {
      b.txn([&](MDB_txn* t) {
        for (int j = i; j < i + batch; ++j) {
          char buf[160];
          std::snprintf(buf, sizeof buf, R"({"ts":%lld,"temp":%.2f,"rpm":%d,"ok":%s,"unit":"C"})",
                        static_cast<long long>(t0 + j * 100LL), 20 + std::sin(j / 50.0), 1000 + j % 9,
                        j % 2 ? "true" : "false");
          auto m = router::Message::make("plant/line1/press", buf);
          if (int rc = b.hs->add_message(t, *m, t0 + j * 100LL)) return rc;
        }
        return 0;
      });
    }
    double s = start.cpu();
    std::printf("ingest, JSON messages of 3 series%s: %8.0f messages/s = %.0f points/s\n",
                raw_log ? " + raw log" : ",           ", n / s, 3 * n / s);
  }
  {  // Queries over a day of 1 s data and a year of minutes.
    Bench b(fresh(base, "query"), false);
    double level = 21.5;
    for (int d = 0; d < 86'400; d += 10'000) {
      b.txn([&](MDB_txn* t) {
        for (int i = d; i < std::min(86'400, d + 10'000); ++i) {
          level += noise(rng) * 0.01;
          if (int rc = b.hs->add_point(t, "day", t0 + i * 1000LL, std::round(level * 100) / 100)) return rc;
        }
        return 0;
      });
    }
    for (int m = 0; m < 525'600; m += 50'000) {
      b.txn([&](MDB_txn* t) {
        for (int i = m; i < std::min(525'600, m + 50'000); ++i) {
          if (int rc = b.hs->add_point(t, "year", t0 + i * 60'000LL, std::round(level * 100) / 100)) return rc;
        }
        return 0;
      });
    }
    auto run = [&](Query q, Tier want, std::size_t rows) {
      Result r;
      std::string why;
      if (!b.engine->run(q, r, why) || r.tier != want || r.rows.size() != rows) {
        std::fprintf(stderr, "unexpected answer: %s %zu rows\n", why.c_str(), r.rows.size());
        std::abort();
      }
    };
    Query q;
    q.series = "day";
    q.from = t0;
    q.to = t0 + 86'400'000;
    q.interval = 60'000;
    std::printf("query, 1 day of 1 s data to 1 min avg, minute tier: %6.2f ms\n",
                timed_ms(5, [&] { run(q, Tier::minute, 1440); }));
    q.from = t0 + 1;  // not on a minute: from the raw points
    std::printf("query, 1 day of 1 s data to 1 min avg, raw points:  %6.2f ms\n",
                timed_ms(5, [&] { run(q, Tier::raw, 1440); }));
    q.series = "year";
    q.from = t0;
    q.to = t0 + 525'600 * 60'000LL;
    q.interval = 3'600'000;
    std::printf("query, 1 year of hourly rollups (8,760 rows):     %6.2f ms\n",
                timed_ms(5, [&] { run(q, Tier::hour, 8760); }));
    std::printf("query, the same as JSON through the API:          %6.2f ms\n", timed_ms(5, [&] {
                  Params p = {{"series", "year"},
                              {"from", std::to_string(t0)},
                              {"to", std::to_string(t0 + 525'600 * 60'000LL)},
                              {"interval", "1h"}};
                  if (get_history(*b.engine, p).status != 200) std::abort();
                }));
  }
  if (argc <= 1) std::filesystem::remove_all(base);
  return 0;
}
