// Reading the catalog: merge the cores' catalogs, then answer the API's
// questions as RapidJSON documents (GET /api/v1/namespace, /topics,
// /topics/{topic}, /topics/{topic}/schema, /contracts/violations). Pure
// functions of the merged view, tested without a broker; the admin server
// gathers a MergedCatalog by posting merge_into() to every core in turn.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "broker/uns/catalog.hpp"

namespace strata::uns {

struct Rules;

struct MergedTopic {
  std::uint64_t first_ms = 0, last_ms = 0, count = 0, violations = 0;
  double rate_per_s = 0, rate_per_min = 0;
  std::uint32_t size = 0;
  std::uint8_t qos = 0, kind = 0;
  bool retain = false, truncated = false;
  std::string value, publisher;
  LastProperties properties;
  std::vector<SchemaVersion> versions;
  std::uint32_t current = 0;
  std::shared_ptr<const Placement> place;
  std::shared_ptr<const std::string> model_error;
  std::vector<std::string> contracts;  // "name vVERSION"
  std::optional<ViolationRecord> last_violation;
  bool violating() const { return last_violation.has_value() && last_violation->at_ms + 0 >= last_ms; }
};

struct MergedCatalog {
  std::map<std::string, MergedTopic> topics;
  std::uint64_t evicted = 0;
};

// Adds one core's catalog (call on that core's thread). `rules` names the
// contracts of the entries' cached indexes.
void merge_into(MergedCatalog& out, const Catalog& catalog, const Rules& rules, std::uint64_t now_ms);

// Adds `from` (another core's merged catalog) into `into`.
void merge_catalogs(MergedCatalog& into, MergedCatalog&& from);

// GET /api/v1/namespace?path=P&depth=D: the tree below `path` (all topics
// when empty), each node with its topic count, messages, rate, last seen
// and status (worst of the subtree); children paged by offset/limit.
rapidjson::Document query_tree(const MergedCatalog& c, const std::string& path, unsigned depth, std::size_t offset,
                               std::size_t limit);

struct TopicQuery {
  std::string match;     // MQTT filter
  std::string q;         // substring
  std::string regex;     // ECMAScript
  std::string contract;  // name
  std::string status;    // "ok" | "violating" | ""
  std::uint64_t stale_s = 0;  // not seen for at least this long
  std::size_t offset = 0, limit = 100;
};
// GET /api/v1/topics?...: throws std::invalid_argument on a bad regex or filter.
rapidjson::Document query_topics(const MergedCatalog& c, const TopicQuery& q, std::uint64_t now_ms);
// GET /api/v1/topics/{topic}: nullopt when unknown.
std::optional<rapidjson::Document> query_topic(const MergedCatalog& c, const std::string& topic);
// GET /api/v1/topics/{topic}/schema[?as=contract]
std::optional<rapidjson::Document> query_schema(const MergedCatalog& c, const std::string& topic, bool as_contract);
// GET /api/v1/contracts/violations: latest first.
rapidjson::Document query_violations(const std::vector<const std::deque<ViolationRecord>*>& cores, std::size_t offset,
                                     std::size_t limit);

}  // namespace strata::uns
