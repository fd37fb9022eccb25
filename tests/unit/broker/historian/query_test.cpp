// The query engine: every aggregate and fill mode against values computed
// here from the points, tier selection, series filters, and the HTTP-shaped
// answers (JSON, CSV, 400s).
#include "broker/historian/query.hpp"

#include <cmath>

#include <rapidjson/document.h>

#include "broker/historian/history_api.hpp"
#include "broker/historian/time_format.hpp"
#include "tests/unit/broker/historian/history_test_fixture.hpp"

namespace strata::historian {
namespace {

constexpr std::int64_t t0 = 1'796'540'400'000;  // 2026-12-06T07:00:00Z, on an hour

TEST(BucketRows, FillModes) {
  std::map<std::int64_t, Rollup> b;
  b[0].add(5, 10);
  b[30].add(31, 40);
  b[40].add(45, 0);
  auto rows = [&](Fill f) { return bucket_rows(b, 0, 60, 10, Agg::avg, f, 0); };
  auto none = rows(Fill::none);
  ASSERT_EQ(none.size(), 3u);
  EXPECT_EQ(none[1].t, 30);
  auto null = rows(Fill::null);
  ASSERT_EQ(null.size(), 6u);
  EXPECT_FALSE(null[1].v);
  EXPECT_FALSE(null[5].v);
  auto prev = rows(Fill::previous);
  EXPECT_EQ(*prev[1].v, 10);
  EXPECT_EQ(*prev[2].v, 10);
  EXPECT_EQ(*prev[5].v, 0);
  auto lin = rows(Fill::linear);
  EXPECT_EQ(*lin[1].v, 20);
  EXPECT_EQ(*lin[2].v, 30);
  EXPECT_FALSE(lin[5].v) << "no bucket after it";
  // Before the first non-empty bucket: nothing to interpolate from.
  auto late = bucket_rows(b, -20, 10, 10, Agg::avg, Fill::linear, 0);
  ASSERT_EQ(late.size(), 3u);
  EXPECT_FALSE(late[0].v);
  EXPECT_EQ(bucket_rows(b, 0, 60, 10, Agg::avg, Fill::null, 2).size(), 2u) << "limit";
}

TEST(SeriesFilter, TopicAndField) {
  EXPECT_TRUE(series_matches("plant/#", "plant/a/b#temp"));
  EXPECT_TRUE(series_matches("plant/+/b", "plant/a/b#temp"));
  EXPECT_TRUE(series_matches("plant/+/b", "plant/a/b"));
  EXPECT_TRUE(series_matches("plant/+/b#temp", "plant/a/b#temp"));
  EXPECT_FALSE(series_matches("plant/+/b#temp", "plant/a/b#rpm"));
  EXPECT_FALSE(series_matches("plant/+/b#temp", "plant/a/b"));
  EXPECT_TRUE(series_matches("#", "x"));
  EXPECT_TRUE(series_matches("a#x.y", "a#x.y"));
  EXPECT_FALSE(series_matches("a", "ab"));
}

class QueryTest : public HistoryFixture {
 protected:
  void SetUp() override {
    HistoryFixture::SetUp();
    // Two hours at 1 s with a 5-minute gap and a few ms of jitter.
    for (int i = 0; i < 7200; ++i) {
      if (i >= 1800 && i < 2100) continue;
      pts_.push_back({t0 + i * 1000 + (i * 7) % 5, std::round(std::sin(i / 100.0) * 5000) / 100});
    }
    add_all("m/temp", pts_);
  }
  Result run(Query q) {
    q.series = "m/temp";
    Result r;
    std::string why;
    EXPECT_TRUE(engine_->run(q, r, why)) << why;
    return r;
  }
  // Computed from the points alone.
  std::optional<double> expected(std::int64_t from, std::int64_t to, Agg agg) {
    std::vector<Point> in;
    for (const Point& p : pts_) {
      if (p.t >= from && p.t < to) in.push_back(p);
    }
    if (in.empty()) return std::nullopt;
    double sum = 0, mn = in[0].v, mx = in[0].v;
    for (const Point& p : in) {
      sum += p.v;
      mn = std::min(mn, p.v);
      mx = std::max(mx, p.v);
    }
    switch (agg) {
      case Agg::avg: return sum / static_cast<double>(in.size());
      case Agg::min: return mn;
      case Agg::max: return mx;
      case Agg::sum: return sum;
      case Agg::count: return static_cast<double>(in.size());
      case Agg::first: return in.front().v;
      case Agg::last: return in.back().v;
    }
    return std::nullopt;
  }
  std::vector<Point> pts_;
};

TEST_F(QueryTest, EveryAggregateOnEveryTier) {
  struct Case {
    std::int64_t from, to, interval;
    Tier tier;
  };
  const Case cases[] = {
      {t0, t0 + 7'200'000, minute_ms, Tier::minute},
      {t0, t0 + 7'200'000, 5 * minute_ms, Tier::minute},
      {t0, t0 + 7'200'000, hour_ms, Tier::hour},
      {t0, t0 + 7'200'000, 90'000, Tier::raw},             // not whole minutes
      {t0 + 30'000, t0 + 3'600'000, minute_ms, Tier::raw},  // from inside a minute
      {t0, t0 + 1'800'000, hour_ms, Tier::minute},        // to not on an hour
  };
  for (const Case& c : cases) {
    for (Agg agg : {Agg::avg, Agg::min, Agg::max, Agg::sum, Agg::count, Agg::first, Agg::last}) {
      Query q;
      q.from = c.from;
      q.to = c.to;
      q.interval = c.interval;
      q.agg = agg;
      Result r = run(q);
      EXPECT_EQ(r.tier, c.tier) << c.interval;
      std::size_t nonempty = 0;
      for (std::int64_t b = c.from - c.from % c.interval; b < c.to; b += c.interval) {
        if (expected(std::max(b, c.from), std::min(b + c.interval, c.to), agg)) ++nonempty;
      }
      ASSERT_EQ(r.rows.size(), nonempty) << name_of(agg) << " " << c.interval;
      for (const Row& row : r.rows) {
        auto want = expected(std::max(row.t, c.from), std::min(row.t + c.interval, c.to), agg);
        ASSERT_TRUE(want);
        EXPECT_NEAR(*row.v, *want, 1e-9 * std::max(1.0, std::fabs(*want))) << name_of(agg) << " at " << row.t;
      }
    }
  }
}

TEST_F(QueryTest, FillModesOverTheGap) {
  Query q;
  q.from = t0;
  q.to = t0 + 7'200'000;
  q.interval = minute_ms;
  q.agg = Agg::max;
  q.fill = Fill::none;
  EXPECT_EQ(run(q).rows.size(), 115u);
  for (Fill f : {Fill::null, Fill::previous, Fill::linear}) {
    q.fill = f;
    Result r = run(q);
    ASSERT_EQ(r.rows.size(), 120u);
    // Minutes 30..34 are empty.
    auto before = *expected(t0 + 29 * minute_ms, t0 + 30 * minute_ms, Agg::max);
    auto after = *expected(t0 + 35 * minute_ms, t0 + 36 * minute_ms, Agg::max);
    for (int m = 30; m < 35; ++m) {
      const Row& row = r.rows[static_cast<std::size_t>(m)];
      EXPECT_EQ(row.t, t0 + m * minute_ms);
      if (f == Fill::null) {
        EXPECT_FALSE(row.v);
      } else if (f == Fill::previous) {
        EXPECT_EQ(*row.v, before);
      } else {
        EXPECT_NEAR(*row.v, before + (after - before) * (m - 29) / 6.0, 1e-9);
      }
    }
  }
}

TEST_F(QueryTest, RawPointsWithLimit) {
  Query q;
  q.from = pts_[10].t;
  q.to = pts_[20].t;
  Result r = run(q);
  ASSERT_EQ(r.rows.size(), 10u);
  EXPECT_EQ(r.rows[0].t, pts_[10].t);
  EXPECT_EQ(*r.rows[9].v, pts_[19].v);
  q.limit = 3;
  EXPECT_EQ(run(q).rows.size(), 3u);
}

TEST_F(QueryTest, ApiAnswers) {
  std::string qs = "series=m%2Ftemp&from=2026-12-06T07:00:00Z&to=" + std::to_string(t0 + 180'000) +
                   "&interval=1m&agg=count";
  ApiAnswer a = dispatch(*engine_, "GET", "/api/v1/history", qs, "");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.body,
            R"({"results":[{"statement_id":0,"series":[{"name":"m/temp","tags":{"tier":"minute"},"columns":["time","count"],"values":[["2026-12-06T07:00:00.000Z",60],["2026-12-06T07:01:00.000Z",60],["2026-12-06T07:02:00.000Z",60]]}]}]})");
  a = dispatch(*engine_, "GET", "/api/v1/history", qs + "&format=csv&epoch=ms", "");
  EXPECT_EQ(a.content_type, "text/csv");
  EXPECT_EQ(a.body, "series,time,value\nm/temp," + std::to_string(t0) + ",60\nm/temp," + std::to_string(t0 + 60'000) +
                        ",60\nm/temp," + std::to_string(t0 + 120'000) + ",60\n");
  a = dispatch(*engine_, "POST", "/api/v1/history/query", "",
               R"({"series":["m/#"],"from":)" + std::to_string(t0) + R"(,"to":)" + std::to_string(t0 + 2000) + "}");
  ASSERT_EQ(a.status, 200) << a.body;
  rapidjson::Document d;
  d.Parse(a.body.c_str());
  ASSERT_TRUE(d.IsObject());
  EXPECT_EQ(d["results"][0]["series"][0]["values"].Size(), 2u);
  a = dispatch(*engine_, "GET", "/api/v1/history/series", "filter=m%2F%2B", "");
  EXPECT_EQ(a.body, R"({"series":[{"series":"m/temp","first":")" + format_rfc3339(pts_.front().t) + R"(","last":")" +
                        format_rfc3339(pts_.back().t) + R"(","first_ms":)" + std::to_string(pts_.front().t) +
                        R"(,"last_ms":)" + std::to_string(pts_.back().t) + R"(,"points":6900}]})");
  a = dispatch(*engine_, "GET", "/api/v1/history/last", "filter=%23&format=csv", "");
  EXPECT_EQ(a.body, "series,time,value\nm/temp," + format_rfc3339(pts_.back().t) + ",13.17\n");
}

TEST_F(QueryTest, BadRequestsSayWhatIsWrong) {
  struct Case {
    const char* qs;
    int status;
    const char* error;
  };
  const Case cases[] = {
      {"from=0", 400, "series is missing: name a series, e.g. series=plant/press#temperature"},
      {"series=m/temp&from=yesterday", 400, "from 'yesterday' is not a time; expected RFC 3339 or unix ms"},
      {"series=m/temp&interval=5", 400, "interval '5' is not a duration like 10s, 1m, 1h, 1d"},
      {"series=m/temp&interval=1m&agg=median", 400, "agg 'median' is not one of avg, min, max, sum, count, first, last"},
      {"series=m/temp&interval=1m&fill=zero", 400, "fill 'zero' is not one of none, null, previous, linear"},
      {"series=m/temp&fill=null", 400, "fill needs an interval"},
      {"series=m/temp&from=10&to=5", 400, "to must be after from"},
      {"series=m/temp&limit=-1", 400, "limit '-1' is not a positive integer"},
      {"series=m/temp&format=xml", 400, "format 'xml' is not json or csv"},
      {"series=m/temp&colour=red", 400, "unknown parameter 'colour'"},
      {"series=m/temp&from=0&to=9000000000000&interval=1s&fill=null", 400,
       "the range holds more than 1000000 intervals; use a longer interval"},
      {"series=nope", 404, "no series 'nope'"},
  };
  for (const Case& c : cases) {
    ApiAnswer a = dispatch(*engine_, "GET", "/api/v1/history", c.qs, "");
    EXPECT_EQ(a.status, c.status) << c.qs;
    EXPECT_EQ(a.body, std::string(R"({"code":")") + (c.status == 404 ? "NOT_FOUND" : "BAD_REQUEST") +
                          R"(","message":")" + c.error + "\"}")
        << c.qs;
  }
  EXPECT_EQ(dispatch(*engine_, "POST", "/api/v1/history/query", "", "[1]").status, 400);
  EXPECT_EQ(dispatch(*engine_, "GET", "/api/v1/history/query", "", "").status, 405);
  EXPECT_EQ(dispatch(*engine_, "GET", "/api/v1/history/nope", "", "").status, 404);
}

}  // namespace
}  // namespace strata::historian
