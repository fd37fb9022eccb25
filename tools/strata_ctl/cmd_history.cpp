// history query|last|series|export: the historian's recorded series;
// history replay|replays|replay-cancel: replay jobs through a bridge.
#include <ostream>

#include "tools/strata_ctl/commands.hpp"
#include "tools/strata_ctl/context.hpp"
#include "tools/strata_ctl/url.hpp"

namespace strata::ctl {

namespace {

const std::vector<OptionSpec> kRangeOptions = {
    {"--from", 1, "TIME", "start: RFC 3339 or unix ms"},
    {"--to", 1, "TIME", "end: RFC 3339 or unix ms"},
    {"--interval", 1, "DURATION", "aggregate per interval (1m, 1h, ...)"},
    {"--agg", 1, "AGG", "avg, min, max, sum, count, first or last (with --interval)"},
    {"--fill", 1, "FILL", "none, null, previous or linear (with --interval)"},
    {"--limit", 1, "N", "at most N points per series"},
    {"--epoch-ms", 0, "", "times as unix milliseconds"},
};

// The POST /api/v1/history/query body for the series (names or filters).
std::string query_body(const Args& a, bool csv) {
  std::string body = "{\"series\":[";
  for (std::size_t i = 0; i < a.positional.size(); ++i) body += (i ? "," : "") + json_string(a.positional[i]);
  body += "]";
  for (const char* key : {"from", "to", "interval", "agg", "fill", "limit"}) {
    if (auto v = a.value(std::string("--") + key)) body += ",\"" + std::string(key) + "\":" + json_string(*v);
  }
  if (a.has("--epoch-ms")) body += ",\"epoch\":\"ms\"";
  if (csv) body += ",\"format\":\"csv\"";
  return body + "}";
}

std::string filter_target(const std::string& path, const Args& a) {
  return path + query_string({{"filter", a.positional.empty() ? "#" : a.positional[0]}});
}

const std::vector<Column> kReplayColumns = {
    {"id", "id"},     {"state", "state"}, {"bridge", "bridge"}, {"filter", "filter"}, {"sent", "sent"},
    {"total", "total"}, {"rate/s", "rate"}, {"eta s", "eta_s"},  {"error", "error"}};

// The POST /api/v1/history/replay body.
std::string replay_body(const Args& a) {
  std::string body = "{\"filter\":" + json_string(a.positional[0]);
  body += ",\"from\":" + json_string(*a.value("--from"));
  body += ",\"to\":" + json_string(*a.value("--to"));
  body += ",\"bridge\":" + json_string(*a.value("--bridge"));
  if (a.has("--rate")) body += ",\"rate\":" + std::to_string(a.integer("--rate", 0, 1000000, 0));
  return body + "}";
}

// One job (an object) as the list table of one row.
void print_job(Context& c, const HttpResponse& res) {
  if (c.json()) return c.print(res, {});
  rapidjson::Document job = parse_json(res.body);
  rapidjson::Document list(rapidjson::kObjectType);
  rapidjson::Value data(rapidjson::kArrayType);
  data.PushBack(rapidjson::Value(job, list.GetAllocator()), list.GetAllocator());
  list.AddMember("data", data, list.GetAllocator());
  c.out() << list_table(list, kReplayColumns).render();
}

}  // namespace

void add_history_commands(Registry& r) {
  r.add({"history", "query", "SERIES...", 1, 1000, kRangeOptions,
         "Recorded points of series (names like plant/press#temp, or filters), raw or aggregated",
         [](Context& c, const Args& a) {
           HttpResponse res = c.call("POST", "/api/v1/history/query", query_body(a, false));
           c.print(res, c.json() ? "" : series_table(parse_json(res.body)).render());
           return 0;
         }});
  r.add({"history", "export", "SERIES...", 1, 1000, kRangeOptions, "The same as query, as CSV (series,time,value)",
         [](Context& c, const Args& a) {
           c.out() << c.call("POST", "/api/v1/history/query", query_body(a, true)).body;
           return 0;
         }});
  r.add({"history", "last", "[FILTER]", 0, 1, {}, "The last value of each series matching FILTER (default #)",
         [](Context& c, const Args& a) {
           c.print_list(c.call("GET", filter_target("/api/v1/history/last", a)),
                        {{"series", "series"}, {"time", "time"}, {"value", "value"}});
           return 0;
         }});
  r.add({"history", "series", "[FILTER]", 0, 1, {}, "Recorded series matching FILTER (default #): time range, points",
         [](Context& c, const Args& a) {
           c.print_list(c.call("GET", filter_target("/api/v1/history/series", a)),
                        {{"series", "series"}, {"first", "first"}, {"last", "last"}, {"points", "points"}});
           return 0;
         }});
  r.add({"history", "replay", "FILTER", 1, 1,
         {{"--from", 1, "TIME", "start of the range (receive time): RFC 3339 or unix ms"},
          {"--to", 1, "TIME", "end of the range, exclusive"},
          {"--bridge", 1, "NAME", "the bridge whose outbox re-sends the messages"},
          {"--rate", 1, "N", "messages per second (default: line rate)"}},
         "Re-send the recorded messages of FILTER in [--from, --to) through a bridge (a replay job)",
         [](Context& c, const Args& a) {
           for (const char* o : {"--from", "--to", "--bridge"}) {
             if (!a.has(o)) throw UsageError(std::string(o) + " is required");
           }
           print_job(c, c.call("POST", "/api/v1/history/replay", replay_body(a)));
           return 0;
         }});
  r.add({"history", "replays", "[ID]", 0, 1, {}, "Replay jobs (or one): state, progress, rate, ETA",
         [](Context& c, const Args& a) {
           if (!a.positional.empty()) {
             print_job(c, c.call("GET", "/api/v1/history/replays/" + percent_encode(a.positional[0])));
           } else {
             c.print_list(c.call("GET", "/api/v1/history/replays"), kReplayColumns);
           }
           return 0;
         }});
  r.add({"history", "replay-cancel", "ID", 1, 1, {}, "Cancel a running replay job",
         [](Context& c, const Args& a) {
           print_job(c, c.call("DELETE", "/api/v1/history/replays/" + percent_encode(a.positional[0])));
           return 0;
         }});
}

}  // namespace strata::ctl
