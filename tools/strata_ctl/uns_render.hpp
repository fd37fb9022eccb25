// The unified namespace's answers as text (pure, unit-tested): the tree of
// /api/v1/namespace as indented rows, catalog searches with readable rates
// and times, a topic's inferred fields, and the results of a contract test.
#pragma once

#include <cstdint>
#include <string>

#include <rapidjson/document.h>

#include "tools/strata_ctl/table.hpp"

namespace strata::ctl {

// A rate as two decimals ("0.25"); a non-number as "-".
std::string rate_text(const rapidjson::Value* v);

// Milliseconds since the epoch as "2026-12-06T11:59:29.123Z"; 0 or a
// non-number as "-".
std::string utc_text(const rapidjson::Value* v);

// A namespace node and its children ({"name","path","topics","messages",
// "rate_per_s","status","child_count","children":[...]}): one row per node,
// each level indented by two spaces; a node whose children were not asked
// for (depth) but has some ends in "/...".
Table tree_table(const rapidjson::Value& node);

// A catalog search ({"data":[...]}): TOPIC, MESSAGES, RATE/S, LAST SEEN, STATUS.
Table topics_table(const rapidjson::Value& body);

// An inferred schema ({"fields":{path:{"types","presence"}}}): FIELD, TYPES,
// PRESENCE (percent).
Table fields_table(const rapidjson::Value& schema);

// A contract test ({"results":[{"valid",...}]}) against its samples: SAMPLE,
// RESULT, KIND, POINTER, DETAIL. `failed` counts the invalid samples.
Table test_table(const rapidjson::Value& body, const std::vector<std::string>& samples, std::size_t& failed);

// The contracts' list ({"data":[...]}): NAME, VERSION, FILTER, CHECKS
// (shape or schema file), ACTION, MATCHED, PASSED, FAILED.
Table contracts_table(const rapidjson::Value& body);

}  // namespace strata::ctl
