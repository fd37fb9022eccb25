// Micro-benchmarks of the namespace on the publish path (one core, no
// sockets): the hook's cost per message for a known topic with a typical
// 5-field contract, with 100 contracts loaded, without any, and the memory
// the catalog takes per topic. Numbers go to docs/benchmarks.md:
//   build/release/bin/strata_uns_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>
#include <malloc.h>

#include "broker/config/config.hpp"
#include "broker/uns/namespace_hook.hpp"

namespace {

using namespace strata;

constexpr const char* kSchema = R"({"type": "object", "required": ["timestamp_ms", "value", "unit"],
  "properties": {"timestamp_ms": {"type": "integer"}, "value": {"type": "number", "minimum": -50, "maximum": 500},
                 "unit": {"enum": ["C", "F"]}, "quality": {"type": "string"}, "sensor": {"type": "string"}},
  "additionalProperties": false})";
constexpr const char* kPayload =
    R"({"timestamp_ms": 1733400000000, "value": 21.5, "unit": "C", "quality": "good", "sensor": "pt100-7"})";

uns::UnsConfig config(int contracts) {
  uns::UnsConfig cfg = uns::read_uns_config(*config::load_string(
      "[uns]\nenabled = true\n[[uns.namespace]]\nprefix = \"acme\"\n", "bench.toml").document);
  for (int i = 0; i < contracts; ++i) {
    // The last one matches the benchmark's topic; the others do not.
    std::string filter = i + 1 == contracts ? "acme/+/+/+/+/temperature" : "acme/+/+/+/+/t" + std::to_string(i);
    cfg.contracts.push_back(
        std::make_shared<uns::Contract>("c" + std::to_string(i), filter, "1", uns::Shape::none, kSchema));
  }
  return cfg;
}

void run(benchmark::State& state, int contracts, bool enabled) {
  uns::UnsConfig cfg = config(contracts);
  cfg.enabled = enabled;
  uns::NamespaceHook hook(std::move(cfg), 1, nullptr, [] { return std::uint64_t{1733400000000}; });
  auto base = router::Message::make("acme/berlin/press/line1/cell1/temperature", kPayload);
  base->publisher = "plc-1";
  for (auto _ : state) {
    router::MessagePtr m = router::Message::copy(*base);  // as Client::make_message does
    benchmark::DoNotOptimize(hook.on_publish(m, 0));
  }
}

void BM_no_namespace(benchmark::State& s) { run(s, 0, false); }
void BM_catalog_only(benchmark::State& s) { run(s, 0, true); }
void BM_one_contract(benchmark::State& s) { run(s, 1, true); }
void BM_hundred_contracts(benchmark::State& s) { run(s, 100, true); }
BENCHMARK(BM_no_namespace);
BENCHMARK(BM_catalog_only);
BENCHMARK(BM_one_contract);
BENCHMARK(BM_hundred_contracts);

// Heap per catalogued topic: 100,000 and 1,000,000 topics of 36-37 bytes with a 21-byte
// JSON value each, one schema shared by all.
void BM_catalog_memory_per_topic(benchmark::State& state) {
  for (auto _ : state) {
    struct mallinfo2 before = mallinfo2();
    {
      uns::Catalog catalog(1'000'000);
      const std::string payload = R"({"value": 21.5000001})";
      rapidjson::Document doc;
      doc.Parse(payload.c_str());
      std::string topic;
      const auto n = static_cast<int>(state.range(0));
      for (int i = 0; i < n; ++i) {
        topic = "acme/berlin/press/line" + std::to_string(i % 100) + "/cell/t" + std::to_string(i);
        auto m = router::Message::make(topic, payload);
        m->publisher = "plc-000000000000001";
        bool created = false;
        uns::CatalogEntry& e = catalog.touch(m->topic, created);
        catalog.record(e, *m, &doc, 1, 1024);
      }
      struct mallinfo2 after = mallinfo2();
      double per = static_cast<double>(after.uordblks - before.uordblks) / n;
      state.counters["bytes_per_topic"] = per;
      state.counters["value_bytes"] = static_cast<double>(payload.size());
      state.counters["topic_bytes"] = static_cast<double>(topic.size());
    }
  }
}
BENCHMARK(BM_catalog_memory_per_topic)->Arg(100'000)->Arg(1'000'000)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
