// [[bridge]] tables: the common keys, a type's own keys, and errors with
// file:line for what is wrong.
#include "bridges/bridge_config.hpp"
#include "broker/uns/uns_config.hpp"

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
  config::Document doc{"strata.toml", toml::parse(text, std::string("strata.toml"))};
  return read_bridges(doc, test_types());
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
              HasSubstr("strata.toml:6:10: bridge.route.remote: template 'x/{0}': {0} is not a level"));
  EXPECT_THAT(error_of("[[bridge]]\nname = \"a\"\ntype = \"test\"\n[[bridge.route]]\nfilter = \"a\"\nremote = \"\"\n"),
              HasSubstr("strata.toml:6:10: bridge.route.remote is empty"));
  EXPECT_THAT(error_of("[[bridge]]\nname = \"a\"\ntype = \"test\"\n[[bridge.route]]\nfilter = \"a\"\nremote = \"{uns.site}\"\n"),
              HasSubstr("{uns.site} needs the unified namespace ([uns] enabled = true"));
  EXPECT_THAT(error_of("[[bridge]]\nname = \"a\"\ntype = \"test\"\noverflow = \"spill\"\n"),
              HasSubstr("bridge.overflow 'spill' is not valid; expected block, drop_oldest or drop_new"));
  EXPECT_THAT(error_of("[[bridge]]\ntype = \"test\"\n"), HasSubstr("has no name"));
}

TEST(BridgeConfig, OrderAndLiveThreshold) {
  auto bridges = parse("[[bridge]]\nname = \"a\"\ntype = \"test\"\n");
  EXPECT_EQ(bridges[0].config->order, Order::strict);
  EXPECT_EQ(bridges[0].config->live_threshold, 10000u);
  bridges = parse("[[bridge]]\nname = \"a\"\ntype = \"test\"\norder = \"live_first\"\nlive_threshold = 500\n");
  EXPECT_EQ(bridges[0].config->order, Order::live_first);
  EXPECT_EQ(bridges[0].config->live_threshold, 500u);
  EXPECT_THAT(error_of("[[bridge]]\nname = \"a\"\ntype = \"test\"\norder = \"newest\"\n"),
              HasSubstr("strata.toml:4:9: bridge.order 'newest' is not valid; expected strict or live_first"));
  EXPECT_THAT(error_of("[[bridge]]\nname = \"a\"\ntype = \"test\"\nlive_threshold = 0\n"),
              HasSubstr("strata.toml:4:18: bridge.live_threshold"));
}

// {uns.*} in a route's template: the topic's ISA-95 levels from [uns]'s
// model; an unknown level is an error with file:line.
TEST(BridgeConfig, UnsPlaceholdersUseTheNamespaceModel) {
  const char* uns = "[uns]\nenabled = true\n[[uns.namespace]]\nprefix = \"acme\"\n";
  auto bridges = parse(std::string(uns) +
                       "[[bridge]]\nname = \"a\"\ntype = \"test\"\n[[bridge.route]]\nfilter = \"acme/#\"\n"
                       "remote = \"{uns.site}/{uns.line}/{uns.tag}\"\n");
  ASSERT_EQ(bridges.size(), 1u);
  const BridgeConfig& b = *bridges[0].config;
  ASSERT_NE(b.namespaces, nullptr);
  TopicTemplate t = route_template(b.routes[0], b.routes[0].remote, b.namespaces);
  EXPECT_EQ(t.expand("acme/berlin/press/line1/cell2/temperature/max"), "berlin/line1/temperature/max");
  EXPECT_EQ(t.expand("other/x"), "//");  // not governed: the placeholders are empty
  EXPECT_THAT(error_of(std::string(uns) + "[[bridge]]\nname = \"a\"\ntype = \"test\"\n[[bridge.route]]\n"
                                          "filter = \"acme/#\"\nremote = \"{uns.plant}\"\n"),
              HasSubstr("strata.toml:10:10: bridge.route.remote: template '{uns.plant}': {uns.plant} is not a level of "
                        "the namespace; expected one of {uns.enterprise}, {uns.site}, {uns.area}, {uns.line}, "
                        "{uns.cell}, {uns.tag}"));
}

}  // namespace
}  // namespace strata::bridges
