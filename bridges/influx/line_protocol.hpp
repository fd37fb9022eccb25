// InfluxDB line protocol, the writing side:
//
//   measurement[,tag=value...] field=value[,field=value...] [timestamp]\n
//
// Escaping (as InfluxDB's parser reads it, and as Telegraf writes it):
//   measurement          ',' and ' ' are escaped with '\'
//   tag keys and values,
//   field keys           ',', '=' and ' ' are escaped with '\'
//   string field values  in double quotes; '"' and '\' are escaped with '\'
// Line protocol has no newline inside a line: '\n', '\r', '\t' and '\f' in
// names are written as the two characters "\n" etc. (so a line stays one
// line), and a trailing '\' is dropped from names (it would escape the
// separator after it). A tag whose value is empty is left out (InfluxDB
// rejects it). Field values: floats in their shortest exact form ("21.5",
// "1e+21"), integers with a trailing 'i', booleans as true/false; NaN and
// infinities cannot be written and are left out.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace strata::bridges::influx {

enum class Precision : std::uint8_t { s, ms, us, ns };

// "s", "ms", "us", "ns"
std::string_view to_string(Precision p) noexcept;
// Nanoseconds in one unit of `p`.
std::int64_t nanos_per_unit(Precision p) noexcept;

void append_measurement(std::string& out, std::string_view name);
void append_key(std::string& out, std::string_view key);  // tag key, tag value or field key
void append_string_value(std::string& out, std::string_view value);
// False (nothing written) for NaN and infinities.
bool append_float(std::string& out, double v);
void append_integer(std::string& out, std::int64_t v);

// Builds one line: measurement, then tags, then fields, then the time.
class LineBuilder {
 public:
  explicit LineBuilder(std::string& out) : out_(out), start_(out.size()) {}

  void measurement(std::string_view name) { append_measurement(out_, name); }
  // Tags must come before the first field; an empty value is left out.
  void tag(std::string_view key, std::string_view value);
  void field_float(std::string_view key, double v);
  void field_integer(std::string_view key, std::int64_t v);
  void field_bool(std::string_view key, bool v);
  void field_string(std::string_view key, std::string_view v);
  std::size_t fields() const noexcept { return fields_; }
  // Where the line begins in the output.
  std::size_t start() const noexcept { return start_; }
  // Ends the line with the timestamp and '\n'. Returns false, and takes the
  // partial line back out, when no field was written.
  bool finish(std::int64_t timestamp);
  // Takes the partial line back out.
  void abandon() { out_.resize(start_); }

 private:
  void field_key(std::string_view key);

  std::string& out_;
  std::size_t start_;
  std::size_t fields_ = 0;
};

}  // namespace strata::bridges::influx
