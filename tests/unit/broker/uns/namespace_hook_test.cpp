#include "broker/uns/namespace_hook.hpp"

#include <gtest/gtest.h>

#include "broker/config/config.hpp"

namespace strata::uns {
namespace {

using core::HookVerdict;

UnsConfig load(const std::string& toml) { return read_uns_config(*config::load_string(toml, "t.toml").document); }

constexpr const char* kConfig = R"(
[uns]
enabled = true
[[uns.namespace]]
prefix = "acme"
[[uns.contract]]
name = "num"
filter = "acme/+/+/+/+/num"
shape = "number"
[[uns.contract]]
name = "soft"
filter = "acme/+/+/+/+/obs"
shape = "number"
action = "observe"
all = true
[[uns.contract]]
name = "ts"
filter = "acme/+/+/+/+/+"
shape = "timeseries"
action = "redirect"
)";

struct Hook {
  std::vector<router::MessagePtr> published;
  std::uint64_t now = 1000;
  NamespaceHook hook;
  explicit Hook(const std::string& toml = kConfig)
      : hook(load(toml), 2, [this](router::MessagePtr m, unsigned) { published.push_back(std::move(m)); },
             [this] { return now; }) {}
  HookVerdict run(router::MessagePtr& m, unsigned core = 0) { return hook.on_publish(m, core); }
};

router::MessagePtr msg(const std::string& topic, const std::string& payload) {
  auto m = router::Message::make(topic, payload);
  m->publisher = "dev";
  return m;
}

TEST(NamespaceHook, RejectsWithAReason) {
  Hook h;
  auto m = msg("acme/s/a/l/c/num", "\"7\"");
  EXPECT_EQ(h.run(m), HookVerdict::reject);
  core::Refusal r = h.hook.refusal(0);
  EXPECT_EQ(r.code, protocol::ReasonCode::payload_format_invalid);
  EXPECT_EQ(r.reason, "contract num v1: wrong_type at / (type)");
  auto ok = msg("acme/s/a/l/c/num", "7");
  EXPECT_EQ(h.run(ok), HookVerdict::pass);
  ASSERT_TRUE(ok->uns);
  EXPECT_TRUE(ok->uns->json_ok);
  EXPECT_EQ(ok->uns->json.GetInt(), 7);
  EXPECT_EQ(ok->uns->place->levels[1].second, "s");
  EXPECT_EQ(ok->uns->place->tag, "num");
  auto totals = h.hook.contract_totals();
  EXPECT_EQ(totals[0].first, "num");
  EXPECT_EQ(totals[0].second.second.matched, 2u);
  EXPECT_EQ(totals[0].second.second.passed, 1u);
  EXPECT_EQ(totals[0].second.second.by_kind[static_cast<std::size_t>(Kind::wrong_type)], 1u);
  EXPECT_EQ(h.hook.violations(0).size(), 1u);
  EXPECT_EQ(h.hook.violations(0).front().sample, "\"7\"");
}

TEST(NamespaceHook, ObserveThenAllGoesOn_RedirectReplaces) {
  Hook h;
  // "obs" matches soft (observe, all = true) and then ts (redirect).
  auto m = msg("acme/s/a/l/c/obs", "x");
  EXPECT_EQ(h.run(m), HookVerdict::pass);
  EXPECT_EQ(m->topic, "$uns/quarantine/acme/s/a/l/c/obs");
  EXPECT_EQ(m->properties->user_properties,
            (protocol::UserProperties{{"strata-contract", "ts"},
                                      {"strata-contract-version", "1"},
                                      {"strata-violation", "contract ts v1: not_json (invalid JSON at offset 0: Invalid value.)"}}));
  EXPECT_EQ(h.hook.totals().observed, 1u);
  EXPECT_EQ(h.hook.totals().redirected, 1u);
  auto fine = msg("acme/s/a/l/c/speed", R"({"timestamp_ms": 1, "value": 2})");
  EXPECT_EQ(h.run(fine), HookVerdict::pass);
  EXPECT_EQ(fine->topic, "acme/s/a/l/c/speed");
}

TEST(NamespaceHook, ModelViolationsAndDollarTopics) {
  Hook h;
  auto m = msg("acme/s", "1");
  EXPECT_EQ(h.run(m), HookVerdict::reject);
  EXPECT_EQ(h.hook.refusal(0).reason, "namespace:acme: model (too few levels: 2 of 5 (area is missing))");
  auto sys = msg("$SYS/x", "1");
  EXPECT_EQ(h.run(sys), HookVerdict::pass);
  EXPECT_FALSE(sys->uns);
  EXPECT_EQ(h.hook.catalog(0).find("$SYS/x"), nullptr);
  auto plain = msg("other/topic", "hello");  // neither governed nor JSON: nothing to attach
  EXPECT_EQ(h.run(plain), HookVerdict::pass);
  EXPECT_FALSE(plain->uns);
  EXPECT_NE(h.hook.catalog(0).find("other/topic"), nullptr);
}

TEST(NamespaceHook, DriftIsPublished) {
  Hook h;
  auto a = msg("x/y", R"({"a": 1})");
  h.run(a, 1);
  EXPECT_TRUE(h.published.empty());
  auto b = msg("x/y", R"({"a": 1, "b": "s"})");
  h.run(b, 1);
  ASSERT_EQ(h.published.size(), 1u);
  EXPECT_EQ(h.published[0]->topic, "$uns/drift/x/y");
  EXPECT_EQ(h.published[0]->payload,
            R"j({"topic":"x/y","time_ms":1000,"version":2,"changes":"+/b (string)",)j"
            R"j("fields":{"":"object","/a":"integer","/b":"string"},"client_id":"dev"})j");
  EXPECT_EQ(h.hook.totals().drift_events, 1u);
}

TEST(NamespaceHook, ReconfigureReplacesByNameAndKeepsCounters) {
  Hook h;
  auto m = msg("acme/s/a/l/c/num", "1");
  h.run(m);
  std::string toml = kConfig;
  toml.replace(toml.find("shape = \"number\""), 16, "shape = \"number\"\nversion = 2");
  std::string what = h.hook.reconfigure(load(toml), [](unsigned, std::function<void()> fn) { fn(); });
  EXPECT_EQ(what, "[uns] reloaded: 3 contract(s), 1 namespace(s); num v1 -> v2");
  auto bad = msg("acme/s/a/l/c/num", "x");
  EXPECT_EQ(h.run(bad), HookVerdict::reject);
  EXPECT_EQ(h.hook.refusal(0).reason.substr(0, 17), "contract num v2: ");
  auto totals = h.hook.contract_totals();
  EXPECT_EQ(totals[0].second.first, "2");
  EXPECT_EQ(totals[0].second.second.matched, 2u);
}

TEST(NamespaceHook, ContractsPutAndRemovedAtRunTime) {
  Hook h;
  auto m = msg("plant/speed", "\"fast\"");
  EXPECT_EQ(h.run(m), HookVerdict::pass);  // no contract matches
  auto c = std::make_shared<Contract>("speed", "plant/#", "3", Shape::number, "");
  EXPECT_EQ(h.hook.put_contract(c), "[uns] reloaded: 4 contract(s), 1 namespace(s); +speed v3");
  auto again = msg("plant/speed", "\"fast\"");
  EXPECT_EQ(h.run(again), HookVerdict::reject);
  EXPECT_EQ(h.hook.refusal(0).reason, "contract speed v3: wrong_type at / (type)");
  // Replaced in place by name: the new version observes.
  auto v4 = std::make_shared<Contract>("speed", "plant/#", "4", Shape::number, "");
  v4->action = Action::observe;
  EXPECT_EQ(h.hook.put_contract(v4), "[uns] reloaded: 4 contract(s), 1 namespace(s); speed v3 -> v4");
  auto observed = msg("plant/speed", "\"fast\"");
  EXPECT_EQ(h.run(observed), HookVerdict::pass);
  EXPECT_EQ(h.hook.contract_totals()[3].second.second.matched, 2u);  // v3 and v4: counters kept by name
  EXPECT_EQ(h.hook.remove_contract("speed"), "[uns] reloaded: 3 contract(s), 1 namespace(s); -speed");
  EXPECT_EQ(h.hook.remove_contract("speed"), "");
  auto free = msg("plant/speed", "\"fast\"");
  EXPECT_EQ(h.run(free), HookVerdict::pass);
  EXPECT_EQ(h.hook.contract_totals().size(), 3u);
}

TEST(NamespaceHook, RestoredTopicsJoinTheCatalog) {
  Hook h;
  SnapshotTopic t;
  t.first_ms = 10;
  t.last_ms = 20;
  t.count = 5;
  t.value = "7";
  t.publisher = "plc";
  h.hook.restore_topic(1, "acme/s/a/l/c/num", t);
  const CatalogEntry* e = h.hook.catalog(1).find("acme/s/a/l/c/num");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->count, 5u);
  EXPECT_EQ(e->value, "7");
  ASSERT_TRUE(e->place);  // placed in the model as a live topic is
  EXPECT_EQ(e->place->tag, "num");
  EXPECT_EQ(h.hook.totals().topics, 1u);
}

}  // namespace
}  // namespace strata::uns
