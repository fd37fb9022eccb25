// From a message to the numeric samples the historian records. Pure.
//
// - A plain payload that is a number ("21.5", " -3e2 ") or a boolean
//   ("true"/"false", recorded as 1/0) is one sample of the series {topic}.
// - A JSON object gives one sample per numeric or boolean field, at any
//   depth (arrays are skipped), of the series {topic}#{field.path}
//   ("plant/line1/press#temperature.inner").
// - Anything else (text, arrays, invalid JSON, an object without numbers)
//   gives no sample; only the raw message log keeps it.
//
// The time of the samples is the payload's timestamp field when one is
// named and present (a dotted path into the JSON object): a number is unix
// ms, or unix seconds when below 1e11 (fractions kept to the ms); a string
// is RFC 3339 or unix ms. The field itself is not a series. A timestamp
// that is missing or does not parse leaves the receive time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata::historian {

struct Sample {
  std::string series;
  std::int64_t t = 0;  // unix ms
  double v = 0;
};

// Appends the samples of one message to `out`; returns the time used.
std::int64_t extract_samples(std::string_view topic, std::string_view payload, std::int64_t received_ms,
                             std::string_view timestamp_field, std::vector<Sample>& out);

}  // namespace strata::historian
