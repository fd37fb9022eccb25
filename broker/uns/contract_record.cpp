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
    // As a string: read back byte for byte (a re-serialized object could
    // print a long number differently from how it was parsed).
    w.Key("body");
    w.String(r.body->data(), static_cast<rapidjson::SizeType>(r.body->size()));
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
    if (!body->value.IsString()) return std::nullopt;
    std::string text(body->value.GetString(), body->value.GetStringLength());
    rapidjson::Document inner;
    std::string inner_error;
    if (!parse_json(text, inner, inner_error) || !inner.IsObject()) return std::nullopt;  // nesting bounded
    r.body = std::move(text);
    return r;
  }
  auto removed = o.FindMember("removed");
  if (removed == o.MemberEnd() || !removed->value.IsTrue()) return std::nullopt;
  return r;
}

}  // namespace strata::uns
