#include "broker/historian/history_api.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "broker/historian/time_format.hpp"

namespace strata::historian {

namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

ApiAnswer answer(std::string content_type, std::string body) {
  ApiAnswer a;
  a.content_type = std::move(content_type);
  a.body = std::move(body);
  return a;
}

// The admin API's error shape: {"code":"BAD_REQUEST","message":"..."}.
ApiAnswer error(int status, const std::string& what) {
  const char* code = status == 404 ? "NOT_FOUND" : status == 405 ? "METHOD_NOT_ALLOWED" : "BAD_REQUEST";
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("code");
  w.String(code);
  w.Key("message");
  w.String(what.data(), static_cast<rapidjson::SizeType>(what.size()));
  w.EndObject();
  ApiAnswer a;
  a.status = status;
  a.body = buf.GetString();
  a.code = code;
  a.message = what;
  return a;
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// What every query request shares, read from parameters or a JSON body.
struct Options {
  std::optional<std::int64_t> from, to;
  std::int64_t interval = 0;
  Agg agg = Agg::avg;
  Fill fill = Fill::none;
  std::size_t limit = 0;
  bool csv = false, epoch_ms = false;
};

// Reads one option; "" when fine, else the error message.
std::string option(Options& o, std::string_view key, const std::string& value) {
  if (key == "from" || key == "to") {
    auto t = parse_time(value);
    if (!t) return std::string(key) + " '" + value + "' is not a time; expected RFC 3339 or unix ms";
    (key == "from" ? o.from : o.to) = *t;
  } else if (key == "interval") {
    auto d = parse_duration(value);
    if (!d) return "interval '" + value + "' is not a duration like 10s, 1m, 1h, 1d";
    o.interval = *d;
  } else if (key == "agg") {
    auto a = parse_agg(value);
    if (!a) return "agg '" + value + "' is not one of avg, min, max, sum, count, first, last";
    o.agg = *a;
  } else if (key == "fill") {
    auto f = parse_fill(value);
    if (!f) return "fill '" + value + "' is not one of none, null, previous, linear";
    o.fill = *f;
  } else if (key == "limit") {
    std::size_t n = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc{} || p != value.data() + value.size() || n == 0) {
      return "limit '" + value + "' is not a positive integer";
    }
    o.limit = n;
  } else if (key == "format") {
    if (value != "json" && value != "csv") return "format '" + value + "' is not json or csv";
    o.csv = value == "csv";
  } else if (key == "epoch") {
    if (value != "ms") return "epoch '" + value + "' is not ms";
    o.epoch_ms = true;
  } else {
    return "unknown parameter '" + std::string(key) + "'";
  }
  return {};
}

std::string check_range(const Options& o) {
  if (o.from && o.to && *o.to <= *o.from) return "to must be after from";
  if (o.fill != Fill::none && o.interval == 0) return "fill needs an interval";
  return {};
}

void write_time(Writer& w, std::int64_t t, bool epoch_ms) {
  if (epoch_ms) {
    w.Int64(t);
  } else {
    std::string s = format_rfc3339(t);
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  }
}

void write_value(Writer& w, const std::optional<double>& v) {
  if (!v || !std::isfinite(*v)) {
    w.Null();
  } else if (*v == std::floor(*v) && std::fabs(*v) < 9e15) {
    w.Int64(static_cast<std::int64_t>(*v));
  } else {
    w.Double(*v);
  }
}

std::string number(double v) {
  if (v == std::floor(v) && std::fabs(v) < 9e15) return std::to_string(static_cast<std::int64_t>(v));
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, p);
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

ApiAnswer render(const std::vector<Result>& results, const Options& o, bool aggregated) {
  if (o.csv) {
    std::string out = "series,time,value\n";
    for (const Result& r : results) {
      std::string name = csv_field(r.series);
      for (const Row& row : r.rows) {
        out += name;
        out += ',';
        out += o.epoch_ms ? std::to_string(row.t) : format_rfc3339(row.t);
        out += ',';
        if (row.v) out += number(*row.v);
        out += '\n';
      }
    }
    return answer("text/csv", std::move(out));
  }
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("results");
  w.StartArray();
  w.StartObject();
  w.Key("statement_id");
  w.Int(0);
  w.Key("series");
  w.StartArray();
  for (const Result& r : results) {
    w.StartObject();
    w.Key("name");
    w.String(r.series.data(), static_cast<rapidjson::SizeType>(r.series.size()));
    w.Key("tags");
    w.StartObject();
    w.Key("tier");
    auto tier = name_of(r.tier);
    w.String(tier.data(), static_cast<rapidjson::SizeType>(tier.size()));
    w.EndObject();
    w.Key("columns");
    w.StartArray();
    w.String("time");
    auto col = aggregated ? name_of(o.agg) : std::string_view("value");
    w.String(col.data(), static_cast<rapidjson::SizeType>(col.size()));
    w.EndArray();
    w.Key("values");
    w.StartArray();
    for (const Row& row : r.rows) {
      w.StartArray();
      write_time(w, row.t, o.epoch_ms);
      write_value(w, row.v);
      w.EndArray();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  w.EndArray();
  w.EndObject();
  return answer("application/json", buf.GetString());
}

Query make_query(const std::string& series, const Options& o) {
  Query q;
  q.series = series;
  q.from = o.from;
  q.to = o.to;
  q.interval = o.interval;
  q.agg = o.agg;
  q.fill = o.fill;
  q.limit = o.limit;
  return q;
}

void write_info(Writer& w, const SeriesInfo& s, bool with_value) {
  w.StartObject();
  w.Key("series");
  w.String(s.name.data(), static_cast<rapidjson::SizeType>(s.name.size()));
  if (with_value) {
    w.Key("time");
    write_time(w, s.rec.last_t, false);
    w.Key("time_ms");
    w.Int64(s.rec.last_t);
    w.Key("value");
    write_value(w, s.rec.last_v);
  } else {
    w.Key("first");
    write_time(w, s.rec.first_t, false);
    w.Key("last");
    write_time(w, s.rec.last_t, false);
    w.Key("first_ms");
    w.Int64(s.rec.first_t);
    w.Key("last_ms");
    w.Int64(s.rec.last_t);
    w.Key("points");
    w.Uint64(s.rec.count);
  }
  w.EndObject();
}

ApiAnswer list(const QueryEngine& engine, const Params& params, bool last) {
  std::string filter = "#";
  bool csv = false;
  for (const auto& [k, v] : params) {
    if (k == "filter") {
      filter = v;
    } else if (k == "format" && (v == "csv" || v == "json")) {
      csv = v == "csv";
    } else {
      return error(400, "unknown parameter '" + k + "' (or a format other than json or csv)");
    }
  }
  if (filter.empty()) return error(400, "filter must not be empty");
  std::vector<SeriesInfo> found = engine.series(filter);
  if (csv) {
    std::string out = last ? "series,time,value\n" : "series,first,last,points\n";
    for (const SeriesInfo& s : found) {
      if (last && s.rec.count == 0) continue;
      out += csv_field(s.name) + ',';
      if (last) {
        out += format_rfc3339(s.rec.last_t) + ',' + number(s.rec.last_v) + '\n';
      } else {
        out += format_rfc3339(s.rec.first_t) + ',' + format_rfc3339(s.rec.last_t) + ',' +
               std::to_string(s.rec.count) + '\n';
      }
    }
    return answer("text/csv", std::move(out));
  }
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("series");
  w.StartArray();
  for (const SeriesInfo& s : found) {
    if (last && s.rec.count == 0) continue;
    write_info(w, s, last);
  }
  w.EndArray();
  w.EndObject();
  return answer("application/json", buf.GetString());
}

}  // namespace

Params parse_query_string(std::string_view qs) {
  Params out;
  while (!qs.empty()) {
    std::size_t amp = qs.find('&');
    std::string_view part = qs.substr(0, amp);
    qs = amp == std::string_view::npos ? std::string_view{} : qs.substr(amp + 1);
    if (part.empty()) continue;
    std::size_t eq = part.find('=');
    out.emplace_back(url_decode(part.substr(0, eq)),
                     eq == std::string_view::npos ? std::string{} : url_decode(part.substr(eq + 1)));
  }
  return out;
}

ApiAnswer get_history(const QueryEngine& engine, const Params& params) {
  Options o;
  std::string series;
  for (const auto& [k, v] : params) {
    if (k == "series") {
      series = v;
      continue;
    }
    if (std::string why = option(o, k, v); !why.empty()) return error(400, why);
  }
  if (series.empty()) return error(400, "series is missing: name a series, e.g. series=plant/press#temperature");
  if (std::string why = check_range(o); !why.empty()) return error(400, why);
  Result r;
  std::string why;
  if (!engine.run(make_query(series, o), r, why)) return error(400, why);
  if (!r.found) return error(404, "no series '" + series + "'");
  return render({r}, o, o.interval != 0);
}

ApiAnswer post_history_query(const QueryEngine& engine, std::string_view body) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return error(400, "the body is not a JSON object");
  Options o;
  std::vector<std::string> wanted;
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    std::string key(it->name.GetString(), it->name.GetStringLength());
    const rapidjson::Value& v = it->value;
    if (key == "series" || key == "filter") {
      if (v.IsString()) {
        wanted.emplace_back(v.GetString(), v.GetStringLength());
      } else if (v.IsArray()) {
        for (const auto& e : v.GetArray()) {
          if (!e.IsString()) return error(400, key + " must hold strings");
          wanted.emplace_back(e.GetString(), e.GetStringLength());
        }
      } else {
        return error(400, key + " must be a string or an array of strings");
      }
      continue;
    }
    std::string value;
    if (v.IsString()) {
      value.assign(v.GetString(), v.GetStringLength());
    } else if (v.IsInt64()) {
      value = std::to_string(v.GetInt64());
    } else {
      return error(400, key + " must be a string or an integer");
    }
    if (std::string why = option(o, key, value); !why.empty()) return error(400, why);
  }
  if (wanted.empty()) return error(400, "series (or filter) is missing");
  if (std::string why = check_range(o); !why.empty()) return error(400, why);
  // Names and filters expand to the series they match, each once, in order.
  std::vector<std::string> names;
  for (const std::string& w : wanted) {
    for (SeriesInfo& s : engine.series(w)) {
      if (std::find(names.begin(), names.end(), s.name) == names.end()) names.push_back(std::move(s.name));
    }
  }
  std::vector<Result> results;
  for (const std::string& name : names) {
    Result r;
    std::string why;
    if (!engine.run(make_query(name, o), r, why)) return error(400, why);
    results.push_back(std::move(r));
  }
  return render(results, o, o.interval != 0);
}

ApiAnswer get_history_last(const QueryEngine& engine, const Params& params) { return list(engine, params, true); }

ApiAnswer get_history_series(const QueryEngine& engine, const Params& params) {
  return list(engine, params, false);
}

ApiAnswer dispatch(const QueryEngine& engine, std::string_view method, std::string_view path,
                   std::string_view query, std::string_view body) {
  const bool get = method == "GET";
  if (path == "/api/v1/history/query") {
    if (method != "POST") return error(405, "use POST for /api/v1/history/query");
    return post_history_query(engine, body);
  }
  ApiAnswer (*handler)(const QueryEngine&, const Params&) = nullptr;
  if (path == "/api/v1/history") {
    handler = get_history;
  } else if (path == "/api/v1/history/last") {
    handler = get_history_last;
  } else if (path == "/api/v1/history/series") {
    handler = get_history_series;
  } else {
    return error(404, "no such endpoint: " + std::string(path));
  }
  if (!get) return error(405, "use GET for " + std::string(path));
  return handler(engine, parse_query_string(query));
}

}  // namespace strata::historian
