// What rules read of the broker's history (history.last, history.range):
// an interface the historian implements (broker/historian/historian.hpp),
// so the rule engine does not depend on the historian. Called on the core
// that runs the rule; implementations must be safe from any core.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace strata::rules {

class HistorySource {
 public:
  virtual ~HistorySource() = default;
  // The series' last point: (unix ms, value); nullopt when it has none.
  virtual std::optional<std::pair<std::int64_t, double>> last(std::string_view series) const = 0;
  // Aggregates of [from, to) per `interval` ms with `agg` ("avg", "min",
  // "max", "sum", "count", "first", "last"); empty intervals left out. At
  // most `max_rows` rows. false with `error` for a bad argument.
  virtual bool range(std::string_view series, std::int64_t from, std::int64_t to, std::int64_t interval,
                     std::string_view agg, std::size_t max_rows,
                     std::vector<std::pair<std::int64_t, double>>& out, std::string& error) const = 0;
};

}  // namespace strata::rules
