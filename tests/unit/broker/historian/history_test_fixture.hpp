// A historian store on a temporary LMDB environment, written with the same
// calls the store writer makes (apply ... before_commit, commit), and its
// query engine.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <memory>

#include <gtest/gtest.h>

#include "broker/historian/history_store.hpp"
#include "broker/historian/query.hpp"

namespace strata::historian {

class HistoryFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/strata-history-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    env_ = std::make_unique<store::LmdbEnv>(dir_, config::Store{});
    dbs_ = HistoryDbs::open(*env_);
    reopen();
  }
  void TearDown() override {
    hs_.reset();
    engine_.reset();
    env_.reset();
    std::filesystem::remove_all(dir_);
  }
  // A fresh HistoryStore (as after a restart: nothing cached).
  void reopen() {
    hs_ = std::make_unique<HistoryStore>(*env_, dbs_, settings_, [this] { return now_; });
    engine_ = std::make_unique<QueryEngine>(*env_, dbs_);
  }
  // One transaction: fn's writes, then before_commit, then commit.
  void write(const std::function<int(MDB_txn*)>& fn) {
    MDB_txn* txn = nullptr;
    ASSERT_EQ(mdb_txn_begin(env_->env(), nullptr, 0, &txn), 0);
    int rc = fn(txn);
    if (rc == 0) rc = hs_->before_commit(txn);
    if (rc != 0) {
      mdb_txn_abort(txn);
      hs_->aborted();
      FAIL() << mdb_strerror(rc);
    }
    ASSERT_EQ(mdb_txn_commit(txn), 0);
  }
  void add(const std::string& series, std::int64_t t, double v) {
    write([&](MDB_txn* txn) { return hs_->add_point(txn, series, t, v); });
  }
  void add_all(const std::string& series, const std::vector<Point>& points) {
    write([&](MDB_txn* txn) {
      for (const Point& p : points) {
        if (int rc = hs_->add_point(txn, series, p.t, p.v)) return rc;
      }
      return 0;
    });
  }
  std::vector<Point> raw(const std::string& series, std::optional<std::int64_t> from = {},
                         std::optional<std::int64_t> to = {}) {
    Query q;
    q.series = series;
    q.from = from;
    q.to = to;
    Result r;
    std::string why;
    EXPECT_TRUE(engine_->run(q, r, why)) << why;
    std::vector<Point> out;
    for (const Row& row : r.rows) out.push_back({row.t, *row.v});
    return out;
  }

  std::string dir_;
  std::unique_ptr<store::LmdbEnv> env_;
  HistoryDbs dbs_;
  HistorianConfig settings_;
  std::int64_t now_ = 0;
  std::unique_ptr<HistoryStore> hs_;
  std::unique_ptr<QueryEngine> engine_;
};

}  // namespace strata::historian
