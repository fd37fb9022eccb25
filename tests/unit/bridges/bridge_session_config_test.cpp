// [[bridge_session]] tables: client ids and patterns, the outbox bounds,
// errors with file:line; and the pattern matching itself.
#include "bridges/bridge_session_config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace strata::bridges {
namespace {

using ::testing::HasSubstr;

std::vector<BridgeSessionConfig> parse(std::string_view text) {
  config::Document doc{"strata.toml", toml::parse(text, std::string("strata.toml"))};
  return read_bridge_sessions(doc);
}

std::string error_of(std::string_view text) {
  try {
    parse(text);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(BridgeSessionConfig, NoneByDefault) { EXPECT_TRUE(parse("").empty()); }

TEST(BridgeSessionConfig, ReadsIdsAndBounds) {
  auto all = parse(R"(
[[bridge_session]]
client_id = "factory-*"
max_messages = 5000000
max_bytes = 2048
max_age = 86400
overflow = "drop_oldest"
block_timeout = 3

[[bridge_session]]
client_id = "corporate"
)");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].client_id, "factory-*");
  EXPECT_EQ(all[0].bounds.max_messages, 5'000'000u);
  EXPECT_EQ(all[0].bounds.max_bytes, 2048u);
  EXPECT_EQ(all[0].bounds.max_age, std::chrono::seconds(86400));
  EXPECT_EQ(all[0].bounds.overflow, Overflow::drop_oldest);
  EXPECT_EQ(all[0].bounds.block_timeout, std::chrono::seconds(3));
  EXPECT_EQ(all[0].where, "strata.toml:2:1");
  EXPECT_EQ(all[1].client_id, "corporate");
  EXPECT_EQ(all[1].bounds, OutboxBounds{});  // a bridge's defaults
}

TEST(BridgeSessionConfig, ErrorsSayWhere) {
  EXPECT_THAT(error_of("[[bridge_session]]\nmax_messages = 10\n"),
              HasSubstr("strata.toml:1:1: [[bridge_session]] has no client_id"));
  EXPECT_THAT(error_of("[[bridge_session]]\nclient_id = \"\"\n"), HasSubstr("strata.toml:2:13: bridge_session.client_id must be"));
  EXPECT_THAT(error_of("[[bridge_session]]\nclient_id = \"a\"\nurl = \"x\"\n"), HasSubstr("strata.toml:3:"));
  EXPECT_THAT(error_of("[[bridge_session]]\nclient_id = \"a\"\n[[bridge_session]]\nclient_id = \"a\"\n"),
              HasSubstr("strata.toml:4:13: bridge_session.client_id 'a' is named by another [[bridge_session]]"));
  EXPECT_THAT(error_of("[[bridge_session]]\nclient_id = \"a\"\noverflow = \"spill\"\n"),
              HasSubstr("strata.toml:3:12: bridge_session.overflow 'spill' is not valid"));
  EXPECT_THAT(error_of("[[bridge_session]]\nclient_id = \"a\"\nmax_messages = 0\n"), HasSubstr("strata.toml:3:"));
  EXPECT_THAT(error_of("bridge_session = 3\n"), HasSubstr("strata.toml:1:"));
}

TEST(BridgeSessionConfig, PatternsMatchAnyRunForStar) {
  EXPECT_TRUE(client_id_matches("factory-1", "factory-1"));
  EXPECT_FALSE(client_id_matches("factory-1", "factory-10"));
  EXPECT_FALSE(client_id_matches("factory-1", "factory-"));
  EXPECT_TRUE(client_id_matches("factory-*", "factory-"));
  EXPECT_TRUE(client_id_matches("factory-*", "factory-12"));
  EXPECT_FALSE(client_id_matches("factory-*", "factory"));
  EXPECT_FALSE(client_id_matches("factory-*", "xfactory-1"));
  EXPECT_TRUE(client_id_matches("*", ""));
  EXPECT_TRUE(client_id_matches("*", "anything/at+all#"));
  EXPECT_TRUE(client_id_matches("*-edge-*", "site1-edge-7"));
  EXPECT_TRUE(client_id_matches("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(client_id_matches("a*b*c", "aXbYbZ"));
  EXPECT_TRUE(client_id_matches("a**", "a"));
  EXPECT_FALSE(client_id_matches("", "a"));
  EXPECT_TRUE(client_id_matches("", ""));
}

TEST(BridgeSessionConfig, FirstMatchInFileOrderWins) {
  auto all = parse(R"(
[[bridge_session]]
client_id = "factory-1"
max_messages = 10
[[bridge_session]]
client_id = "factory-*"
max_messages = 20
)");
  ASSERT_NE(find_bridge_session(all, "factory-1"), nullptr);
  EXPECT_EQ(find_bridge_session(all, "factory-1")->bounds.max_messages, 10u);
  EXPECT_EQ(find_bridge_session(all, "factory-2")->bounds.max_messages, 20u);
  EXPECT_EQ(find_bridge_session(all, "edge-1"), nullptr);
  EXPECT_EQ(session_log_name("factory-1"), "session:factory-1");
}

}  // namespace
}  // namespace strata::bridges
