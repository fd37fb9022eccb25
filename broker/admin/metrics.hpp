// The Prometheus text format (version 0.0.4), written family by family.
//
// Every module adds a metrics source (Api::add_metrics): a function called
// on the admin thread for each scrape of GET /metrics, writing its
// families with a MetricsWriter. It may read only what is safe to read
// from another thread (the cores' relaxed-atomic Stats, a module's own
// atomics or mutex-guarded figures); anything a core owns must be copied
// out by that module (e.g. into atomics) beforehand.
//
// Conventions (https://prometheus.io/docs/practices/naming/): names start
// with "strata_", base units (seconds, bytes), counters end in "_total",
// no label per topic or per client (unbounded cardinality). Each family
// is written once: family() then its samples.
//
//   void my_metrics(admin::MetricsWriter& m) {
//     m.family("strata_bridge_messages_total", "counter", "Messages forwarded by a bridge");
//     for (auto& b : bridges) m.sample("strata_bridge_messages_total", b.sent, {{"bridge", b.name}});
//   }
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace strata::admin {

class MetricsWriter {
 public:
  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  // # HELP and # TYPE lines. `type`: counter, gauge, histogram, summary, untyped.
  void family(std::string_view name, std::string_view type, std::string_view help);
  // One sample line; `name` may carry a suffix of the family (_bucket, _sum, _count).
  void sample(std::string_view name, double value, Labels labels = {});
  void sample(std::string_view name, std::uint64_t value, Labels labels = {});
  void sample(std::string_view name, std::int64_t value, Labels labels = {});

  // A family with one sample.
  void counter(std::string_view name, std::string_view help, std::uint64_t value) {
    family(name, "counter", help);
    sample(name, value);
  }
  void gauge(std::string_view name, std::string_view help, double value) {
    family(name, "gauge", help);
    sample(name, value);
  }

  // A whole histogram family from cumulative counts: counts[i] observations
  // <= bounds[i], plus `count` in total (the +Inf bucket) and `sum`.
  void histogram(std::string_view name, std::string_view help, std::span<const double> bounds,
                 std::span<const std::uint64_t> cumulative, std::uint64_t count, double sum,
                 Labels labels = {});
  // The samples of one labelled series of a histogram family already begun with family().
  void histogram_samples(std::string_view name, std::span<const double> bounds,
                         std::span<const std::uint64_t> cumulative, std::uint64_t count, double sum,
                         Labels labels = {});

  const std::string& text() const noexcept { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void labels(Labels labels, std::string_view extra_name = {}, std::string_view extra_value = {});
  std::string out_;
};

// The content type of the text format.
inline constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace strata::admin
