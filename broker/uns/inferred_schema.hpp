// The schema the catalog infers from payloads: for JSON, every field path
// (a JSON pointer; array items as "*", whose types are those of all items
// and whose fields are those of the first) with its types; a plain payload
// is one root "field" of kind number, bool, string or binary.
//
// shape_hash() fingerprints that structure without allocating (the same
// set of paths and types in any member order gives the same hash), so a
// known topic's payload is checked against its current schema version with
// one walk of the parsed document; infer() builds the field list only when
// the hash is new — a new schema version, i.e. drift.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

namespace strata::uns {

enum TypeBit : std::uint8_t {
  t_null = 1, t_bool = 2, t_integer = 4, t_number = 8, t_string = 16, t_object = 32, t_array = 64, t_binary = 128,
};

// "integer|number" ...
std::string type_names(std::uint8_t types);

struct Field {
  std::string path;
  std::uint8_t types = 0;
  bool operator==(const Field&) const = default;
};

struct InferredSchema {
  std::uint64_t hash = 0;
  std::vector<Field> fields;  // sorted by path
};

std::uint64_t shape_hash(const rapidjson::Value& v);
InferredSchema infer(const rapidjson::Value& v);

// Plain (non-JSON) payloads: the kind of `payload` as a TypeBit.
std::uint8_t plain_kind(std::string_view payload);
std::uint64_t plain_hash(std::uint8_t kind);
InferredSchema infer_plain(std::uint8_t kind);

// What changed from `before` to `after`, as "+/a (number), -/b, /c: integer -> string".
std::string describe_drift(const InferredSchema& before, const InferredSchema& after);

}  // namespace strata::uns
