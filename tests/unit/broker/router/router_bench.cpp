// Micro-benchmarks of the router's hot paths (not part of the unit tests):
//   strata_router_bench --benchmark_filter=Match
// The subscription set is shaped like a plant's unified namespace:
// enterprise/site/area/line/cell/tag, with per-line wildcard subscribers, a
// few whole-site and '#' subscribers, and a shared group of workers.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "broker/router/retained_index.hpp"
#include "broker/router/topic.hpp"
#include "broker/router/topic_trie.hpp"

namespace strata::router {
namespace {

using session::SessionHandle;
using session::SessionRef;

constexpr int kSites = 10;
constexpr int kAreas = 10;
constexpr int kLines = 10;
constexpr int kCells = 10;

std::string topic_of(int site, int area, int line, int cell, int tag) {
  return "acme/site" + std::to_string(site) + "/area" + std::to_string(area) + "/line" +
         std::to_string(line) + "/cell" + std::to_string(cell) + "/tag" + std::to_string(tag);
}

struct Fixture {
  std::vector<SessionRef> sessions;
  TopicTrie trie;
  std::vector<std::string> topics;

  explicit Fixture(int per_cell) {
    auto add = [&](std::string_view filter, std::string_view group = {}) {
      sessions.push_back(std::make_shared<SessionHandle>("c" + std::to_string(sessions.size()), 1, 0));
      sessions.back()->online = true;
      Subscription s;
      s.subscriber = sessions.back();
      s.options.max_qos = protocol::QoS::at_least_once;
      trie.subscribe(filter, group, s);
    };
    for (int s = 0; s < kSites; ++s) {
      for (int a = 0; a < kAreas; ++a) {
        for (int l = 0; l < kLines; ++l) {
          const std::string line = "acme/site" + std::to_string(s) + "/area" + std::to_string(a) + "/line" +
                                   std::to_string(l);
          add(line + "/#");
          add(line + "/+/tag0");
          for (int c = 0; c < kCells; ++c) {
            for (int i = 0; i < per_cell; ++i) add(line + "/cell" + std::to_string(c) + "/tag" + std::to_string(i));
          }
        }
      }
      add("acme/site" + std::to_string(s) + "/#");
    }
    add("#");
    add("acme/+/+/+/+/tag1");
    for (int i = 0; i < 8; ++i) add("acme/#", "historians");
    std::mt19937 rng(1);
    for (int i = 0; i < 1024; ++i) {
      topics.push_back(topic_of(static_cast<int>(rng() % kSites), static_cast<int>(rng() % kAreas),
                                static_cast<int>(rng() % kLines), static_cast<int>(rng() % kCells),
                                static_cast<int>(rng() % (per_cell + 2))));
    }
  }
};

void BM_TrieMatch(benchmark::State& state) {
  Fixture f(static_cast<int>(state.range(0)));
  std::vector<Match> out;
  std::size_t i = 0;
  for (auto _ : state) {
    out.clear();
    f.trie.match(f.topics[i++ & 1023], nullptr, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["subscriptions"] = static_cast<double>(f.trie.subscription_count());
  state.counters["matches"] = static_cast<double>(out.size());
}
BENCHMARK(BM_TrieMatch)->Arg(1)->Arg(10)->Arg(50);

void BM_TrieSubscribeUnsubscribe(benchmark::State& state) {
  Fixture f(10);
  auto who = std::make_shared<SessionHandle>("churn", 1, 0);
  Subscription s;
  s.subscriber = who;
  std::size_t i = 0;
  for (auto _ : state) {
    const std::string& filter = f.topics[i++ & 1023];
    f.trie.subscribe(filter + "/x", "", s);
    f.trie.unsubscribe(filter + "/x", "", who.get());
  }
}
BENCHMARK(BM_TrieSubscribeUnsubscribe);

void BM_TopicMatches(benchmark::State& state) {
  const std::string filter = "acme/+/area3/#";
  const std::string topic = topic_of(1, 3, 4, 5, 6);
  for (auto _ : state) benchmark::DoNotOptimize(topic_matches(filter, topic));
}
BENCHMARK(BM_TopicMatches);

void BM_RetainedMatch(benchmark::State& state) {
  RetainedIndex r;
  for (int s = 0; s < kSites; ++s) {
    for (int a = 0; a < kAreas; ++a) {
      for (int l = 0; l < kLines; ++l) {
        for (int c = 0; c < kCells; ++c) {
          for (int t = 0; t < 5; ++t) {
            auto m = Message::make(topic_of(s, a, l, c, t), "42");
            r.set(m);
          }
        }
      }
    }
  }
  const std::vector<std::string> filters = {"acme/site1/area2/line3/cell4/tag0", "acme/site1/area2/line3/#",
                                            "acme/+/area2/+/cell4/tag0"};
  const std::string& filter = filters[static_cast<std::size_t>(state.range(0))];
  std::vector<MessagePtr> out;
  for (auto _ : state) {
    out.clear();
    r.match(filter, 0, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["retained"] = static_cast<double>(r.size());
  state.counters["matches"] = static_cast<double>(out.size());
}
BENCHMARK(BM_RetainedMatch)->DenseRange(0, 2);

}  // namespace
}  // namespace strata::router

BENCHMARK_MAIN();
