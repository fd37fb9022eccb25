// From an MQTT message to one line of line protocol (line_protocol.hpp).
//
//   measurement   a topic template (topic_template.hpp); default "{-1}", the
//                 last topic level
//   tags          name -> topic template, e.g. { site = "{2}", line = "{3}" };
//                 `topic_levels` names the topic's levels and makes each named
//                 level a tag ("_" or "" skips a level); with neither, one
//                 tag topic = the whole topic
//   fields        a payload that is a plain number ("21.5"), or a JSON number
//                 or boolean, is the field `value_field` ("value"); a JSON
//                 object gives its numbers, booleans and strings, nested
//                 objects flattened with '.' ({"a":{"b":1}} -> a.b); arrays
//                 and nulls are left out. `fields` (when given) keeps only
//                 the listed paths.
//   numbers       are floats, except the paths in `int_fields`, which are
//                 written as integers ("7i") when their value is integral
//                 (InfluxDB fixes a field's type with its first point, so a
//                 field that is sometimes 7 and sometimes 7.5 must be a float)
//   time          from the payload field `timestamp_field` (a number in
//                 `timestamp_unit`, or an RFC 3339 text such as
//                 "2026-12-06T08:00:00.250Z"), else the receive time;
//                 written in `precision`
//
// A message that gives no line (no measurement, no field, a payload that is
// neither a number nor a JSON object, a timestamp that cannot be read) is
// skipped with the reason, for the bridge to count; nothing is sent for it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bridges/influx/line_protocol.hpp"
#include "bridges/template/topic_template.hpp"

namespace strata::bridges::influx {

enum class TimeUnit : std::uint8_t { s, ms, us, ns, rfc3339 };

struct MapperOptions {
  TopicTemplate measurement = TopicTemplate::compile("{-1}");
  std::vector<std::pair<std::string, TopicTemplate>> tags;  // in the order written
  std::vector<std::string> topic_levels;                    // names of levels 1, 2, ...
  std::vector<std::string> fields;                          // allow-list of paths; empty: all
  std::vector<std::string> int_fields;
  std::string value_field = "value";
  std::string timestamp_field;  // empty: the receive time
  TimeUnit timestamp_unit = TimeUnit::ms;
  Precision precision = Precision::ms;
};

enum class MapResult : std::uint8_t {
  line,            // one line appended
  not_mappable,    // the payload is neither a number nor a JSON object
  no_fields,       // nothing in it is a field (or `fields` kept none)
  no_measurement,  // the measurement template expanded to nothing
  bad_timestamp,   // timestamp_field is there but not a time
};
std::string_view to_string(MapResult r) noexcept;

// map() runs once per message on the bridge's thread. It parses a JSON
// payload with allocators over buffers the mapper keeps (a payload of up to
// a few KiB allocates nothing) and expands names into kept buffers: one
// mapper is for one thread at a time (a copy gets buffers of its own).
class PointMapper {
 public:
  explicit PointMapper(MapperOptions options);
  ~PointMapper();
  PointMapper(const PointMapper& other);
  PointMapper& operator=(const PointMapper& other);
  PointMapper(PointMapper&&) noexcept;
  PointMapper& operator=(PointMapper&&) noexcept;

  // Appends the message's line (with its '\n') to `out`, or nothing.
  // `received_ms`: the receive time in unix milliseconds.
  MapResult map(std::string_view topic, std::string_view payload, std::int64_t received_ms,
                std::string& out) const;

  const MapperOptions& options() const noexcept { return options_; }

 private:
  struct Scratch;
  Scratch& scratch() const;

  MapperOptions options_;
  std::vector<std::pair<std::string, TopicTemplate>> level_tags_;  // from topic_levels
  mutable std::unique_ptr<Scratch> scratch_;                       // made at the first map()
};

// Unix nanoseconds of an RFC 3339 time ("2026-12-06T08:00:00Z",
// "2026-12-06 08:00:00.123456+01:00"), or false.
bool parse_rfc3339(std::string_view text, std::int64_t& unix_ns);

}  // namespace strata::bridges::influx
