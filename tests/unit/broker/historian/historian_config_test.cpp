// [historian]: the shipped file gives the defaults; every key is read; bad
// values name file:line:column.
#include "broker/historian/historian_config.hpp"

#include <gtest/gtest.h>

#include "broker/config/table_reader.hpp"

namespace strata::historian {
namespace {

std::string error_of(const std::string& text) {
  try {
    read_historian_config(config::load_string(text, "h.toml"));
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(HistorianConfig, ShippedFileHasTheDefaults) {
  EXPECT_EQ(read_historian_config(config::load_file(std::string(STRATA_SOURCE_DIR) + "/etc/strata.toml")),
            HistorianConfig{});
  EXPECT_EQ(read_historian_config(config::Config{}), HistorianConfig{});
}

TEST(HistorianConfig, EveryKeyIsRead) {
  HistorianConfig c = read_historian_config(config::load_string(R"([historian]
enabled = true
filters = ["plant/#", "site/+/temp"]
exclude = ["plant/secret/#"]
record_payloads = false
timestamp_field = "meta.ts"
raw = "2d"
minute = "30d"
hour = "1y"
max_bytes = 1000000
)",
                                                                 "h.toml"));
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.filters, (std::vector<std::string>{"plant/#", "site/+/temp"}));
  EXPECT_EQ(c.exclude, (std::vector<std::string>{"plant/secret/#"}));
  EXPECT_FALSE(c.record_payloads);
  EXPECT_EQ(c.timestamp_field, "meta.ts");
  EXPECT_EQ(c.raw_ms, 2 * 86'400'000LL);
  EXPECT_EQ(c.minute_ms, 30 * 86'400'000LL);
  EXPECT_EQ(c.hour_ms, 365 * 86'400'000LL);
  EXPECT_EQ(c.max_bytes, 1'000'000u);
}

TEST(HistorianConfig, BadValuesNameTheirPlace) {
  EXPECT_EQ(error_of("[historian]\nraw = \"500ms\"\n"),
            "h.toml:2:7: historian.raw '500ms' is not a retention; expected a duration of at least 1s like \"30s\", "
            "\"7d\", \"5y\"");
  EXPECT_EQ(error_of("[historian]\nfilters = [\"$share/g/a\"]\n"),
            "h.toml:2:11: historian.filters: '$share/g/a' is not a valid MQTT topic filter");
  EXPECT_EQ(error_of("[historian]\nmax_bytes = -1\n").substr(0, 12), "h.toml:2:13:");
  EXPECT_NE(error_of("[historian]\nretention = 5\n").find("unknown key 'retention' in [historian]"), std::string::npos);
}

}  // namespace
}  // namespace strata::historian
