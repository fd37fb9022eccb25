// JSON <-> Lua (rules/lua_json.cpp) through a rule's json.encode/decode.
#include <gtest/gtest.h>

#include "tests/unit/rules/rule_vm_fixture.hpp"

namespace strata::rules {
namespace {

using LuaJsonTest = RuleVmFixture;

std::string eval(RuleVmFixture& f, const std::string& expr) {
  std::string src = "topics='#'\nfunction on_message(m)\n  local ok, v = pcall(function() local r = " + expr +
                    " return r end)\n  m.payload = ok and tostring(v) or ('error: ' .. v)\nend";
  EXPECT_EQ(f.load("t.lua", src), "");
  auto m = f.message("t", "");
  f.run(m);
  return std::string(m->payload);
}

TEST_F(LuaJsonTest, EncodesTablesArraysAndScalars) {
  EXPECT_EQ(eval(*this, R"(json.encode({b = 1, a = {1, 2, "x"}, c = {}, d = true, e = json.null}))"),
            R"({"a":[1,2,"x"],"b":1,"c":{},"d":true,"e":null})");
  EXPECT_EQ(eval(*this, "json.encode(1.5)"), "1.5");
  EXPECT_EQ(eval(*this, "json.encode(-3)"), "-3");
  EXPECT_EQ(eval(*this, R"(json.encode("a\"b\n"))"), R"("a\"b\n")");
  EXPECT_EQ(eval(*this, "json.encode({[1] = 'a', [3] = 'c'})"), R"({"1":"a","3":"c"})");
}

TEST_F(LuaJsonTest, EncodeErrors) {
  EXPECT_EQ(eval(*this, "json.encode(0/0)"),
            "error: t.lua:3: json.encode: cannot encode to JSON: the number is NaN or infinite");
  EXPECT_EQ(eval(*this, "json.encode({f = print})"),
            "error: t.lua:3: json.encode: cannot encode to JSON: a value is a function");
  EXPECT_EQ(eval(*this, "(function() local t = {} t.t = t return json.encode(t) end)()"),
            "error: t.lua:3: json.encode: cannot encode to JSON: nested deeper than 64 (a cycle?)");
}

TEST_F(LuaJsonTest, Decodes) {
  EXPECT_EQ(eval(*this, R"(json.decode('{"a":[1,2,{"b":"c"}],"n":null}').a[3].b)"), "c");
  EXPECT_EQ(eval(*this, R"(json.decode('{"a":[1,2,{"b":"c"}],"n":null}').n == json.null)"), "true");
  EXPECT_EQ(eval(*this, R"(select(2, json.decode('[1,')))"), "invalid JSON at offset 3: Invalid value.");
  EXPECT_EQ(eval(*this, R"(select(2, json.decode('1 2')))"),
            "invalid JSON at offset 2: The document root must not be followed by other values.");
  EXPECT_EQ(eval(*this, "select(2, json.decode(string.rep('[', 100) .. string.rep(']', 100)))"),
            "JSON nested deeper than 64");
  EXPECT_EQ(eval(*this, "select(2, json.decode(string.rep('[', 100000)))"),
            "invalid JSON at offset 100000: Invalid value.");
}

}  // namespace
}  // namespace strata::rules
