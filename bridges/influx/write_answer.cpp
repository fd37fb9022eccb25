#include "bridges/influx/write_answer.hpp"

#include <algorithm>
#include <charconv>
#include <rapidjson/document.h>

namespace strata::bridges::influx {

std::string_view to_string(WriteAction a) noexcept {
  switch (a) {
    case WriteAction::ack: return "ack";
    case WriteAction::split: return "split";
    case WriteAction::reject: return "reject";
    case WriteAction::bisect: return "bisect";
    case WriteAction::pause: return "pause";
    case WriteAction::retry: return "retry";
  }
  return "?";
}

std::string error_text(std::string_view body) {
  std::string text(body);
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (!doc.HasParseError() && doc.IsObject()) {
    const rapidjson::Value& root = doc;
    for (const char* key : {"error", "message"}) {
      auto m = root.FindMember(key);
      if (m != root.MemberEnd() && m->value.IsString()) {
        text.assign(m->value.GetString(), m->value.GetStringLength());
        break;
      }
    }
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

namespace {

// Reads up to an unescaped character of `stops`, unescaping; returns the
// position of the stop (or the end).
std::size_t read_escaped(std::string_view line, std::size_t pos, std::string_view stops, std::string* out) {
  while (pos < line.size()) {
    char c = line[pos];
    if (c == '\\' && pos + 1 < line.size()) {
      if (out) *out += line[pos + 1];
      pos += 2;
      continue;
    }
    if (stops.find(c) != std::string_view::npos) return pos;
    if (out) *out += c;
    ++pos;
  }
  return pos;
}

std::string_view value_type(std::string_view v) {
  if (!v.empty() && v.front() == '"') return "string";
  if (v == "t" || v == "T" || v == "true" || v == "True" || v == "TRUE" || v == "f" || v == "F" || v == "false" ||
      v == "False" || v == "FALSE")
    return "boolean";
  if (!v.empty() && v.back() == 'i') return "integer";
  if (!v.empty() && v.back() == 'u') return "unsigned";
  return "float";
}

}  // namespace

LineShape line_shape(std::string_view line) {
  LineShape s;
  std::size_t pos = read_escaped(line, 0, ", ", &s.measurement);
  // Tags: skip to the unescaped space.
  pos = read_escaped(line, pos, " ", nullptr);
  if (pos < line.size()) ++pos;
  while (pos < line.size()) {
    std::string key;
    pos = read_escaped(line, pos, "=", &key);
    if (pos >= line.size()) break;
    ++pos;
    std::size_t vstart = pos;
    if (pos < line.size() && line[pos] == '"') {
      ++pos;
      while (pos < line.size() && line[pos] != '"') pos += line[pos] == '\\' ? 2 : 1;
      pos = std::min(pos + 1, line.size());
    } else {
      while (pos < line.size() && line[pos] != ',' && line[pos] != ' ') ++pos;
    }
    s.fields.emplace_back(std::move(key), value_type(line.substr(vstart, pos - vstart)));
    if (pos >= line.size() || line[pos] == ' ') break;
    ++pos;  // ','
  }
  return s;
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  long long secs = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), secs);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || secs < 0) return std::nullopt;
  return std::chrono::milliseconds(std::min(secs, 3600LL) * 1000);
}

std::chrono::milliseconds Backoff::next(double jitter) {
  current_ = current_.count() == 0 ? min_ : std::min(max_, current_ * 2);
  auto off = std::chrono::milliseconds(static_cast<long long>(static_cast<double>(current_.count()) * jitter / 4));
  return current_ - off;
}

namespace {

// What the error text says about which lines were refused.
struct Named {
  std::vector<std::size_t> lines;  // sorted
  std::size_t conflicts = 0;       // lines named by a field type conflict
  long long dropped = -1;          // its "dropped=N" (points refused after parsing), or -1
  bool conflict = false;           // it speaks of a field type conflict
};

Named named_lines(const std::string& text, const LineBatch& batch) {
  Named n;
  std::vector<char> hit(batch.size(), 0);
  // "unable to parse '<line>': why" (InfluxDB 1.x and 2.x).
  static constexpr std::string_view kParse = "unable to parse '";
  for (std::size_t p = text.find(kParse); p != std::string::npos; p = text.find(kParse, p + 1)) {
    std::string_view rest = std::string_view(text).substr(p + kParse.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      std::string_view l = batch.line(i);
      if (!hit[i] && rest.starts_with(l) && rest.size() > l.size() && rest[l.size()] == '\'') hit[i] = 1;
    }
  }
  // "input field \"F\" on measurement \"M\" is type T, already exists as type U"
  n.conflict = text.find("field type conflict") != std::string::npos;
  static constexpr std::string_view kField = "input field \"";
  for (std::size_t p = text.find(kField); p != std::string::npos; p = text.find(kField, p + 1)) {
    std::size_t f0 = p + kField.size();
    std::size_t f1 = text.find("\" on measurement \"", f0);
    if (f1 == std::string::npos) continue;
    std::size_t m0 = f1 + 18;
    std::size_t m1 = text.find("\" is type ", m0);
    if (m1 == std::string::npos) continue;
    std::size_t t0 = m1 + 10;
    std::size_t t1 = text.find_first_of(", ", t0);
    std::string field = text.substr(f0, f1 - f0), measurement = text.substr(m0, m1 - m0);
    std::string type = text.substr(t0, t1 == std::string::npos ? std::string::npos : t1 - t0);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      if (hit[i]) continue;
      LineShape s = line_shape(batch.line(i));
      if (s.measurement != measurement) continue;
      for (const auto& [k, t] : s.fields) {
        if (k == field && t == type && !hit[i]) {
          hit[i] = 2;
          ++n.conflicts;
        }
      }
    }
  }
  if (std::size_t d = text.rfind("dropped="); d != std::string::npos) {
    long long v = 0;
    auto [end, ec] = std::from_chars(text.data() + d + 8, text.data() + text.size(), v);
    if (ec == std::errc()) n.dropped = v;
  }
  for (std::size_t i = 0; i < hit.size(); ++i) {
    if (hit[i]) n.lines.push_back(i);
  }
  return n;
}

}  // namespace

WriteVerdict classify(const WriteAnswer& answer, const LineBatch& batch) {
  WriteVerdict v;
  const int s = answer.status;
  if (s >= 200 && s < 300) {
    v.action = WriteAction::ack;
    return v;
  }
  std::string text = error_text(answer.body);
  if (s == 0) {
    v.action = WriteAction::retry;
    v.reason = text.empty() ? "no answer" : text;
    return v;
  }
  v.reason = "HTTP " + std::to_string(s) + (text.empty() ? "" : ": " + text);
  if (s == 413) {
    if (batch.size() <= 1) {
      v.action = WriteAction::reject;
      v.rejected = {0};
      v.reason = "HTTP 413: the line alone is larger than the server accepts";
    } else {
      v.action = WriteAction::split;
    }
    return v;
  }
  if (s == 400 || s == 422) {
    // The refused lines are known when every one the answer counts is
    // named: parse errors by their text, type conflicts by measurement,
    // field and type, as many as its dropped=N (InfluxDB 1.6 answers a
    // conflict inside one write with only "field type conflict").
    Named n = named_lines(text, batch);
    bool conflicts_known = !n.conflict || (n.conflicts > 0 && (n.dropped < 0 || static_cast<std::size_t>(n.dropped) == n.conflicts));
    if (!n.lines.empty() && conflicts_known) {
      v.action = WriteAction::reject;
      v.rejected = std::move(n.lines);
    } else if (batch.size() <= 1) {
      v.action = WriteAction::reject;
      v.rejected = {0};
    } else {
      v.action = WriteAction::bisect;
    }
    return v;
  }
  if (s == 401 || s == 403 || s == 404) {
    v.action = WriteAction::pause;
    return v;
  }
  v.action = WriteAction::retry;
  if (s == 429 || s == 503) v.retry_after = parse_retry_after(answer.retry_after);
  return v;
}

}  // namespace strata::bridges::influx
