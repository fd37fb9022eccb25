// The contract check on untrusted payloads: parse (bounded depth), every
// example contract's schema and shape, the inferred schema and its hash.
// Schemas come from the operator's config and are fixed here; what a
// client can send is the payload. The same bytes also go to the catalog
// snapshot's record decoder (a damaged store): it refuses them or decodes
// what encodes back to the same bytes (seeds snapshot_*; versions 1 and 2),
// and to the decoder of the stored API contracts (seeds api_contract_*).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "broker/uns/annotation.hpp"
#include "broker/uns/contract.hpp"
#include "broker/uns/contract_record.hpp"
#include "broker/uns/inferred_schema.hpp"
#include "broker/uns/snapshot_record.hpp"

namespace {

using strata::uns::Contract;
using strata::uns::Shape;

const std::vector<std::unique_ptr<Contract>>& contracts() {
  static const auto all = [] {
    std::vector<std::unique_ptr<Contract>> v;
    v.push_back(std::make_unique<Contract>("temperature", "#", "1", Shape::none, R"({
      "type": "object", "required": ["timestamp_ms", "value", "unit"],
      "properties": {"timestamp_ms": {"type": "integer"},
                     "value": {"type": "number", "minimum": -50, "maximum": 500, "multipleOf": 0.5},
                     "unit": {"enum": ["C", "F"]}, "sensor": {"type": "string", "pattern": "^[a-z]+-[0-9]{1,4}$"}},
      "additionalProperties": false})"));
    v.push_back(std::make_unique<Contract>("ts", "#", "1", Shape::timeseries, ""));
    v.push_back(std::make_unique<Contract>("number", "#", "1", Shape::number, ""));
    v.push_back(std::make_unique<Contract>("mixed", "#", "1", Shape::none, R"({
      "definitions": {"point": {"type": "array", "items": [{"type": "number"}, {"type": "number"}],
                                "additionalItems": false, "minItems": 2}},
      "oneOf": [{"type": "object", "patternProperties": {"^p[0-9]+$": {"$ref": "#/definitions/point"}},
                 "minProperties": 1, "maxProperties": 8, "dependencies": {"p1": ["p0"]}},
                {"type": "array", "uniqueItems": true, "maxItems": 16, "items": {"anyOf": [
                  {"type": "string", "minLength": 1, "maxLength": 32}, {"type": "boolean"},
                  {"not": {"type": "null"}}]}}]})"));
    return v;
  }();
  return all;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string payload(reinterpret_cast<const char*>(data), size);
  if (auto rec = strata::uns::decode_snapshot_record(payload)) {
    // The current version round-trips byte for byte; an older one is
    // written as the current version, which reads back to the same bytes.
    std::string again = strata::uns::encode_snapshot_record(*rec);
    if (payload[0] == strata::uns::kSnapshotVersion && again != payload) __builtin_trap();
    auto rec2 = strata::uns::decode_snapshot_record(again);
    if (!rec2 || strata::uns::encode_snapshot_record(*rec2) != again) __builtin_trap();
  }
  // The stored API contracts' records (uns_contracts): refused, or decoded
  // to what encodes and decodes back the same.
  if (auto rec = strata::uns::decode_contract_record(payload)) {
    std::string again = strata::uns::encode_contract_record(*rec);
    auto rec2 = strata::uns::decode_contract_record(again);
    if (!rec2 || rec2->seq != rec->seq || rec2->body != rec->body) __builtin_trap();
  }
  rapidjson::Document doc;
  std::string error;
  bool ok = strata::uns::parse_json(payload, doc, error);
  for (const auto& c : contracts()) (void)c->check(ok ? &doc : nullptr, error);
  if (ok) {
    strata::uns::InferredSchema s = strata::uns::infer(doc);
    if (s.hash != strata::uns::shape_hash(doc)) __builtin_trap();
    (void)strata::uns::describe_drift(s, strata::uns::infer_plain(strata::uns::plain_kind(payload)));
  } else {
    (void)strata::uns::plain_kind(payload);
  }
  return 0;
}
