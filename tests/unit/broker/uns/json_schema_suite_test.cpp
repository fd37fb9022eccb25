// The contract validator (RapidJSON's, draft-04) against the official JSON
// Schema Test Suite (Debian package json-schema-test-suite, tools/setup.sh):
// every case of every keyword README.md ("Unified namespace") says Strata
// supports. The few cases RapidJSON 1.1 gets wrong are listed below with
// the reason, so a change in them is noticed.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "broker/uns/contract.hpp"

namespace strata::uns {
namespace {

const std::filesystem::path kSuite = "/usr/share/json-schema-test-suite/tests/draft4";

// The keywords claimed in README.md, one suite file each.
const char* const kKeywords[] = {
    "additionalItems", "additionalProperties", "allOf",    "anyOf",     "default",      "definitions",
    "dependencies",    "enum",                 "items",    "maxItems",  "maxLength",    "maxProperties",
    "maximum",         "minItems",             "minLength", "minProperties", "minimum", "multipleOf",
    "not",             "oneOf",                "pattern",  "patternProperties", "properties", "ref",
    "required",        "type",                 "uniqueItems",
};

// "file: group description: test description" RapidJSON 1.1 answers wrongly
// (none at present).
const std::set<std::string> kKnownWrong = {};

// "file: group description" whose schema Strata refuses at load (README,
// "Unified namespace"): remote references, which a broker does not fetch,
// and patternProperties with additionalProperties false, on which RapidJSON
// 1.1 crashes.
const std::set<std::string> kRefused = {
    "additionalProperties: additionalProperties being false does not allow other properties",
    "additionalProperties: non-ASCII pattern with additionalProperties",
    "definitions: valid definition",
    "definitions: invalid definition",
    "ref: remote ref, containing refs itself",
    "ref: Recursive references between schemas",
};

std::string text(const rapidjson::Value& v) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  v.Accept(w);
  return b.GetString();
}

TEST(JsonSchemaTestSuite, Draft4KeywordsStrataClaims) {
  if (!std::filesystem::exists(kSuite)) GTEST_SKIP() << kSuite << " is missing: run tools/setup.sh";
  int cases = 0;
  std::size_t refused = 0;
  std::vector<std::string> wrong;
  for (const char* keyword : kKeywords) {
    std::ifstream in(kSuite / (std::string(keyword) + ".json"));
    ASSERT_TRUE(in) << keyword;
    std::stringstream s;
    s << in.rdbuf();
    rapidjson::Document groups;
    groups.Parse(s.str().c_str());
    ASSERT_TRUE(groups.IsArray()) << keyword;
    for (const auto& group : groups.GetArray()) {
      std::string gname = group["description"].GetString();
      std::unique_ptr<Contract> contract;
      try {
        contract = std::make_unique<Contract>("suite", "#", "1", Shape::none, text(group["schema"]));
      } catch (const std::exception& e) {
        if (!kRefused.count(std::string(keyword) + ": " + gname)) {
          wrong.push_back(std::string(keyword) + ": " + gname + ": (schema refused: " + e.what() + ")");
        }
        ++refused;
        continue;
      }
      for (const auto& test : group["tests"].GetArray()) {
        ++cases;
        std::string name = std::string(keyword) + ": " + gname + ": " + test["description"].GetString();
        bool valid = !contract->check(&test["data"], "");
        bool want = test["valid"].GetBool();
        if ((valid != want) != (kKnownWrong.count(name) > 0)) wrong.push_back(name + (valid ? " (accepted)" : " (refused)"));
      }
    }
  }
  EXPECT_GT(cases, 200);
  EXPECT_EQ(refused, kRefused.size());
  std::string all;
  for (const auto& w : wrong) all += "  \"" + w + "\",\n";
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " cases differ:\n" << all;
}

}  // namespace
}  // namespace strata::uns
