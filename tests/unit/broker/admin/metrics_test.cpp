#include "broker/admin/metrics.hpp"

#include <gtest/gtest.h>

namespace strata::admin {
namespace {

TEST(Metrics, FamiliesAndLabels) {
  MetricsWriter m;
  m.counter("strata_x_total", "X things", 5);
  m.family("strata_y_total", "counter", "Y by kind\nand \\ more");
  m.sample("strata_y_total", std::uint64_t{1}, {{"kind", "a\"b"}, {"listener", "tcp://127.0.0.1:1883"}});
  m.gauge("strata_z", "Z", 0.5);
  EXPECT_EQ(m.text(),
            "# HELP strata_x_total X things\n# TYPE strata_x_total counter\nstrata_x_total 5\n"
            "# HELP strata_y_total Y by kind\\nand \\\\ more\n# TYPE strata_y_total counter\n"
            "strata_y_total{kind=\"a\\\"b\",listener=\"tcp://127.0.0.1:1883\"} 1\n"
            "# HELP strata_z Z\n# TYPE strata_z gauge\nstrata_z 0.5\n");
}

TEST(Metrics, Histogram) {
  MetricsWriter m;
  const double bounds[] = {0.001, 0.01};
  const std::uint64_t cumulative[] = {2, 5};
  m.histogram("strata_h_seconds", "H", bounds, cumulative, 6, 0.25, {{"rule", "r"}});
  EXPECT_EQ(m.text(),
            "# HELP strata_h_seconds H\n# TYPE strata_h_seconds histogram\n"
            "strata_h_seconds_bucket{rule=\"r\",le=\"0.001\"} 2\n"
            "strata_h_seconds_bucket{rule=\"r\",le=\"0.01\"} 5\n"
            "strata_h_seconds_bucket{rule=\"r\",le=\"+Inf\"} 6\n"
            "strata_h_seconds_sum{rule=\"r\"} 0.25\n"
            "strata_h_seconds_count{rule=\"r\"} 6\n");
}

}  // namespace
}  // namespace strata::admin
