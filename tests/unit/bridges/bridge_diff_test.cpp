// The reload's diff of [[bridge]] tables (bridge_diff.hpp): which bridges
// are added, changed, removed or unchanged.
#include "bridges/bridge_diff.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace strata::bridges {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr std::string_view kRunning = R"(
[[bridge]]
name = "a"
type = "mqtt"
url = "tcp://x:1883"
[[bridge.route]]
filter = "plant/#"
remote = "edge/{topic}"

[[bridge]]
name = "b"
type = "mqtt"
url = "tcp://y:1883"

[[bridge]]
name = "c"
type = "kafka"
brokers = "k:9092"
)";

BridgeDiff diff(std::string_view running, std::string_view fresh) {
  toml::table r = toml::parse(running);
  toml::table f = toml::parse(fresh);
  return diff_bridges(bridge_tables(r), bridge_tables(f));
}

TEST(BridgeDiff, SameFileChangesNothing) {
  BridgeDiff d = diff(kRunning, kRunning);
  EXPECT_TRUE(d.empty());
  EXPECT_THAT(d.unchanged, ElementsAre("a", "b", "c"));
}

TEST(BridgeDiff, OrderCommentsAndLayoutChangeNothing) {
  BridgeDiff d = diff(kRunning, R"(
# moved around
[[bridge]]
name = "c"
brokers = "k:9092"
type = "kafka"

[[bridge]]
type = "mqtt"
name = "b"
url   =   "tcp://y:1883"   # same value

[[bridge]]
name = "a"
type = "mqtt"
url = "tcp://x:1883"
[[bridge.route]]
remote = "edge/{topic}"
filter = "plant/#"
)");
  EXPECT_TRUE(d.empty());
  EXPECT_THAT(d.unchanged, ElementsAre("c", "b", "a"));
}

TEST(BridgeDiff, AddedChangedRemovedUnchanged) {
  BridgeDiff d = diff(kRunning, R"(
[[bridge]]
name = "a"
type = "mqtt"
url = "tcp://x:1883"
[[bridge.route]]
filter = "plant/#"
remote = "edge2/{topic}"

[[bridge]]
name = "c"
type = "kafka"
brokers = "k:9092"

[[bridge]]
name = "d"
type = "mqtt"
url = "tcp://z:1883"
)");
  EXPECT_FALSE(d.empty());
  EXPECT_THAT(d.added, ElementsAre("d"));
  EXPECT_THAT(d.changed, ElementsAre("a"));  // a route's remote template
  EXPECT_THAT(d.removed, ElementsAre("b"));
  EXPECT_THAT(d.unchanged, ElementsAre("c"));
}

TEST(BridgeDiff, AnyKeyCountsAsAChange) {
  // A key added (even with its default value), a value's type, a route added.
  BridgeDiff d = diff(kRunning, R"(
[[bridge]]
name = "a"
type = "mqtt"
url = "tcp://x:1883"
[[bridge.route]]
filter = "plant/#"
remote = "edge/{topic}"
[[bridge.route]]
filter = "more/#"

[[bridge]]
name = "b"
type = "mqtt"
url = "tcp://y:1883"
enabled = true

[[bridge]]
name = "c"
type = "kafka"
brokers = "k:9093"
)");
  EXPECT_THAT(d.changed, ElementsAre("a", "b", "c"));
  EXPECT_THAT(d.added, IsEmpty());
  EXPECT_THAT(d.removed, IsEmpty());
}

TEST(BridgeDiff, RenamedIsRemovedAndAdded) {
  BridgeDiff d = diff(R"(
[[bridge]]
name = "old"
type = "mqtt"
url = "tcp://x:1883"
)",
                      R"(
[[bridge]]
name = "new"
type = "mqtt"
url = "tcp://x:1883"
)");
  EXPECT_THAT(d.added, ElementsAre("new"));
  EXPECT_THAT(d.removed, ElementsAre("old"));
}

TEST(BridgeDiff, NoBridgesBeforeOrAfter) {
  EXPECT_THAT(diff("", kRunning).added, ElementsAre("a", "b", "c"));
  EXPECT_THAT(diff(kRunning, "[broker]\n").removed, ElementsAre("a", "b", "c"));
  EXPECT_TRUE(diff("", "").empty());
}

}  // namespace
}  // namespace strata::bridges
