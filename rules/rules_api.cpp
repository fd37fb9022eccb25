#include "rules/rules_api.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "broker/core/clock.hpp"
#include "broker/router/topic.hpp"
#include "broker/util/log.hpp"
#include "rules/rules_test.hpp"

namespace strata::rules {

namespace fs = std::filesystem;
namespace http = admin::http;
using admin::Error;
using admin::JsonWriter;
using admin::Reply;
using admin::Request;
using RuleInfo = RuleVm::RuleInfo;
using Loaded = std::vector<RuleInfo>;

bool valid_api_rule_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

namespace {

constexpr std::size_t kMaxTestMessages = 1000;

// The engine, or 409 when it is off.
RuleEngine& engine_of(RuleEngine* engine) {
  if (engine == nullptr) throw Error::conflict("the rule engine is off ([rules] enabled = false)");
  return *engine;
}

// The engine with a rules directory, or 409.
RuleEngine& engine_with_dir(RuleEngine* engine) {
  RuleEngine& e = engine_of(engine);
  if (e.config().dir.empty()) throw Error::conflict("no rules directory is configured ([rules] dir)");
  return e;
}

std::string checked_name(const Request& req) {
  const std::string& name = req.param("name");
  if (!valid_api_rule_name(name)) {
    throw Error::bad_request("'" + name + "' is not a rule name (1 to 64 letters, digits, '_' and '-')");
  }
  return name;
}

const RuleInfo* find(const Loaded& loaded, const std::string& name) {
  auto it = std::find_if(loaded.begin(), loaded.end(), [&](const RuleInfo& r) { return r.name == name; });
  return it == loaded.end() ? nullptr : &*it;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_rule(JsonWriter& w, const RuleInfo& r, const RuleTotals& t, const std::string* source) {
  w.StartObject();
  w.Key("name");
  admin::write_string(w, r.name);
  w.Key("file");
  admin::write_string(w, r.path);
  w.Key("topics");
  w.StartArray();
  for (const std::string& f : r.topics) admin::write_string(w, f);
  w.EndArray();
  w.Key("order");
  w.Double(r.order);
  w.Key("enabled");
  w.Bool(!t.paused);
  w.Key("faulted");  // disabled by repeated faults until its file changes
  w.Bool(t.disabled);
  w.Key("matched");
  w.Uint64(t.matched);
  w.Key("passed");
  w.Uint64(t.passed);
  w.Key("dropped");
  w.Uint64(t.dropped);
  w.Key("published");
  w.Uint64(t.published);
  w.Key("emitted");
  w.Uint64(t.emitted);
  w.Key("errors");
  w.Uint64(t.errors);
  w.Key("memory_bytes");
  w.Uint64(t.memory_bytes);
  w.Key("p50_us");
  w.Uint64(t.p50_us);
  w.Key("p99_us");
  w.Uint64(t.p99_us);
  if (source) {
    w.Key("source");
    admin::write_string(w, *source);
  }
  w.EndObject();
}

RuleTotals totals_of(RuleEngine& e, const std::string& name) {
  for (const auto& [n, counters] : e.stats().snapshot()) {
    if (n == name) return counters->totals();
  }
  RuleTotals t;
  auto paused = e.stats().paused();
  t.paused = paused.contains(name);
  return t;
}

std::string rule_json(RuleEngine& e, const RuleInfo& r, const std::string* source) {
  RuleTotals t = totals_of(e, r.name);
  return admin::json_of([&](JsonWriter& w) { write_rule(w, r, t, source); });
}

// Writes `text` to `path` whole: a temporary file in the same directory
// (not *.lua, so the scan ignores it), then renamed over `path`.
void write_atomically(const fs::path& path, const std::string& text) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  fs::path tmp = path.parent_path() / ("." + path.filename().string() + ".tmp");
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) throw std::runtime_error(tmp.string() + ": cannot write");
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw std::runtime_error(path.string() + ": cannot replace: " + ec.message());
  }
}

// Asks core 0 to rescan the rules directory, then `done(loaded)` with core
// 0's rules once every core has applied the changes.
void rescan_then(admin::Api& api, RuleEngine& e, std::function<void(Loaded)> done) {
  boost::asio::io_context* admin_io = &api.io();
  auto applied = [&api, &e, done = std::move(done)] {
    api.on_core<Loaded>(0, [&e](core::Core&) { return e.loaded(); }, done);
  };
  api.on_core<bool>(
      0,
      [&e, admin_io, applied](core::Core&) {
        // Called on the core that applied the changes last.
        e.rescan([admin_io, applied] { boost::asio::post(*admin_io, applied); });
        return true;
      },
      [](bool) {});
}

// The Lua source of a PUT: the body as is, or {"source":"..."} in JSON.
std::string source_of(const Request& req) {
  std::string source;
  if (req.content_type.starts_with("application/json")) {
    rapidjson::Document d = admin::parse_body(req);
    source = admin::body_string(d, "source", true);
  } else {
    source = req.body;
  }
  if (source.empty()) throw Error::bad_request("the body must be the rule's Lua source");
  return source;
}

void write_action(JsonWriter& w, const DryRunAction& a) {
  w.StartObject();
  w.Key("action");
  w.String(a.emit ? "emit" : "publish");
  if (a.emit) {
    w.Key("target");
    admin::write_string(w, a.target);
  }
  w.Key("topic");
  admin::write_string(w, a.msg->topic);
  w.Key("payload");
  admin::write_string(w, a.msg->payload);
  w.Key("qos");
  w.Uint(static_cast<unsigned>(a.msg->qos));
  w.Key("retain");
  w.Bool(a.msg->retain);
  if (!a.msg->properties->user_properties.empty()) {
    w.Key("user_properties");
    w.StartArray();
    for (const auto& [k, v] : a.msg->properties->user_properties) {
      w.StartArray();
      admin::write_string(w, k);
      admin::write_string(w, v);
      w.EndArray();
    }
    w.EndArray();
  }
  w.EndObject();
}

void write_step(JsonWriter& w, const DryRunStep& step, bool closing) {
  w.StartObject();
  if (!closing) {
    w.Key("topic");
    admin::write_string(w, step.input.topic);
    w.Key("payload");
    admin::write_string(w, step.input.payload);
  }
  w.Key("actions");
  w.StartArray();
  for (const DryRunAction& a : step.actions) write_action(w, a);
  w.EndArray();
  w.Key("logs");
  w.StartArray();
  for (const DryRunLog& l : step.logs) {
    w.StartObject();
    w.Key("level");
    admin::write_string(w, l.level);
    w.Key("text");
    admin::write_string(w, l.text);
    w.EndObject();
  }
  w.EndArray();
  w.Key("faults");
  w.StartArray();
  for (const std::string& f : step.faults) admin::write_string(w, f);
  w.EndArray();
  if (!closing) {
    w.Key("result");
    w.String(step.dropped ? "drop" : "pass");
    if (step.passed) {
      w.Key("passed");
      DryRunAction as{false, {}, step.passed};
      // The message as routed: the same fields as a publish action.
      w.StartObject();
      w.Key("topic");
      admin::write_string(w, as.msg->topic);
      w.Key("payload");
      admin::write_string(w, as.msg->payload);
      w.Key("qos");
      w.Uint(static_cast<unsigned>(as.msg->qos));
      w.Key("retain");
      w.Bool(as.msg->retain);
      w.EndObject();
    }
  }
  w.EndObject();
}

std::vector<DryRunInput> test_messages(const rapidjson::Value& body) {
  std::vector<DryRunInput> out;
  auto it = body.FindMember("messages");
  if (it == body.MemberEnd() || it->value.IsNull()) return out;
  if (!it->value.IsArray()) throw Error::bad_request("'messages' must be an array");
  if (it->value.Size() > kMaxTestMessages) {
    throw Error::bad_request("at most " + std::to_string(kMaxTestMessages) + " messages");
  }
  for (const rapidjson::Value& m : it->value.GetArray()) {
    if (!m.IsObject()) throw Error::bad_request("each of 'messages' must be an object");
    DryRunInput in;
    in.topic = admin::body_string(m, "topic", true);
    if (!router::is_valid_topic_name(in.topic)) throw Error::bad_request("'" + in.topic + "' is not a topic name");
    in.payload = admin::body_string(m, "payload", false);
    in.qos = static_cast<protocol::QoS>(admin::body_int(m, "qos", 0, 0, 2));
    in.retain = admin::body_bool(m, "retain", false);
    out.push_back(std::move(in));
  }
  return out;
}

}  // namespace

void add_rules_api(admin::Api& api, RuleEngine* engine) {
  api.add(http::verb::get, "/api/v1/rules", admin::Access::viewer,
          [&api, engine](const Request&, Reply reply) {
            RuleEngine& e = engine_of(engine);
            api.on_core<Loaded>(
                0, [&e](core::Core&) { return e.loaded(); },
                [reply, &e](Loaded loaded) {
                  std::map<std::string, RuleTotals> totals;
                  for (const auto& [n, counters] : e.stats().snapshot()) totals[n] = counters->totals();
                  reply.json(admin::json_of([&](JsonWriter& w) {
                    w.StartObject();
                    w.Key("rules");
                    w.StartArray();
                    for (const RuleInfo& r : loaded) write_rule(w, r, totals[r.name], nullptr);
                    w.EndArray();
                    w.EndObject();
                  }));
                });
          },
          "Loaded rules in run order: file, topics, order, enabled, counters, p50/p99 run time");

  api.add(http::verb::get, "/api/v1/rules/{name}", admin::Access::viewer,
          [&api, engine](const Request& req, Reply reply) {
            RuleEngine& e = engine_of(engine);
            std::string name = req.param("name");
            api.on_core<Loaded>(
                0, [&e](core::Core&) { return e.loaded(); },
                [reply, &e, name](Loaded loaded) {
                  const RuleInfo* r = find(loaded, name);
                  if (!r) return reply.error(Error::not_found("no rule '" + name + "'"));
                  std::optional<std::string> source = read_file(r->path);
                  if (!source) return reply.error(Error::not_found(r->path + ": cannot read the rule's file"));
                  reply.json(rule_json(e, *r, &*source));
                });
          },
          "One rule with its source");

  api.add(http::verb::put, "/api/v1/rules/{name}", admin::Access::admin,
          [&api, engine](const Request& req, Reply reply) {
            RuleEngine& e = engine_with_dir(engine);
            std::string name = checked_name(req);
            std::string source = source_of(req);
            fs::path path = fs::path(e.config().dir) / (name + ".lua");
            {
              // A trial load in a scratch VM: the same sandbox and budgets.
              RuleStatsRegistry scratch_stats(1);
              RuleVm scratch(budgets_of(e.config()), e.config().dir, nullptr, scratch_stats, 0,
                             [] { return core::now_ms(); });
              RuleVm::LoadResult r = scratch.load(path.string(), source);
              if (!r.error.empty()) throw Error::bad_request(r.error);
              if (r.name != name) {
                throw Error::bad_request(path.string() + ": the rule declares name = \"" + r.name +
                                         "\"; put it as /rules/" + r.name + " or declare no name");
              }
            }
            std::string who = req.who();
            api.on_core<Loaded>(
                0, [&e](core::Core&) { return e.loaded(); },
                [&api, &e, reply, name, path, source, who](Loaded loaded) {
                  const RuleInfo* current = find(loaded, name);
                  if (current && fs::path(current->path) != path) {
                    return reply.error(Error::conflict("rule " + name + " is loaded from " + current->path +
                                                       "; edit that file, or delete the rule first"));
                  }
                  std::error_code ec;
                  bool existed = current != nullptr || fs::exists(path, ec);
                  try {
                    write_atomically(path, source);
                  } catch (const std::exception& ex) {
                    return reply.error(http::status::internal_server_error, "INTERNAL_ERROR", ex.what());
                  }
                  rescan_then(api, e, [reply, &e, name, path, source, who, existed](Loaded now) {
                    const RuleInfo* r = find(now, name);
                    if (!r) {
                      return reply.error(http::status::internal_server_error, "INTERNAL_ERROR",
                                         path.string() + " was written but rule " + name +
                                             " did not load; see the broker's log");
                    }
                    STRATA_INFO("admin") << who << ": " << (existed ? "replaced" : "added") << " rule " << name;
                    reply.json(rule_json(e, *r, &source), existed ? http::status::ok : http::status::created);
                  });
                });
          },
          "Write <rules dir>/<name>.lua (body: Lua source, or {\"source\"}) and load it on every core");

  api.add(http::verb::delete_, "/api/v1/rules/{name}", admin::Access::admin,
          [&api, engine](const Request& req, Reply reply) {
            RuleEngine& e = engine_with_dir(engine);
            std::string name = checked_name(req);
            std::string who = req.who();
            api.on_core<Loaded>(
                0, [&e](core::Core&) { return e.loaded(); },
                [&api, &e, reply, name, who](Loaded loaded) {
                  const RuleInfo* r = find(loaded, name);
                  if (!r) return reply.error(Error::not_found("no rule '" + name + "'"));
                  std::error_code ec;
                  if (!fs::remove(r->path, ec) && ec) {
                    return reply.error(http::status::internal_server_error, "INTERNAL_ERROR",
                                       r->path + ": cannot remove: " + ec.message());
                  }
                  std::string path = r->path;
                  rescan_then(api, e, [reply, name, path, who](Loaded) {
                    STRATA_INFO("admin") << who << ": deleted rule " << name << " (" << path << ")";
                    reply.send(admin::Response{http::status::no_content, "application/json", {}, {}});
                  });
                });
          },
          "Remove the rule's file and unload it from every core");

  auto set_enabled = [&api, engine](const Request& req, Reply reply, bool enabled) {
    RuleEngine& e = engine_of(engine);
    std::string name = checked_name(req);
    std::string who = req.who();
    api.on_core<Loaded>(
        0, [&e](core::Core&) { return e.loaded(); },
        [&e, reply, name, who, enabled](Loaded loaded) {
          if (!find(loaded, name)) return reply.error(Error::not_found("no rule '" + name + "'"));
          e.set_enabled(name, enabled);
          STRATA_INFO("admin") << who << ": " << (enabled ? "enabled" : "disabled") << " rule " << name;
          reply.json(admin::json_of([&](JsonWriter& w) {
            w.StartObject();
            w.Key("name");
            admin::write_string(w, name);
            w.Key("enabled");
            w.Bool(enabled);
            w.EndObject();
          }));
        });
  };
  api.add(http::verb::post, "/api/v1/rules/{name}/enable", admin::Access::admin,
          [set_enabled](const Request& req, Reply reply) { set_enabled(req, reply, true); },
          "Run a disabled rule again");
  api.add(http::verb::post, "/api/v1/rules/{name}/disable", admin::Access::admin,
          [set_enabled](const Request& req, Reply reply) { set_enabled(req, reply, false); },
          "Stop running a rule on every core (kept across reloads and restarts)");

  const config::Rules config = api.broker().config().rules;
  const std::vector<std::string> targets = emit_target_names(api.broker().config());
  api.add(http::verb::post, "/api/v1/rules/test", admin::Access::viewer,
          [config, targets](const Request& req, Reply reply) {
            rapidjson::Document body = admin::parse_body(req);
            std::string source = admin::body_string(body, "source", true);
            std::string name = admin::body_string(body, "name", false, "test");
            if (!valid_api_rule_name(name)) throw Error::bad_request("'" + name + "' is not a rule name");
            std::vector<DryRunInput> messages = test_messages(body);
            std::string dir = config.dir.empty() ? std::string(".") : config.dir;
            std::string file = (fs::path(dir) / (name + ".lua")).string();
            DryRun r = dry_run(file, source, messages, dir, config, targets);
            if (!r.error.empty()) throw Error::bad_request(r.error);
            reply.json(admin::json_of([&](JsonWriter& w) {
              w.StartObject();
              w.Key("rule");
              admin::write_string(w, r.rule);
              w.Key("file");
              admin::write_string(w, r.file);
              w.Key("messages");
              w.StartArray();
              for (const DryRunStep& s : r.messages) write_step(w, s, false);
              w.EndArray();
              w.Key("closing");
              write_step(w, r.closing, true);
              w.Key("faulted");
              w.Bool(r.faulted);
              w.Key("output");
              admin::write_string(w, format_dry_run(r));
              w.EndObject();
            }));
          },
          "Dry run of a rule's source on sample messages (the --rules-test of the command line)");
}

}  // namespace strata::rules
