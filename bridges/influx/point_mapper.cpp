#include "bridges/influx/point_mapper.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <rapidjson/document.h>

namespace strata::bridges::influx {

std::string_view to_string(MapResult r) noexcept {
  switch (r) {
    case MapResult::line: return "line";
    case MapResult::not_mappable: return "not_mappable";
    case MapResult::no_fields: return "no_fields";
    case MapResult::no_measurement: return "no_measurement";
    case MapResult::bad_timestamp: return "bad_timestamp";
  }
  return "?";
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return s;
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

int digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

// Days since 1970-01-01 of a civil date (proleptic Gregorian).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

}  // namespace

bool parse_rfc3339(std::string_view s, std::int64_t& unix_ns) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  int y = digits(s, 0, 4), mo = digits(s, 5, 2), d = digits(s, 8, 2);
  int h = digits(s, 11, 2), mi = digits(s, 14, 2), sec = digits(s, 17, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 ||
      sec > 60 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
      s[16] != ':') {
    return false;
  }
  std::size_t pos = 19;
  std::int64_t frac_ns = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::int64_t scale = 100'000'000;
    std::size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac_ns += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return false;
  }
  if (pos >= s.size()) return false;
  std::int64_t offset_s = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh = digits(s, pos + 1, 2), om = digits(s, pos + 4, 2);
    if (oh < 0 || om < 0 || oh > 23 || om > 59 || s[pos + 3] != ':') return false;
    offset_s = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return false;
  }
  if (pos != s.size()) return false;
  std::int64_t secs = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
                      h * 3600 + mi * 60 + sec - offset_s;
  if (secs < -9'000'000'000LL || secs > 9'000'000'000LL) return false;
  unix_ns = secs * 1'000'000'000 + frac_ns;
  return true;
}

// What map() reuses from one message to the next: the JSON DOM's and the
// parser's memory (pools over fixed buffers, cleared after each message;
// only a payload larger than them takes more from the heap, given back at
// the clear) and the names it expands.
struct PointMapper::Scratch {
  using Pool = rapidjson::MemoryPoolAllocator<rapidjson::CrtAllocator>;
  // Its values are rapidjson::Value (the same allocator type); only the
  // parser's stack comes from a pool too, instead of malloc per parse.
  using Document = rapidjson::GenericDocument<rapidjson::UTF8<>, Pool, Pool>;
  alignas(16) char values_buf[8192];
  alignas(16) char stack_buf[2048];
  Pool values{values_buf, sizeof values_buf};
  Pool stack{stack_buf, sizeof stack_buf};
  std::string name;   // the measurement, raw
  std::string value;  // a tag value
  std::string path;   // a JSON field's path

  void clear() {
    values.Clear();
    stack.Clear();
  }
};

PointMapper::PointMapper(MapperOptions options) : options_(std::move(options)) {
  for (std::size_t i = 0; i < options_.topic_levels.size(); ++i) {
    const std::string& name = options_.topic_levels[i];
    if (!name.empty() && name != "_") level_tags_.emplace_back(name, TopicTemplate::compile("{" + std::to_string(i + 1) + "}"));
  }
}

PointMapper::~PointMapper() = default;
PointMapper::PointMapper(const PointMapper& other) : options_(other.options_), level_tags_(other.level_tags_) {}
PointMapper& PointMapper::operator=(const PointMapper& other) {
  if (this != &other) {
    options_ = other.options_;
    level_tags_ = other.level_tags_;
    scratch_.reset();
  }
  return *this;
}
PointMapper::PointMapper(PointMapper&&) noexcept = default;
PointMapper& PointMapper::operator=(PointMapper&&) noexcept = default;

PointMapper::Scratch& PointMapper::scratch() const {
  if (!scratch_) scratch_ = std::make_unique<Scratch>();
  return *scratch_;
}

namespace {

struct FieldWriter {
  const MapperOptions& o;
  LineBuilder& line;
  std::string& path;

  bool wanted(std::string_view p) const {
    if (p == o.timestamp_field) return false;
    return o.fields.empty() || contains(o.fields, p);
  }

  void number(std::string_view p, const rapidjson::Value& v) {
    if (contains(o.int_fields, p)) {
      if (v.IsInt64()) {
        line.field_integer(p, v.GetInt64());
        return;
      }
      double d = v.GetDouble();
      if (std::trunc(d) == d && d >= -9.2e18 && d <= 9.2e18) line.field_integer(p, static_cast<std::int64_t>(d));
      return;  // a fraction in an integer field would be a type conflict
    }
    line.field_float(p, v.GetDouble());
  }

  void value(const rapidjson::Value& v) {
    if (v.IsObject()) {
      std::size_t len = path.size();
      for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
        if (len != 0) path += '.';
        path.append(m->name.GetString(), m->name.GetStringLength());
        value(m->value);
        path.resize(len);
      }
      return;
    }
    if (!wanted(path)) return;
    if (v.IsNumber()) {
      number(path, v);
    } else if (v.IsBool()) {
      line.field_bool(path, v.GetBool());
    } else if (v.IsString()) {
      line.field_string(path, std::string_view(v.GetString(), v.GetStringLength()));
    }
  }
};

const rapidjson::Value* find_path(const rapidjson::Value& root, std::string_view path) {
  const rapidjson::Value* v = &root;
  while (!path.empty()) {
    if (!v->IsObject()) return nullptr;
    // The longest member name that is a prefix of the path ("a.b" may be
    // one key or two levels).
    const rapidjson::Value* next = nullptr;
    std::size_t used = 0;
    for (auto m = v->MemberBegin(); m != v->MemberEnd(); ++m) {
      std::string_view name(m->name.GetString(), m->name.GetStringLength());
      if (name.size() > used && path.starts_with(name) &&
          (path.size() == name.size() || path[name.size()] == '.')) {
        next = &m->value;
        used = name.size();
      }
    }
    if (!next) return nullptr;
    v = next;
    path.remove_prefix(std::min(path.size(), used + 1));
  }
  return v;
}

bool timestamp_of(const rapidjson::Value& v, TimeUnit unit, std::int64_t& ns) {
  if (v.IsString()) return parse_rfc3339(std::string_view(v.GetString(), v.GetStringLength()), ns);
  if (!v.IsNumber() || unit == TimeUnit::rfc3339) return false;
  static constexpr double kScale[] = {1e9, 1e6, 1e3, 1};
  double scale = kScale[static_cast<int>(unit)];
  if (v.IsInt64()) {
    std::int64_t n = v.GetInt64();
    std::int64_t k = static_cast<std::int64_t>(scale);
    if (n > INT64_MAX / k || n < INT64_MIN / k) return false;
    ns = n * k;
    return true;
  }
  double d = v.GetDouble() * scale;
  if (!std::isfinite(d) || d > 9.2e18 || d < -9.2e18) return false;
  ns = static_cast<std::int64_t>(std::llround(d));
  return true;
}

}  // namespace

MapResult PointMapper::map(std::string_view topic, std::string_view payload, std::int64_t received_ms,
                           std::string& out) const {
  Scratch& sc = scratch();
  LineBuilder line(out);
  sc.name.clear();
  options_.measurement.expand(topic, sc.name);
  if (sc.name.empty()) return MapResult::no_measurement;
  line.measurement(sc.name);
  if (out.size() == line.start()) return MapResult::no_measurement;
  for (const auto& tags : {&level_tags_, &options_.tags}) {
    for (const auto& [name, tmpl] : *tags) {
      sc.value.clear();
      tmpl.expand(topic, sc.value);
      line.tag(name, sc.value);
    }
  }

  std::int64_t ns = received_ms * 1'000'000;
  std::string_view text = trim(payload);
  double number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (!text.empty() && ec == std::errc() && end == text.data() + text.size()) {
    if (contains(options_.int_fields, options_.value_field)) {
      std::int64_t i = 0;
      auto [iend, iec] = std::from_chars(text.data(), text.data() + text.size(), i);
      if (iec == std::errc() && iend == text.data() + text.size()) {
        line.field_integer(options_.value_field, i);
      } else if (std::trunc(number) == number && std::abs(number) < 9.2e18) {
        line.field_integer(options_.value_field, static_cast<std::int64_t>(number));
      }
    } else {
      line.field_float(options_.value_field, number);
    }
  } else {
    // Normal precision (within a few ULP past 17 digits): the full-precision
    // path of the packaged RapidJSON normalises a zero significand with
    // clz(0) on inputs like 0.000...0 (40 zeros), which is undefined.
    MapResult result = MapResult::line;
    {
      Scratch::Document doc(&sc.values, 1024, &sc.stack);
      doc.Parse(text.data(), text.size());
      if (doc.HasParseError()) {
        result = MapResult::not_mappable;
      } else if (doc.IsObject()) {
        const auto* ts = options_.timestamp_field.empty() ? nullptr : find_path(doc, options_.timestamp_field);
        if (ts && !timestamp_of(*ts, options_.timestamp_unit, ns)) {
          result = MapResult::bad_timestamp;
        } else {
          sc.path.clear();
          FieldWriter w{options_, line, sc.path};
          w.value(doc);
        }
      } else if (doc.IsBool()) {
        line.field_bool(options_.value_field, doc.GetBool());
      } else {
        result = MapResult::not_mappable;
      }
    }
    sc.clear();
    if (result != MapResult::line) {
      line.abandon();
      return result;
    }
  }
  if (line.fields() == 0) {
    line.abandon();
    return MapResult::no_fields;
  }
  std::int64_t unit = nanos_per_unit(options_.precision);
  std::int64_t t = ns >= 0 ? ns / unit : -((-ns + unit - 1) / unit);
  line.finish(t);
  return MapResult::line;
}

}  // namespace strata::bridges::influx
