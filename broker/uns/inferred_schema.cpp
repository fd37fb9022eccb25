#include "broker/uns/inferred_schema.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "broker/protocol/wire.hpp"

namespace strata::uns {
namespace {

constexpr std::uint64_t kSeed = 0xcbf29ce484222325ULL;

std::uint64_t mix(std::uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

std::uint64_t hash_step(std::uint64_t h, const char* s, std::size_t n) {
  h ^= '/';
  h *= 0x100000001b3ULL;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(s[i]);
    h *= 0x100000001b3ULL;
  }
  return h;
}

std::uint8_t type_of(const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType: return t_null;
    case rapidjson::kFalseType:
    case rapidjson::kTrueType: return t_bool;
    case rapidjson::kStringType: return t_string;
    case rapidjson::kObjectType: return t_object;
    case rapidjson::kArrayType: return t_array;
    case rapidjson::kNumberType: return v.IsInt64() || v.IsUint64() ? t_integer : t_number;
  }
  return t_null;
}

std::uint8_t item_types(const rapidjson::Value& array) {
  std::uint8_t t = 0;
  for (const auto& item : array.GetArray()) t |= type_of(item);
  return t;
}

// Sum of one term per field: order independent.
std::uint64_t walk_hash(const rapidjson::Value& v, std::uint64_t path, std::uint8_t types, int depth) {
  std::uint64_t sum = mix(path ^ (std::uint64_t{types} << 56));
  if (depth > 64) return sum;
  if (v.IsObject()) {
    for (const auto& m : v.GetObject()) {
      sum += walk_hash(m.value, hash_step(path, m.name.GetString(), m.name.GetStringLength()), type_of(m.value),
                       depth + 1);
    }
  } else if (v.IsArray() && !v.Empty()) {
    sum += walk_hash(v[0], hash_step(path, "*", 1), item_types(v), depth + 1);
  }
  return sum;
}

void walk_fields(const rapidjson::Value& v, const std::string& path, std::uint8_t types, int depth,
                 std::vector<Field>& out) {
  out.push_back(Field{path, types});
  if (depth > 64) return;
  if (v.IsObject()) {
    for (const auto& m : v.GetObject()) {
      std::string name(m.name.GetString(), m.name.GetStringLength());
      // JSON pointer escaping (RFC 6901)
      std::string escaped;
      for (char c : name) escaped += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
      walk_fields(m.value, path + "/" + escaped, type_of(m.value), depth + 1, out);
    }
  } else if (v.IsArray() && !v.Empty()) {
    walk_fields(v[0], path + "/*", item_types(v), depth + 1, out);
  }
}

}  // namespace

std::string type_names(std::uint8_t types) {
  static constexpr const char* names[] = {"null", "bool", "integer", "number", "string", "object", "array", "binary"};
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (types & (1u << i)) {
      if (!out.empty()) out += '|';
      out += names[i];
    }
  }
  return out;
}

std::uint64_t shape_hash(const rapidjson::Value& v) {
  // Escaped names hash differently from the raw ones only for '~' and '/'
  // in keys, which is consistent between calls: fine for a fingerprint.
  return walk_hash(v, kSeed, type_of(v), 0);
}

InferredSchema infer(const rapidjson::Value& v) {
  InferredSchema s;
  s.hash = shape_hash(v);
  walk_fields(v, "", type_of(v), 0, s.fields);
  std::sort(s.fields.begin(), s.fields.end(), [](const Field& a, const Field& b) { return a.path < b.path; });
  return s;
}

std::uint8_t plain_kind(std::string_view payload) {
  if (payload == "true" || payload == "false") return t_bool;
  if (!payload.empty() && payload.size() < 64) {
    char buf[64];
    payload.copy(buf, payload.size());
    buf[payload.size()] = 0;
    char* end = nullptr;
    std::strtod(buf, &end);
    if (end == buf + payload.size() && !std::isspace(static_cast<unsigned char>(buf[0]))) return t_number;
  }
  return protocol::wire::valid_utf8(payload) ? t_string : t_binary;
}

std::uint64_t plain_hash(std::uint8_t kind) { return mix(0x9e3779b97f4a7c15ULL ^ kind); }

InferredSchema infer_plain(std::uint8_t kind) {
  InferredSchema s;
  s.hash = plain_hash(kind);
  s.fields.push_back(Field{"", kind});
  return s;
}

std::string describe_drift(const InferredSchema& before, const InferredSchema& after) {
  std::string out;
  auto shown = [](const std::string& path) { return path.empty() ? std::string("(root)") : path; };
  auto add = [&](const std::string& s) {
    if (!out.empty()) out += ", ";
    out += s;
  };
  std::size_t i = 0, j = 0;
  while (i < before.fields.size() || j < after.fields.size()) {
    if (j == after.fields.size() || (i < before.fields.size() && before.fields[i].path < after.fields[j].path)) {
      add("-" + shown(before.fields[i].path));
      ++i;
    } else if (i == before.fields.size() || after.fields[j].path < before.fields[i].path) {
      add("+" + shown(after.fields[j].path) + " (" + type_names(after.fields[j].types) + ")");
      ++j;
    } else {
      if (before.fields[i].types != after.fields[j].types) {
        add(shown(after.fields[j].path) + ": " + type_names(before.fields[i].types) + " -> " +
            type_names(after.fields[j].types));
      }
      ++i;
      ++j;
    }
  }
  return out;
}

}  // namespace strata::uns
