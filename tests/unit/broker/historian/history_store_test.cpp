// The historian's storage on a real LMDB environment: blocks, late and
// out-of-order points, rollups that always equal the raw points, restart
// (cold cache), aborted transactions, retention and max_bytes.
#include "broker/historian/history_store.hpp"

#include <algorithm>
#include <random>

#include "tests/unit/broker/historian/history_test_fixture.hpp"

namespace strata::historian {
namespace {

constexpr std::int64_t t0 = 1'796'540'400'000;  // 2026-12-06T07:00:00Z

std::vector<Point> sensor(int n, std::int64_t start = t0, std::int64_t step = 1000) {
  std::vector<Point> out;
  for (int i = 0; i < n; ++i) out.push_back({start + i * step, std::round(std::sin(i / 30.0) * 1000) / 100});
  return out;
}

// Counts the blocks of a series and checks they are disjoint and ordered.
int blocks_of(MDB_env* env, MDB_dbi blocks) {
  MDB_txn* txn;
  mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn);
  MDB_cursor* c;
  mdb_cursor_open(txn, blocks, &c);
  MDB_val k, v;
  int n = 0;
  std::int64_t prev_last = -1;
  for (int rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
    BlockInfo info;
    EXPECT_TRUE(read_block_info({static_cast<char*>(v.mv_data), v.mv_size}, info));
    std::uint32_t sid;
    std::int64_t key_t;
    split_series_key({static_cast<char*>(k.mv_data), k.mv_size}, sid, key_t);
    EXPECT_LE(key_t, info.first);
    EXPECT_LE(prev_last, info.first);
    prev_last = info.last;
    ++n;
  }
  mdb_cursor_close(c);
  mdb_txn_abort(txn);
  return n;
}

Rollup rollup_of(const std::vector<Point>& pts, std::int64_t from, std::int64_t to) {
  Rollup r;
  for (const Point& p : pts) {
    if (p.t >= from && p.t < to) r.add(p.t, p.v);
  }
  return r;
}

using HistoryStoreTest = HistoryFixture;

TEST_F(HistoryStoreTest, InOrderPointsFillSealedBlocks) {
  auto pts = sensor(5000);
  for (std::size_t i = 0; i < pts.size(); i += 700) {
    add_all("s", std::vector<Point>(pts.begin() + i, pts.begin() + std::min(pts.size(), i + 700)));
  }
  EXPECT_EQ(raw("s"), pts);
  EXPECT_GE(blocks_of(env_->env(), dbs_.blocks), 5);
  // A range inside: [from, to).
  EXPECT_EQ(raw("s", pts[1500].t, pts[3500].t), std::vector<Point>(pts.begin() + 1500, pts.begin() + 3500));
  auto info = engine_->find("s");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->rec.count, 5000u);
  EXPECT_EQ(info->rec.first_t, pts.front().t);
  EXPECT_EQ(info->rec.last_t, pts.back().t);
  EXPECT_EQ(info->rec.last_v, pts.back().v);
}

TEST_F(HistoryStoreTest, OutOfOrderAndLatePointsLandInTimeOrder) {
  auto pts = sensor(4000, t0, 250);
  auto shuffled = pts;
  std::mt19937 rng(3);
  // Mostly in order, with a share of late points, some hours late.
  std::shuffle(shuffled.begin() + 3000, shuffled.end(), rng);
  std::shuffle(shuffled.begin(), shuffled.begin() + 200, rng);
  std::rotate(shuffled.begin(), shuffled.begin() + 100, shuffled.end());
  for (std::size_t i = 0; i < shuffled.size(); i += 97) {
    add_all("s", std::vector<Point>(shuffled.begin() + i, shuffled.begin() + std::min(shuffled.size(), i + 97)));
  }
  EXPECT_EQ(raw("s"), pts);
  blocks_of(env_->env(), dbs_.blocks);
  EXPECT_GT(hs_->counters().late_points.load(), 0u);
  // Every minute and hour rollup equals the points of its bucket.
  for (std::int64_t g : {minute_ms, hour_ms}) {
    Query q;
    q.series = "s";
    q.interval = g;
    q.agg = Agg::sum;
    Result r;
    std::string why;
    ASSERT_TRUE(engine_->run(q, r, why));
    EXPECT_EQ(r.tier, g == minute_ms ? Tier::minute : Tier::hour);
    for (const Row& row : r.rows) {
      EXPECT_NEAR(*row.v, rollup_of(pts, row.t, row.t + g).sum, 1e-9) << row.t;
    }
  }
}

TEST_F(HistoryStoreTest, APointBeforeTheFirstBlockStartsOneOfItsOwn) {
  add_all("s", sensor(10, t0));
  add("s", t0 - 5000, 1.5);
  add("s", t0 - 9000, 2.5);
  add("s", t0 - 7000, 3.5);
  auto got = raw("s");
  ASSERT_EQ(got.size(), 13u);
  EXPECT_EQ(got[0], (Point{t0 - 9000, 2.5}));
  EXPECT_EQ(got[1], (Point{t0 - 7000, 3.5}));
  EXPECT_EQ(got[2], (Point{t0 - 5000, 1.5}));
  EXPECT_EQ(engine_->find("s")->rec.first_t, t0 - 9000);
}

TEST_F(HistoryStoreTest, RestartContinuesTheHeadBlock) {
  auto pts = sensor(1500);
  add_all("s", std::vector<Point>(pts.begin(), pts.begin() + 600));
  add_all("t", sensor(3));
  reopen();
  add_all("s", std::vector<Point>(pts.begin() + 600, pts.end()));
  add("u", t0, 1);
  EXPECT_EQ(raw("s"), pts);
  EXPECT_EQ(engine_->find("s")->rec.count, 1500u);
  // Series ids are not reused after a restart.
  std::uint32_t s = engine_->find("s")->rec.sid, t = engine_->find("t")->rec.sid, u = engine_->find("u")->rec.sid;
  EXPECT_NE(u, s);
  EXPECT_NE(u, t);
}

TEST_F(HistoryStoreTest, AnAbortedTransactionLeavesNoTrace) {
  add_all("s", sensor(10));
  MDB_txn* txn;
  ASSERT_EQ(mdb_txn_begin(env_->env(), nullptr, 0, &txn), 0);
  ASSERT_EQ(hs_->add_point(txn, "s", t0 + 60'000, 99), 0);
  ASSERT_EQ(hs_->add_point(txn, "new", t0, 1), 0);
  ASSERT_EQ(hs_->before_commit(txn), 0);
  mdb_txn_abort(txn);
  hs_->aborted();
  add("s", t0 + 61'000, 5);
  auto got = raw("s");
  ASSERT_EQ(got.size(), 11u);
  EXPECT_EQ(got.back(), (Point{t0 + 61'000, 5}));
  EXPECT_FALSE(engine_->find("new"));
}

TEST_F(HistoryStoreTest, RawMessagesAreLoggedWhenRecordPayloadsIsOn) {
  auto ptr = router::Message::make("plant/press", R"({"temp":21.5,"rpm":1200})");
  const router::Message& m = *ptr;
  write([&](MDB_txn* txn) { return hs_->add_message(txn, m, t0); });
  settings_.record_payloads = false;
  hs_->set_settings(settings_);
  write([&](MDB_txn* txn) { return hs_->add_message(txn, m, t0 + 1000); });
  EXPECT_EQ(hs_->counters().raw_messages.load(), 1u);
  EXPECT_EQ(raw("plant/press#temp").size(), 2u);
  EXPECT_EQ(raw("plant/press#rpm")[1], (Point{t0 + 1000, 1200}));
  MDB_txn* txn;
  mdb_txn_begin(env_->env(), nullptr, MDB_RDONLY, &txn);
  MDB_stat st;
  mdb_stat(txn, dbs_.raw, &st);
  EXPECT_EQ(st.ms_entries, 1u);
  mdb_txn_abort(txn);
}

TEST_F(HistoryStoreTest, RetentionPrunesEachTierInSteps) {
  settings_.raw_ms = 3'600'000;      // 1 h
  settings_.minute_ms = 86'400'000;  // 1 d
  settings_.hour_ms = 7 * 86'400'000LL;
  reopen();
  // 10 days of one point a minute: 14,400 points.
  auto pts = sensor(14'400, t0, 60'000);
  for (std::size_t i = 0; i < pts.size(); i += 2000) {
    add_all("s", std::vector<Point>(pts.begin() + i, pts.begin() + std::min(pts.size(), i + 2000)));
  }
  now_ = pts.back().t + 1;
  for (int i = 0; i < 100; ++i) write([&](MDB_txn* txn) { return hs_->prune_step(txn, now_); });
  auto left = raw("s");
  ASSERT_FALSE(left.empty());
  // Whole blocks go: what is left starts at most one block before the cutoff.
  EXPECT_GE(left.back().t, now_ - 3'600'000);
  EXPECT_LT(left.size(), 14'400u);
  EXPECT_EQ(engine_->find("s")->rec.count, left.size());
  EXPECT_EQ(engine_->find("s")->rec.first_t, left.front().t);
  Query q;
  q.series = "s";
  q.interval = minute_ms;
  q.agg = Agg::count;
  Result r;
  std::string why;
  ASSERT_TRUE(engine_->run(q, r, why));
  ASSERT_FALSE(r.rows.empty());
  EXPECT_GE(r.rows.front().t, now_ - 86'400'000);
  q.interval = hour_ms;
  q.from = 0;
  ASSERT_TRUE(engine_->run(q, r, why));
  ASSERT_FALSE(r.rows.empty());
  EXPECT_GE(r.rows.front().t, now_ - 7 * 86'400'000LL - hour_ms);
  EXPECT_GT(hs_->counters().pruned_rollups.load(), 0u);
}

TEST_F(HistoryStoreTest, MaxBytesDropsTheOldestRawDataFirst) {
  auto pts = sensor(40'000, t0, 1000);  // 11 hours
  for (std::size_t i = 0; i < pts.size(); i += 4000) {
    add_all("s", std::vector<Point>(pts.begin() + i, pts.begin() + std::min(pts.size(), i + 4000)));
  }
  // And a raw log.
  write([&](MDB_txn* txn) {
    for (int i = 0; i < 2000; ++i) {
      auto m = router::Message::make("x", std::to_string(i));
      if (int rc = hs_->add_message(txn, *m, t0 + i * 20'000)) return rc;
    }
    return 0;
  });
  now_ = pts.back().t;
  write([&](MDB_txn* txn) { return hs_->prune_step(txn, now_); });
  const std::uint64_t before = hs_->counters().bytes.load();
  settings_.max_bytes = before / 2;
  hs_->set_settings(settings_);
  for (int i = 0; i < 30; ++i) write([&](MDB_txn* txn) { return hs_->prune_step(txn, now_); });
  EXPECT_LE(hs_->counters().bytes.load(), before / 2)
      << "pruned blocks " << hs_->counters().pruned_blocks.load() << " messages " << hs_->counters().pruned_messages.load()
      << " size_pruned " << hs_->counters().size_pruned.load();
  EXPECT_GT(hs_->counters().size_pruned.load(), 0u);
  auto left = raw("s");
  ASSERT_FALSE(left.empty());
  EXPECT_EQ(left.back(), pts.back()) << "the newest data stays";
  EXPECT_GT(left.front().t, pts.front().t) << "the oldest went first";
  // Rollups are kept (only raw data is dropped for size).
  Query q;
  q.series = "s";
  q.interval = hour_ms;
  q.agg = Agg::count;
  Result r;
  std::string why;
  ASSERT_TRUE(engine_->run(q, r, why));
  double total = 0;
  for (const Row& row : r.rows) total += *row.v;
  EXPECT_EQ(total, 40'000);
}

}  // namespace
}  // namespace strata::historian
