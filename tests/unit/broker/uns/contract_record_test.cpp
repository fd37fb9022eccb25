// The stored API contracts' record (contract_record.cpp).
#include "broker/uns/contract_record.hpp"

#include <gtest/gtest.h>

namespace strata::uns {
namespace {

TEST(UnsContractRecord, RoundTripsPutAndRemoval) {
  ContractRecord put{7, std::string(R"({"filter":"plant9/#","version":3,"schema":{"type":"object"}})")};
  std::string bytes = encode_contract_record(put);
  EXPECT_EQ(bytes, R"({"seq":7,"body":"{\"filter\":\"plant9/#\",\"version\":3,\"schema\":{\"type\":\"object\"}}"})");
  auto back = decode_contract_record(bytes);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->seq, 7u);
  EXPECT_EQ(back->body, put.body);

  std::string removed = encode_contract_record(ContractRecord{8, std::nullopt});
  EXPECT_EQ(removed, R"({"seq":8,"removed":true})");
  back = decode_contract_record(removed);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->seq, 8u);
  EXPECT_FALSE(back->body);
}

TEST(UnsContractRecord, RefusesDamagedRecords) {
  for (const char* bad : {"", "{", "[]", R"({"body":{}})", R"({"seq":-1,"removed":true})", R"({"seq":"1","removed":true})",
                          R"({"seq":1})", R"({"seq":1,"removed":false})", R"({"seq":1,"body":"x"})",
                          R"({"seq":1,"body":{"filter":"a"})", R"({"seq":1,"body":{"filter":"a"}})",
                          R"({"seq":1,"body":"[1]"})", R"({"seq":1,"body":"{"})"}) {
    EXPECT_FALSE(decode_contract_record(bad)) << bad;
  }
  std::string deep = R"({"seq":1,"body":")" + std::string(100, '[') + std::string(100, ']') + "\"}";
  EXPECT_FALSE(decode_contract_record(deep));
}

// A long number is kept as written: the record reads back byte for byte
// (contract_fuzz found one that a re-serialized object printed differently).
TEST(UnsContractRecord, KeepsTheBodyByteForByte) {
  ContractRecord put{7, std::string(R"({"version":99999999969999999999999999999999999993, "action" : "reject"})")};
  auto back = decode_contract_record(encode_contract_record(put));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->body, put.body);
  EXPECT_EQ(encode_contract_record(*back), encode_contract_record(put));
}

}  // namespace
}  // namespace strata::uns
