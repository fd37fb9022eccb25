// What the namespace learned of one message on the publishing core, carried
// on the message (router::Message::uns) for the hooks after it — the rules
// read `msg.uns` and `msg.json` from it without parsing the payload again.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

namespace strata::uns {

// A topic's place in an ISA-95 namespace: the value of each model level
// and the rest of the topic (the tag). Computed once per topic and core
// (kept in the catalog entry), shared by every message on that topic.
struct Placement {
  std::string ns;                                             // the namespace's prefix
  std::vector<std::pair<std::string, std::string>> levels;   // (level name, value), model order
  std::string tag;                                            // the levels after the model's; may be empty
};

struct Annotation {
  std::shared_ptr<const Placement> place;  // null: the topic is not governed (or breaks the model)
  bool parsed = false;                     // the payload was parsed: json or json_error is set
  bool json_ok = false;
  std::string json_error;                  // as rules' json.decode reports it
  rapidjson::Document json;
};

// Parses `text` as the rules do (iterative, nesting at most `max_depth`);
// false with `error` = "invalid JSON at offset N: reason" or a depth error.
bool parse_json(std::string_view text, rapidjson::Document& doc, std::string& error, int max_depth = 64);

// Deepest nesting of `v`, stopping as soon as it passes `limit`.
int json_depth(const rapidjson::Value& v, int limit, int depth = 0);

}  // namespace strata::uns
