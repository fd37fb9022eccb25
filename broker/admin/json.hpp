// JSON for handlers: RapidJSON's writer, the list convention and body parsing.
//
// Lists answer {"data":[...],"meta":{"page":P,"limit":L,"count":N,"hasnext":B}}
// where count is the number of items matching the filters (all pages) and
// page counts from 1. Paging::from() reads ?page= and ?limit= (default
// 100, at most 10,000) and throws Error(400) when they are not valid.
//
//   Paging p = Paging::from(req);
//   reply.json(page_json(p, items.size(), [&](JsonWriter& w, std::size_t i) {
//     w.StartObject(); w.Key("id"); w.String(items[i].id); w.EndObject();
//   }));
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "broker/admin/http.hpp"

namespace strata::admin {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

inline void write_string(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
inline void write_key(JsonWriter& w, std::string_view s) {
  w.Key(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

// Serializes what `fill` writes.
template <class Fill>
std::string json_of(Fill fill) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  fill(w);
  return std::string(buf.GetString(), buf.GetSize());
}

struct Paging {
  std::int64_t page = 1;
  std::int64_t limit = 100;
  static constexpr std::int64_t max_limit = 10000;
  static Paging from(const Request& req) {
    Paging p;
    p.page = req.int_arg("page", 1, 1, 1000000000);
    p.limit = req.int_arg("limit", 100, 1, max_limit);
    return p;
  }
  // Index of the first item on this page, and one past the last, of `count`.
  std::size_t begin(std::size_t count) const {
    auto b = static_cast<std::uint64_t>(page - 1) * static_cast<std::uint64_t>(limit);
    return b > count ? count : static_cast<std::size_t>(b);
  }
  std::size_t end(std::size_t count) const {
    auto e = static_cast<std::uint64_t>(page) * static_cast<std::uint64_t>(limit);
    return e > count ? count : static_cast<std::size_t>(e);
  }
};

// The list body for the items [p.begin(count), p.end(count)).
template <class Item>
std::string page_json(const Paging& p, std::size_t count, Item item) {
  return json_of([&](JsonWriter& w) {
    w.StartObject();
    w.Key("data");
    w.StartArray();
    for (std::size_t i = p.begin(count); i < p.end(count); ++i) item(w, i);
    w.EndArray();
    w.Key("meta");
    w.StartObject();
    w.Key("page");
    w.Int64(p.page);
    w.Key("limit");
    w.Int64(p.limit);
    w.Key("count");
    w.Uint64(count);
    w.Key("hasnext");
    w.Bool(p.end(count) < count);
    w.EndObject();
    w.EndObject();
  });
}

// The request body as a JSON object; Error(400) naming the offset of a
// syntax error, or when the body is not an object.
rapidjson::Document parse_body(const Request& req);

// Typed members of a parsed body; Error(400) naming the member when it
// has the wrong type, or (required) is missing.
std::string body_string(const rapidjson::Value& obj, const char* name, bool required,
                        std::string fallback = {});
std::int64_t body_int(const rapidjson::Value& obj, const char* name, std::int64_t fallback, std::int64_t lo,
                      std::int64_t hi);
bool body_bool(const rapidjson::Value& obj, const char* name, bool fallback);

}  // namespace strata::admin
