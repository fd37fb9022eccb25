#include "bridges/influx/line_protocol.hpp"

#include <charconv>
#include <cmath>

namespace strata::bridges::influx {

std::string_view to_string(Precision p) noexcept {
  switch (p) {
    case Precision::s: return "s";
    case Precision::ms: return "ms";
    case Precision::us: return "us";
    case Precision::ns: return "ns";
  }
  return "ms";
}

std::int64_t nanos_per_unit(Precision p) noexcept {
  switch (p) {
    case Precision::s: return 1'000'000'000;
    case Precision::ms: return 1'000'000;
    case Precision::us: return 1'000;
    case Precision::ns: return 1;
  }
  return 1'000'000;
}

namespace {

void append_escaped(std::string& out, std::string_view s, bool escape_equals) {
  while (!s.empty() && s.back() == '\\') s.remove_suffix(1);
  for (char c : s) {
    switch (c) {
      case ',': out += "\\,"; break;
      case ' ': out += "\\ "; break;
      case '=':
        if (escape_equals) out += '\\';
        out += '=';
        break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\f': out += "\\f"; break;
      default: out += c;
    }
  }
}

}  // namespace

void append_measurement(std::string& out, std::string_view name) {
  // A line that starts with '#' is a comment to InfluxDB.
  if (!name.empty() && name[0] == '#') {
    out += '_';
    name.remove_prefix(1);
  }
  append_escaped(out, name, false);
}
void append_key(std::string& out, std::string_view key) { append_escaped(out, key, true); }

void append_string_value(std::string& out, std::string_view value) {
  out += '"';
  for (char c : value) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
  out += '"';
}

bool append_float(std::string& out, double v) {
  if (!std::isfinite(v)) return false;
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
  return true;
}

void append_integer(std::string& out, std::int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
  out += 'i';
}

void LineBuilder::tag(std::string_view key, std::string_view value) {
  while (!value.empty() && value.back() == '\\') value.remove_suffix(1);
  if (value.empty() || key.empty()) return;
  out_ += ',';
  append_key(out_, key);
  out_ += '=';
  append_key(out_, value);
}

void LineBuilder::field_key(std::string_view key) {
  out_ += fields_ == 0 ? ' ' : ',';
  append_key(out_, key);
  out_ += '=';
  ++fields_;
}

void LineBuilder::field_float(std::string_view key, double v) {
  if (!std::isfinite(v) || key.empty()) return;
  field_key(key);
  append_float(out_, v);
}

void LineBuilder::field_integer(std::string_view key, std::int64_t v) {
  if (key.empty()) return;
  field_key(key);
  append_integer(out_, v);
}

void LineBuilder::field_bool(std::string_view key, bool v) {
  if (key.empty()) return;
  field_key(key);
  out_ += v ? "true" : "false";
}

void LineBuilder::field_string(std::string_view key, std::string_view v) {
  if (key.empty()) return;
  field_key(key);
  append_string_value(out_, v);
}

bool LineBuilder::finish(std::int64_t timestamp) {
  if (fields_ == 0) {
    abandon();
    return false;
  }
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, timestamp);
  out_ += ' ';
  out_.append(buf, end);
  out_ += '\n';
  return true;
}

}  // namespace strata::bridges::influx
