#include "broker/historian/replay_http.hpp"

#include <charconv>
#include <cmath>

#include "broker/historian/time_format.hpp"
#include "broker/util/log.hpp"

namespace strata::historian {

namespace {

using admin::JsonWriter;

void write_job(JsonWriter& w, const ReplayStatus& s) {
  const ReplayJob& j = s.job;
  auto time = [&w](const char* key, std::int64_t ms) {
    w.Key(key);
    admin::write_string(w, format_rfc3339(ms));
  };
  w.StartObject();
  w.Key("id");
  admin::write_string(w, std::to_string(j.id));
  w.Key("state");
  admin::write_string(w, job_state_name(j.state));
  w.Key("filter");
  admin::write_string(w, j.request.filter);
  w.Key("bridge");
  admin::write_string(w, j.request.bridge);
  time("from", j.request.from);
  time("to", j.request.to);
  w.Key("from_ms");
  w.Int64(j.request.from);
  w.Key("to_ms");
  w.Int64(j.request.to);
  w.Key("rate_limit");
  if (j.request.rate == 0) {
    w.Null();
  } else {
    w.Uint(j.request.rate);
  }
  w.Key("sent");
  w.Uint64(j.sent);
  w.Key("skipped");
  w.Uint64(j.skipped);
  w.Key("total");
  w.Uint64(s.total);
  w.Key("total_exact");
  w.Bool(s.total_exact);
  w.Key("progress");
  w.Double(s.total == 0 ? (j.state == JobState::done ? 1.0 : 0.0)
                        : static_cast<double>(j.sent + j.skipped) / static_cast<double>(s.total));
  w.Key("rate");
  w.Double(std::round(s.rate * 100) / 100);
  w.Key("eta_s");
  if (s.eta_s) {
    w.Double(std::round(*s.eta_s * 10) / 10);
  } else {
    w.Null();
  }
  w.Key("position");
  if (s.position_ms) {
    admin::write_string(w, format_rfc3339(*s.position_ms));
  } else {
    w.Null();
  }
  time("created", j.created_ms);
  time("updated", j.updated_ms);
  w.Key("error");
  if (j.error.empty()) {
    w.Null();
  } else {
    admin::write_string(w, j.error);
  }
  w.EndObject();
}

std::uint64_t job_id(const admin::Request& req) {
  const std::string& text = req.param("id");
  std::uint64_t id = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc{} || p != text.data() + text.size()) {
    throw admin::Error::not_found("no replay job '" + text + "'");
  }
  return id;
}

Replayer& need(Replayer* r) {
  if (r == nullptr) {
    throw admin::Error::not_found("the historian is off ([historian] enabled = false): nothing to replay");
  }
  return *r;
}

}  // namespace

std::string replay_json(const ReplayStatus& s) {
  return admin::json_of([&](JsonWriter& w) { write_job(w, s); });
}

void add_replay_api(admin::Api& api, Replayer* replayer) {
  using admin::Access;
  using admin::http::verb;
  api.add(verb::post, "/api/v1/history/replay", Access::admin,
          [replayer](const admin::Request& req, admin::Reply reply) {
            Replayer& r = need(replayer);
            std::string error;
            auto request = parse_replay_request(req.body, error);
            if (!request) throw admin::Error::bad_request(error);
            int status = 400;
            auto job = r.create(*request, status, error);
            if (!job) {
              throw status == 404 ? admin::Error::not_found(error) : admin::Error::bad_request(error);
            }
            STRATA_INFO("admin") << req.who() << ": started replay " << job->job.id;
            reply.json(replay_json(*job), admin::http::status::accepted);
          },
          "Start a replay job: recorded messages of a filter and time range re-sent through a bridge");
  api.add(verb::get, "/api/v1/history/replays", Access::viewer,
          [replayer](const admin::Request&, admin::Reply reply) {
            auto jobs = need(replayer).list();
            reply.json(admin::json_of([&](JsonWriter& w) {
              w.StartObject();
              w.Key("data");
              w.StartArray();
              for (const ReplayStatus& s : jobs) write_job(w, s);
              w.EndArray();
              w.EndObject();
            }));
          },
          "Replay jobs with their progress, rate and ETA");
  api.add(verb::get, "/api/v1/history/replays/{id}", Access::viewer,
          [replayer](const admin::Request& req, admin::Reply reply) {
            Replayer& r = need(replayer);
            auto job = r.get(job_id(req));
            if (!job) throw admin::Error::not_found("no replay job '" + req.param("id") + "'");
            reply.json(replay_json(*job));
          },
          "One replay job");
  api.add(verb::delete_, "/api/v1/history/replays/{id}", Access::admin,
          [replayer](const admin::Request& req, admin::Reply reply) {
            Replayer& r = need(replayer);
            ReplayStatus s;
            switch (r.cancel(job_id(req), s)) {
              case Replayer::Cancel::not_found:
                throw admin::Error::not_found("no replay job '" + req.param("id") + "'");
              case Replayer::Cancel::finished:
                throw admin::Error::conflict("replay job " + req.param("id") + " is " +
                                             std::string(job_state_name(s.job.state)) + ", not running");
              case Replayer::Cancel::cancelled:
                break;
            }
            STRATA_INFO("admin") << req.who() << ": cancelled replay " << s.job.id;
            reply.json(replay_json(s));
          },
          "Cancel a running replay job");
}

}  // namespace strata::historian
