#include "broker/uns/uns_api.hpp"

#include <algorithm>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "broker/admin/api.hpp"
#include "broker/core/clock.hpp"
#include "broker/uns/catalog_snapshot.hpp"
#include "broker/uns/contract_overlay.hpp"
#include "broker/router/topic.hpp"
#include "broker/util/log.hpp"
#include "broker/uns/catalog_query.hpp"
#include "broker/uns/namespace_hook.hpp"

namespace strata::uns {
namespace {

namespace http = boost::beast::http;
using admin::Access;
using admin::Error;
using admin::Reply;
using admin::Request;

std::string text(const rapidjson::Value& v) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v.Accept(w);
  return std::string(b.GetString(), b.GetSize());
}

// Each core's part of the catalog, merged on the admin thread.
void with_catalog(admin::Api& api, NamespaceHook& hook, std::function<void(const MergedCatalog&)> done) {
  std::uint64_t now = core::now_ms();
  api.gather<std::shared_ptr<MergedCatalog>>(
      [&hook, now](core::Core& c) {
        auto part = std::make_shared<MergedCatalog>();
        merge_into(*part, hook.catalog(c.index()), *hook.rules(c.index()), now);
        return part;
      },
      [done = std::move(done)](std::vector<std::shared_ptr<MergedCatalog>> parts) {
        MergedCatalog all;
        for (auto& p : parts) merge_catalogs(all, std::move(*p));
        done(all);
      });
}

// {"total":N,"items":[...]} of a query -> the admin list convention.
std::string as_page(const admin::Paging& p, rapidjson::Document& d) {
  return admin::json_of([&](admin::JsonWriter& w) {
    w.StartObject();
    w.Key("data");
    d["items"].Accept(w);
    w.Key("meta");
    w.StartObject();
    w.Key("page");
    w.Int64(p.page);
    w.Key("limit");
    w.Int64(p.limit);
    w.Key("count");
    w.Uint64(d["total"].GetUint64());
    w.Key("hasnext");
    w.Bool(p.end(d["total"].GetUint64()) < d["total"].GetUint64());
    w.EndObject();
    w.EndObject();
  });
}

void write_contract(admin::JsonWriter& w, const Contract& c, const ContractCounters::Totals& t, bool with_schema,
                    bool from_api) {
  w.StartObject();
  admin::write_key(w, "name");
  admin::write_string(w, c.name());
  admin::write_key(w, "origin");
  admin::write_string(w, from_api ? "api" : "config");
  admin::write_key(w, "version");
  admin::write_string(w, c.version());
  admin::write_key(w, "filter");
  admin::write_string(w, c.filter());
  admin::write_key(w, "action");
  admin::write_string(w, kActionNames[static_cast<std::size_t>(c.action)]);
  admin::write_key(w, "shape");
  admin::write_string(w, kShapeNames[static_cast<std::size_t>(c.shape())]);
  admin::write_key(w, "schema_file");
  admin::write_string(w, c.schema_path());
  admin::write_key(w, "all");
  w.Bool(c.all);
  admin::write_key(w, "matched");
  w.Uint64(t.matched);
  admin::write_key(w, "passed");
  w.Uint64(t.passed);
  admin::write_key(w, "failed");
  w.Uint64(t.failed);
  admin::write_key(w, "failed_by_kind");
  w.StartObject();
  for (std::size_t k = 0; k < kKindCount; ++k) {
    admin::write_key(w, kKindNames[k]);
    w.Uint64(t.by_kind[k]);
  }
  w.EndObject();
  if (with_schema && !c.schema_text().empty()) {
    rapidjson::Document schema;
    schema.Parse(c.schema_text().c_str(), c.schema_text().size());
    admin::write_key(w, "schema");
    schema.Accept(w);
  }
  w.EndObject();
}

}  // namespace

// A contract from a PUT body: {"filter", "schema": {...} (or its text),
// "shape", "action", "version", "redirect_topic", "reject_disconnect",
// "all"}; Error(400) naming what is wrong.
std::shared_ptr<const Contract> contract_of_body(const std::string& name, const rapidjson::Document& body) {
  if (name.empty() || name.size() > 128 ||
      name.find_first_of("/+#") != std::string::npos ||
      std::any_of(name.begin(), name.end(), [](char ch) { return static_cast<unsigned char>(ch) < 0x20; })) {
    throw Error::bad_request("contract name '" + name + "' may not hold '/', '+', '#' or control characters");
  }
  for (auto it = body.MemberBegin(); it != body.MemberEnd(); ++it) {
    std::string_view k(it->name.GetString(), it->name.GetStringLength());
    static constexpr std::string_view kKeys[] = {"name",   "filter",         "schema",           "shape", "action",
                                                 "version", "redirect_topic", "reject_disconnect", "all"};
    if (std::find(std::begin(kKeys), std::end(kKeys), k) == std::end(kKeys)) {
      throw Error::bad_request("unknown member '" + std::string(k) +
                               "'; expected filter, schema, shape, action, version, redirect_topic, "
                               "reject_disconnect, all");
    }
  }
  std::string body_name = admin::body_string(body, "name", false, name);
  if (body_name != name) throw Error::bad_request("name '" + body_name + "' differs from the URL's '" + name + "'");
  std::string filter = admin::body_string(body, "filter", true);
  if (!router::is_valid_topic_filter(filter)) throw Error::bad_request("filter '" + filter + "' is not a valid topic filter");
  std::string version = "1";
  if (body.HasMember("version")) {
    const auto& v = body["version"];
    if (v.IsInt64()) {
      version = std::to_string(v.GetInt64());
    } else if (v.IsString() && v.GetStringLength() > 0) {
      version = v.GetString();
    } else {
      throw Error::bad_request("version must be an integer or a non-empty string");
    }
  }
  std::string s = admin::body_string(body, "shape", false, "none");
  auto shape_it = std::find(std::begin(kShapeNames), std::end(kShapeNames), s);
  if (shape_it == std::end(kShapeNames)) throw Error::bad_request("shape must be none, number or timeseries");
  auto shape = static_cast<Shape>(shape_it - std::begin(kShapeNames));
  std::string schema;
  if (body.HasMember("schema")) {
    const auto& v = body["schema"];
    schema = v.IsString() ? std::string(v.GetString(), v.GetStringLength()) : text(v);
    if (schema.empty()) throw Error::bad_request("schema is empty");
  }
  if (shape == Shape::none && schema.empty()) {
    throw Error::bad_request("the contract has neither schema nor shape; expected \"schema\":{...} or "
                             "\"shape\":\"number\"|\"timeseries\"");
  }
  std::shared_ptr<Contract> c;
  try {
    c = std::make_shared<Contract>(name, filter, version, shape, schema);
  } catch (const std::invalid_argument& e) {
    throw Error::bad_request(std::string("schema: ") + e.what() + " (contract " + name + ")");
  }
  std::string action = admin::body_string(body, "action", false, "reject");
  auto action_it = std::find(std::begin(kActionNames), std::end(kActionNames), action);
  if (action_it == std::end(kActionNames)) throw Error::bad_request("action must be reject, redirect or observe");
  c->action = static_cast<Action>(action_it - std::begin(kActionNames));
  c->redirect_topic = admin::body_string(body, "redirect_topic", false, c->redirect_topic);
  std::string probe = c->redirect_topic;
  if (auto at = probe.find("{topic}"); at != std::string::npos) probe.replace(at, 7, "x");
  if (!router::is_valid_topic_name(probe)) {
    throw Error::bad_request("redirect_topic '" + c->redirect_topic + "' is not a valid topic name");
  }
  c->reject_disconnect = admin::body_bool(body, "reject_disconnect", false);
  c->all = admin::body_bool(body, "all", false);
  return c;
}

namespace {

}  // namespace

void add_uns_api(admin::Api& api, NamespaceHook& hook, const CatalogSnapshot* snapshot, ContractOverlay* overlay) {
  api.add(http::verb::get, "/api/v1/namespace", Access::viewer,
          [&api, &hook](const Request& req, Reply reply) {
            std::string path = req.arg("path").value_or("");
            while (!path.empty() && path.back() == '/') path.pop_back();
            auto depth = static_cast<unsigned>(req.int_arg("depth", 1, 0, 64));
            admin::Paging p = admin::Paging::from(req);
            with_catalog(api, hook, [reply, path, depth, p](const MergedCatalog& c) {
              rapidjson::Document d = query_tree(c, path, depth, p.begin(SIZE_MAX), static_cast<std::size_t>(p.limit));
              reply.json(text(d));
            });
          },
          "The namespace tree below ?path= to ?depth=, with counts, rates and status per node");
  api.add(http::verb::get, "/api/v1/topics", Access::viewer,
          [&api, &hook](const Request& req, Reply reply) {
            TopicQuery q;
            q.match = req.arg("match").value_or("");
            q.q = req.arg("q").value_or("");
            q.regex = req.arg("regex").value_or("");
            q.contract = req.arg("contract").value_or("");
            q.status = req.arg("status").value_or("");
            if (!q.status.empty() && q.status != "ok" && q.status != "violating") {
              throw Error::bad_request("status must be ok or violating");
            }
            q.stale_s = static_cast<std::uint64_t>(req.int_arg("stale", 0, 0, 1'000'000'000));
            admin::Paging p = admin::Paging::from(req);
            q.offset = p.begin(SIZE_MAX);
            q.limit = static_cast<std::size_t>(p.limit);
            std::uint64_t now = core::now_ms();
            // Checked here, so a bad filter or regex is a 400 before any core is asked.
            try {
              query_topics(MergedCatalog{}, q, now);
            } catch (const std::invalid_argument& e) {
              throw Error::bad_request(e.what());
            }
            with_catalog(api, hook, [reply, q, p, now](const MergedCatalog& c) {
              rapidjson::Document d = query_topics(c, q, now);
              reply.json(as_page(p, d));
            });
          },
          "Search the catalog: ?match=FILTER &q=SUBSTRING &regex=RE &contract=NAME &status=ok|violating &stale=SECONDS");
  api.add(http::verb::get, "/api/v1/topics/{topic}", Access::viewer,
          [&api, &hook](const Request& req, Reply reply) {
            std::string topic = req.param("topic");
            with_catalog(api, hook, [reply, topic](const MergedCatalog& c) {
              auto d = query_topic(c, topic);
              if (!d) {
                reply.error(Error::not_found("no topic '" + topic + "' in the catalog"));
                return;
              }
              reply.json(text(*d));
            });
          },
          "One catalogued topic: last value, counts, rate, ISA-95 place, contracts, last violation");
  api.add(http::verb::get, "/api/v1/topics/{topic}/schema", Access::viewer,
          [&api, &hook](const Request& req, Reply reply) {
            std::string topic = req.param("topic");
            bool as_contract = req.arg("as").value_or("") == "contract";
            with_catalog(api, hook, [reply, topic, as_contract](const MergedCatalog& c) {
              auto d = query_schema(c, topic, as_contract);
              if (!d) {
                reply.error(Error::not_found("no topic '" + topic + "' in the catalog"));
                return;
              }
              reply.json(text(*d));
            });
          },
          "The inferred schema of a topic and its versions; ?as=contract: a draft-04 JSON Schema");
  api.add(http::verb::get, "/api/v1/contracts", Access::viewer,
          [&hook, overlay](const Request& req, Reply reply) {
            // The Rules are immutable and shared: reading core 0's pointer is
            // a copy of a shared_ptr set only by posts to core 0 ... so ask
            // for the latest through the counters (atomic reads).
            auto totals = hook.contract_totals_any_thread();
            admin::Paging p = admin::Paging::from(req);
            reply.json(admin::page_json(p, totals.size(), [&](admin::JsonWriter& w, std::size_t i) {
              write_contract(w, *totals[i].first, totals[i].second, false,
                             overlay != nullptr && overlay->from_api(totals[i].first->name()));
            }));
          },
          "The loaded contracts with their version and counters");
  api.add(http::verb::get, "/api/v1/contracts/violations", Access::viewer,
          [&api, &hook](const Request& req, Reply reply) {
            admin::Paging p = admin::Paging::from(req);
            api.gather<std::shared_ptr<std::deque<ViolationRecord>>>(
                [&hook](core::Core& c) { return std::make_shared<std::deque<ViolationRecord>>(hook.violations(c.index())); },
                [reply, p](std::vector<std::shared_ptr<std::deque<ViolationRecord>>> parts) {
                  std::vector<const std::deque<ViolationRecord>*> all;
                  for (const auto& q : parts) all.push_back(q.get());
                  rapidjson::Document d = query_violations(all, p.begin(SIZE_MAX), static_cast<std::size_t>(p.limit));
                  reply.json(as_page(p, d));
                });
          },
          "The latest contract and model violations, latest first");
  api.add(http::verb::get, "/api/v1/contracts/{name}", Access::viewer,
          [&hook, overlay](const Request& req, Reply reply) {
            for (const auto& ct : hook.contract_totals_any_thread()) {
              if (ct.first->name() != req.param("name")) continue;
              bool from_api = overlay != nullptr && overlay->from_api(ct.first->name());
              reply.json(admin::json_of(
                  [&](admin::JsonWriter& w) { write_contract(w, *ct.first, ct.second, true, from_api); }));
              return;
            }
            throw Error::not_found("no contract '" + req.param("name") + "'");
          },
          "One contract, with its schema");
  // PUT and DELETE answer once the change is committed to the store (with
  // an overlay; tests without a store answer at once).
  api.add(http::verb::put, "/api/v1/contracts/{name}", Access::admin,
          [&api, &hook, overlay](const Request& req, Reply reply) {
            rapidjson::Document body = admin::parse_body(req);
            std::shared_ptr<const Contract> c = contract_of_body(req.param("name"), body);
            if (!hook.enabled()) throw Error::conflict("the unified namespace is off ([uns] enabled = false)");
            std::string who = req.who();
            std::string stored = text(body);
            api.on_core<std::string>(
                0,
                [&hook, overlay, c, reply, stored = std::move(stored)](core::Core&) mutable {
                  std::string summary = hook.put_contract(c);
                  auto answer = [reply, c, overlay](bool ok) {
                    if (!ok) {
                      reply.error(http::status::insufficient_storage, "STORE_FULL",
                                  "the contract applies but was not stored (the store is full); a restart loses it");
                      return;
                    }
                    reply.json(admin::json_of([&](admin::JsonWriter& w) {
                      write_contract(w, *c, ContractCounters::Totals{}, true, overlay != nullptr);
                    }));
                  };
                  if (overlay != nullptr) {
                    overlay->put(c->name(), std::move(stored), std::move(answer));
                  } else {
                    answer(true);
                  }
                  return summary;
                },
                [c, who](std::string summary) {
                  STRATA_INFO("admin") << who << ": applied contract " << c->name() << " v" << c->version() << " ("
                                       << summary << ")";
                });
          },
          "Add or replace a contract, kept in the store across restarts and reloads: "
          "{filter, schema|shape, action, version, ...}");
  api.add(http::verb::delete_, "/api/v1/contracts/{name}", Access::admin,
          [&api, &hook, overlay](const Request& req, Reply reply) {
            std::string name = req.param("name");
            std::string who = req.who();
            api.on_core<std::string>(
                0,
                [&hook, overlay, name, reply](core::Core&) {
                  std::string summary = hook.remove_contract(name);
                  if (summary.empty()) {
                    reply.error(Error::not_found("no contract '" + name + "'"));
                    return summary;
                  }
                  auto answer = [reply](bool ok) {
                    if (!ok) {
                      reply.error(http::status::insufficient_storage, "STORE_FULL",
                                  "the contract is removed but that was not stored (the store is full)");
                      return;
                    }
                    reply.send(admin::Response{http::status::no_content, "application/json", {}, {}});
                  };
                  if (overlay != nullptr) {
                    overlay->remove(name, std::move(answer));
                  } else {
                    answer(true);
                  }
                  return summary;
                },
                [name, who](std::string summary) {
                  if (summary.empty()) return;
                  STRATA_INFO("admin") << who << ": removed contract " << name << " (" << summary << ")";
                });
          },
          "Remove a contract, kept in the store across restarts and reloads");
  api.add(http::verb::post, "/api/v1/contracts/{name}/test", Access::viewer,
          [&hook](const Request& req, Reply reply) {
            // Body: {"samples": [payload text or JSON value, ...], "schema": {...}?, "shape": "..."?}
            // Without schema and shape, the loaded contract {name} is used.
            rapidjson::Document body = admin::parse_body(req);
            std::shared_ptr<const Contract> contract;
            if (body.HasMember("schema") || body.HasMember("shape")) {
              Shape shape = Shape::none;
              std::string s = admin::body_string(body, "shape", false, "none");
              auto it = std::find(std::begin(kShapeNames), std::end(kShapeNames), s);
              if (it == std::end(kShapeNames)) throw Error::bad_request("shape must be none, number or timeseries");
              shape = static_cast<Shape>(it - std::begin(kShapeNames));
              std::string schema = body.HasMember("schema") ? text(body["schema"]) : std::string();
              try {
                contract = std::make_shared<Contract>(req.param("name"), "#", "test", shape, schema);
              } catch (const std::invalid_argument& e) {
                throw Error::bad_request(std::string("schema: ") + e.what());
              }
            } else {
              for (const auto& [c, t] : hook.contract_totals_any_thread()) {
                if (c->name() == req.param("name")) contract = c;
              }
              if (!contract) throw Error::not_found("no contract '" + req.param("name") + "'");
            }
            if (!body.HasMember("samples") || !body["samples"].IsArray()) {
              throw Error::bad_request("samples must be an array of payloads");
            }
            reply.json(admin::json_of([&](admin::JsonWriter& w) {
              w.StartObject();
              w.Key("results");
              w.StartArray();
              for (const auto& sample : body["samples"].GetArray()) {
                std::string payload = sample.IsString() ? std::string(sample.GetString(), sample.GetStringLength()) : text(sample);
                rapidjson::Document doc;
                std::string error;
                bool ok = parse_json(payload, doc, error);
                auto f = contract->check(ok ? &doc : nullptr, error);
                w.StartObject();
                w.Key("valid");
                w.Bool(!f);
                if (f) {
                  w.Key("kind");
                  admin::write_string(w, kKindNames[static_cast<std::size_t>(f->kind)]);
                  w.Key("pointer");
                  admin::write_string(w, f->pointer);
                  w.Key("detail");
                  admin::write_string(w, f->detail);
                }
                w.EndObject();
              }
              w.EndArray();
              w.EndObject();
            }));
          },
          "Check sample payloads against a contract, or against the schema/shape in the body");
  api.add_metrics([&hook, snapshot](admin::MetricsWriter& m) {
    if (snapshot) {
      m.family("strata_uns_catalog_snapshots_total", "counter", "Catalog snapshots written to the store");
      m.sample("strata_uns_catalog_snapshots_total", snapshot->snapshots());
      m.family("strata_uns_catalog_restored_topics", "gauge", "Topics restored from the snapshot at start-up");
      m.sample("strata_uns_catalog_restored_topics", snapshot->restored());
      m.family("strata_uns_catalog_snapshot_damaged_total", "counter",
               "Damaged snapshot records skipped at start-up");
      m.sample("strata_uns_catalog_snapshot_damaged_total", snapshot->damaged());
    }
    m.family("strata_uns_contract_checks_total", "counter", "Contract checks by contract and result");
    for (const auto& [c, t] : hook.contract_totals_any_thread()) {
      m.sample("strata_uns_contract_checks_total", t.passed, {{"contract", c->name()}, {"result", "passed"}});
      m.sample("strata_uns_contract_checks_total", t.failed, {{"contract", c->name()}, {"result", "failed"}});
    }
    NamespaceHook::Totals t = hook.totals();
    m.family("strata_uns_catalog_topics", "gauge", "Topics in the catalog (summed over cores)");
    m.sample("strata_uns_catalog_topics", t.topics);
    m.family("strata_uns_catalog_evicted_total", "counter", "Topics evicted from the catalog at catalog_max_topics");
    m.sample("strata_uns_catalog_evicted_total", t.evicted);
    m.family("strata_uns_drift_events_total", "counter", "Schema drift events");
    m.sample("strata_uns_drift_events_total", t.drift_events);
    m.family("strata_uns_violations_total", "counter", "Violations by action");
    m.sample("strata_uns_violations_total", t.rejected, {{"action", "reject"}});
    m.sample("strata_uns_violations_total", t.redirected, {{"action", "redirect"}});
    m.sample("strata_uns_violations_total", t.observed, {{"action", "observe"}});
  });
}

}  // namespace strata::uns
