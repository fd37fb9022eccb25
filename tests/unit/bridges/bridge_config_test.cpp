// [[bridge]] tables: the common keys, a type's own keys, and errors with
// file:line for what is wrong.
#include "bridges/bridge_config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace strata::bridges {
namespace {

using ::testing::HasSubstr;

class NullAdapter : public Adapter {
 public:
  void start(const AdapterContext&) override {}
  void deliver(Batch) override {}
  void stop() override {}
  std::string url;
};

AdapterTypes test_types() {
  AdapterTypes types;
  types.add(AdapterType{"test", {"url"}, [](const BridgeConfig&, const config::TableReader& r) {
                          auto a = std::make_unique<NullAdapter>();
                          r.text("url", a->url);
                          return std::unique_ptr<Adapter>(std::move(a));
                        }});
  return types;
}

std::vector<ParsedBridge> parse(std::string_view text) {
  toml::table root = toml::parse(text, std::string("strata.toml"));
  return read_bridges("strata.toml", root, test_types());
}

std::string error_of(std::string_view text) {
  try {
    parse(text);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(BridgeConfig, DefaultsAndRoutes) {
  auto bridges = parse(R"(
[[bridge]]
name = "factory"
type = "test"
url = "tcp://x:1883"
max_messages = 100
overflow = "drop_oldest"
[[bridge.route]]
filter = "plant/+/temp/#"
remote = "edge1/{1}/{#}"
qos = 1
retain = "clear"
[[bridge.route]]
direction = "in"
filter = "cmd/#"
)");
  ASSERT_EQ(bridges.size(), 1u);
  const BridgeConfig& b = *bridges[0].config;
  EXPECT_EQ(b.name, "factory");
  EXPECT_EQ(b.bounds.max_messages, 100u);
  EXPECT_EQ(b.bounds.overflow, Overflow::drop_oldest);
  EXPECT_EQ(b.bounds.max_bytes, 1ull << 30);
  EXPECT_EQ(b.max_hops, 8);
  EXPECT_EQ(b.hops_property, "strata-hops");
  ASSERT_EQ(b.routes.size(), 2u);
  EXPECT_EQ(b.routes[0].remote, "edge1/{1}/{#}");
  EXPECT_EQ(b.routes[0].qos, protocol::QoS::at_least_once);
  EXPECT_EQ(b.routes[0].retain, Route::Retain::clear);
  EXPECT_EQ(b.routes[1].direction, Route::Direction::in);
  EXPECT_EQ(b.routes[1].local, "{topic}");
  EXPECT_EQ(static_cast<NullAdapter*>(bridges[0].adapter.get())->url, "tcp://x:1883");
}

TEST(BridgeConfig, ErrorsNameFileAndLine) {
  EXPECT_THAT(error_of("[[bridge]]\nname = \"a\"\ntype = \"nope\"\n"),
              HasSubstr("strata.toml:3:8: bridge.type 'nope' is not valid; expected one of test"));
  EXPECT_THAT(error_of("[[bridge]]\nname = \"a\"\ntype = \"test\"\nbrokers = \"x\"\n"), HasSubstr("strata.toml:4"));
  EXPECT_THAT(error_of("[[bridge]]\nname = \"a b\"\ntype = \"test\"\n"), HasSubstr("bridge.name 'a b' is not valid"));
  EXPECT_THAT(error_of("[[bridge]]\nname = \"a\"\ntype = \"test\"\n[[bridge]]\nname = \"a\"\ntype = \"test\"\n"),
              HasSubstr("strata.toml:5:8: bridge.name 'a' is used by another"));
  EXPECT_THAT(error_of("[[bridge]]\nname = \"a\"\ntype = \"test\"\n[[bridge.route]]\nfilter = \"a/#/b\"\n"),
              HasSubstr("strata.toml:5:10: bridge.route.filter 'a/#/b' is not a valid topic filter"));
  EXPECT_THAT(error_of("[[bridge]]\nname = \"a\"\ntype = \"test\"\n[[bridge.route]]\nfilter = \"a\"\nremote = \"x/{0}\"\n"),
              HasSubstr("not a valid topic template"));
  EXPECT_THAT(error_of("[[bridge]]\nname = \"a\"\ntype = \"test\"\noverflow = \"spill\"\n"),
              HasSubstr("bridge.overflow 'spill' is not valid; expected block, drop_oldest or drop_new"));
  EXPECT_THAT(error_of("[[bridge]]\ntype = \"test\"\n"), HasSubstr("has no name"));
}

}  // namespace
}  // namespace strata::bridges
