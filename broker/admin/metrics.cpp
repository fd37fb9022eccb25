#include "broker/admin/metrics.hpp"

#include <cmath>
#include <charconv>

namespace strata::admin {

namespace {
void escape(std::string& out, std::string_view s, bool quote) {
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

void number(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // the shortest form that reads back exactly
    out.append(buf, ec == std::errc() ? end : buf);
  }
}
}  // namespace

void MetricsWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  escape(out_, help, false);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void MetricsWriter::labels(Labels labels, std::string_view extra_name, std::string_view extra_value) {
  if (labels.size() == 0 && extra_name.empty()) return;
  out_ += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out_ += ',';
    first = false;
    out_ += k;
    out_ += "=\"";
    escape(out_, v, true);
    out_ += '"';
  }
  if (!extra_name.empty()) {
    if (!first) out_ += ',';
    out_ += extra_name;
    out_ += "=\"";
    out_ += extra_value;
    out_ += '"';
  }
  out_ += '}';
}

void MetricsWriter::sample(std::string_view name, double value, Labels l) {
  out_ += name;
  labels(l);
  out_ += ' ';
  number(out_, value);
  out_ += '\n';
}

void MetricsWriter::sample(std::string_view name, std::uint64_t value, Labels l) {
  out_ += name;
  labels(l);
  out_ += ' ';
  out_ += std::to_string(value);
  out_ += '\n';
}

void MetricsWriter::sample(std::string_view name, std::int64_t value, Labels l) {
  out_ += name;
  labels(l);
  out_ += ' ';
  out_ += std::to_string(value);
  out_ += '\n';
}

void MetricsWriter::histogram(std::string_view name, std::string_view help, std::span<const double> bounds,
                              std::span<const std::uint64_t> cumulative, std::uint64_t count, double sum,
                              Labels l) {
  family(name, "histogram", help);
  histogram_samples(name, bounds, cumulative, count, sum, l);
}

void MetricsWriter::histogram_samples(std::string_view name, std::span<const double> bounds,
                                      std::span<const std::uint64_t> cumulative, std::uint64_t count, double sum,
                                      Labels l) {
  std::string bucket = std::string(name) + "_bucket";
  for (std::size_t i = 0; i < bounds.size() && i < cumulative.size(); ++i) {
    std::string le;
    number(le, bounds[i]);
    out_ += bucket;
    labels(l, "le", le);
    out_ += ' ' + std::to_string(cumulative[i]) + '\n';
  }
  out_ += bucket;
  labels(l, "le", "+Inf");
  out_ += ' ' + std::to_string(count) + '\n';
  sample(std::string(name) + "_sum", sum, l);
  sample(std::string(name) + "_count", count, l);
}

}  // namespace strata::admin
