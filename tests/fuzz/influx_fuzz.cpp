// libFuzzer target for the influx bridge's parsers: the message mapper
// (bridges/influx/point_mapper.hpp: JSON payloads, RFC 3339 times), the
// answer classifier (write_answer.hpp: error bodies, Retry-After) with its
// line reader, and the write URL parser (write_endpoint.hpp).
//
// The input is "topic\npayload\nanswer body"; its first byte picks the
// mapper's options and the answer's status. Required: a mapped message is
// exactly one line ending in '\n' with no other newline, whose measurement
// line_shape() reads back non-empty with at least one field; a reject
// verdict names lines that exist, in increasing order.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "bridges/influx/point_mapper.hpp"
#include "bridges/influx/write_answer.hpp"
#include "bridges/influx/write_endpoint.hpp"

namespace {

using namespace strata::bridges;
using namespace strata::bridges::influx;

void require(bool ok) {
  if (!ok) __builtin_trap();
}

const PointMapper& mapper(unsigned which) {
  static const PointMapper plain{MapperOptions{}};
  static const PointMapper rich = [] {
    MapperOptions o;
    o.topic_levels = {"site", "_", "line"};
    o.tags.emplace_back("topic", TopicTemplate::compile("{topic}"));
    o.int_fields = {"count", "value", "a.b"};
    o.timestamp_field = "ts";
    o.timestamp_unit = TimeUnit::s;
    o.precision = Precision::ns;
    return PointMapper{o};
  }();
  static const PointMapper rfc = [] {
    MapperOptions o;
    o.measurement = TopicTemplate::compile("m{-2}{#}");
    o.timestamp_field = "t.x";
    o.timestamp_unit = TimeUnit::rfc3339;
    o.fields = {"v", "t.y"};
    return PointMapper{o};
  }();
  return which == 0 ? plain : which == 1 ? rich : rfc;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  unsigned pick = data[0];
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::size_t nl = in.find('\n');
  std::string_view topic = in.substr(0, nl);
  std::string_view rest = nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1);
  std::size_t nl2 = rest.find('\n');
  std::string_view payload = rest.substr(0, nl2);
  std::string_view body = nl2 == std::string_view::npos ? std::string_view() : rest.substr(nl2 + 1);

  std::string out;
  MapResult r = mapper(pick % 3).map(topic, payload, 1'765'000'000'123, out);
  LineBatch batch;
  if (r == MapResult::line) {
    require(!out.empty() && out.back() == '\n' && out.find('\n') == out.size() - 1);
    LineShape s = line_shape(std::string_view(out).substr(0, out.size() - 1));
    require(!s.measurement.empty() && !s.fields.empty());
    batch.add(out, 1);
  } else {
    require(out.empty());
  }
  batch.add(topic, 2);
  batch.add(payload, 3);

  static constexpr int kStatus[] = {0, 204, 400, 401, 404, 413, 422, 429, 500, 503};
  WriteAnswer a{kStatus[(pick >> 2) % 10], std::string(body), std::string(payload)};
  WriteVerdict v = classify(a, batch);
  if (v.action == WriteAction::reject) {
    require(!v.rejected.empty());
    for (std::size_t i = 0; i < v.rejected.size(); ++i) {
      require(v.rejected[i] < batch.size());
      if (i > 0) require(v.rejected[i - 1] < v.rejected[i]);
    }
  }
  std::int64_t ns = 0;
  (void)parse_rfc3339(payload, ns);
  try {
    HttpUrl u = parse_http_url(topic);
    require(!u.host.empty() && u.port != 0);
  } catch (const UrlError&) {
  }
  return 0;
}
