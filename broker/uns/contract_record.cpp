#include "broker/uns/contract_record.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "broker/uns/annotation.hpp"

namespace strata::uns {

std::string encode_contract_record(const ContractRecord& r) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  w.StartObject();
  w.Key("seq");
  w.Uint64(r.seq);
  if (r.body) {
    w.Key("body");
    w.RawValue(r.body->data(), r.body->size(), rapidjson::kObjectType);
  } else {
    w.Key("removed");
    w.Bool(true);
  }
  w.EndObject();
  return std::string(b.GetString(), b.GetSize());
}

std::optional<ContractRecord> decode_contract_record(std::string_view bytes) {
  rapidjson::Document d;
  std::string error;
  if (!parse_json(bytes, d, error) || !d.IsObject()) return std::nullopt;  // nesting bounded
  const rapidjson::Value& o = d;  // const iterators: their comparison is unambiguous in C++20
  auto seq = o.FindMember("seq");
  if (seq == o.MemberEnd() || !seq->value.IsUint64()) return std::nullopt;
  ContractRecord r;
  r.seq = seq->value.GetUint64();
  if (auto body = o.FindMember("body"); body != o.MemberEnd()) {
    if (!body->value.IsObject()) return std::nullopt;
    rapidjson::StringBuffer b;
    rapidjson::Writer<rapidjson::StringBuffer> w(b);
    body->value.Accept(w);
    r.body = std::string(b.GetString(), b.GetSize());
    return r;
  }
  auto removed = o.FindMember("removed");
  if (removed == o.MemberEnd() || !removed->value.IsTrue()) return std::nullopt;
  return r;
}

}  // namespace strata::uns
