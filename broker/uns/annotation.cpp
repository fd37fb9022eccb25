#include "broker/uns/annotation.hpp"

#include <algorithm>

#include <rapidjson/error/en.h>

namespace strata::uns {

int json_depth(const rapidjson::Value& v, int limit, int depth) {
  if (depth > limit) return depth;
  int deepest = depth;
  if (v.IsArray()) {
    for (const auto& item : v.GetArray()) {
      deepest = std::max(deepest, json_depth(item, limit, depth + 1));
      if (deepest > limit) break;
    }
  } else if (v.IsObject()) {
    for (const auto& m : v.GetObject()) {
      deepest = std::max(deepest, json_depth(m.value, limit, depth + 1));
      if (deepest > limit) break;
    }
  }
  return deepest;
}

bool parse_json(std::string_view text, rapidjson::Document& doc, std::string& error, int max_depth) {
  // Iterative parsing: a payload of a million '[' must not overflow the
  // core thread's stack.
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError()) {
    error = "invalid JSON at offset " + std::to_string(doc.GetErrorOffset()) + ": " +
            rapidjson::GetParseError_En(doc.GetParseError());
    return false;
  }
  if (json_depth(doc, max_depth) > max_depth) {
    error = "JSON nested deeper than " + std::to_string(max_depth);
    doc.SetNull();
    return false;
  }
  return true;
}

}  // namespace strata::uns
