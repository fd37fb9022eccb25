#include "broker/admin/json.hpp"

#include <rapidjson/error/en.h>

namespace strata::admin {

rapidjson::Document parse_body(const Request& req) {
  rapidjson::Document d;
  if (req.body.empty()) throw Error::bad_request("the request needs a JSON body");
  d.Parse(req.body.data(), req.body.size());
  if (d.HasParseError()) {
    throw Error::bad_request(std::string("malformed JSON at offset ") + std::to_string(d.GetErrorOffset()) + ": " +
                             rapidjson::GetParseError_En(d.GetParseError()));
  }
  if (!d.IsObject()) throw Error::bad_request("the JSON body must be an object");
  return d;
}

std::string body_string(const rapidjson::Value& obj, const char* name, bool required, std::string fallback) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || it->value.IsNull()) {
    if (required) throw Error::bad_request(std::string("'") + name + "' is required");
    return fallback;
  }
  if (!it->value.IsString()) throw Error::bad_request(std::string("'") + name + "' must be a string");
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

std::int64_t body_int(const rapidjson::Value& obj, const char* name, std::int64_t fallback, std::int64_t lo,
                      std::int64_t hi) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || it->value.IsNull()) return fallback;
  if (!it->value.IsInt64() || it->value.GetInt64() < lo || it->value.GetInt64() > hi) {
    throw Error::bad_request(std::string("'") + name + "' must be an integer from " + std::to_string(lo) + " to " +
                             std::to_string(hi));
  }
  return it->value.GetInt64();
}

bool body_bool(const rapidjson::Value& obj, const char* name, bool fallback) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || it->value.IsNull()) return fallback;
  if (!it->value.IsBool()) throw Error::bad_request(std::string("'") + name + "' must be true or false");
  return it->value.GetBool();
}

}  // namespace strata::admin
